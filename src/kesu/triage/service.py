"""Triage of a text: what it is about, how risky, what it contains, whether it is valid.

Puts the pure parts together (classifier, signals, extraction, validity) and
adds what needs the database: a repeat complaint from the same phone in the
same category within the configured window.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from kesu.accounts import masking
from kesu.accounts.roles import Actor, as_principal, require
from kesu.problems import Problem
from kesu.triage import model, similar
from kesu.triage.arrival import history_flags
from kesu.triage.extract import extract
from kesu.triage.signals import detect
from kesu.triage.validity import suggest

if TYPE_CHECKING:
    from kesu.runtime import Runtime


def triage(
    rt: Runtime,
    text: str,
    customer_phone: str | None = None,
    city: str | None = None,
    province: str | None = None,
    k: int = 5,
    actor: Actor = "system",
) -> dict[str, Any]:
    """What a text is about and how risky; personal data in the answer is masked."""
    require(as_principal(actor), "triage.use")
    try:
        clf = model.shipped()
    except model.ModelMissing as err:
        raise Problem(503, "model_missing", "No model", str(err)) from None
    [p] = clf.predict([text])
    flags = [{"code": s.code, "evidence": list(s.evidence)} for s in detect(text)]
    extracted = extract(text)
    if not p.needs_review:
        for code, evidence in history_flags(
            rt, None, p.category, customer_phone, city, province, kind=p.kind or "complaint"
        ).items():
            flags.append({"code": code, "evidence": evidence})
    has_contact = bool(customer_phone or extracted["phones"])
    return _masked(
        {
            "category": None if p.needs_review else p.category,
            "needs_review": p.needs_review,
            "confidence": p.confidence,
            "alternatives": [{"category": c, "score": s} for c, s in p.alternatives],
            "kind": p.kind,
            "kind_confidence": p.kind_confidence,
            "flags": flags,
            "extracted": extracted,
            "validity": [
                {"reason": s.reason, "evidence": s.evidence}
                for s in suggest(text, has_contact=has_contact)
            ],
            "similar": similar.index_for(rt, clf).query(rt, text, k) if k else [],
            "similar_cases": _similar_cases(rt, text, None if p.needs_review else p.category),
            "model": clf.meta["version"],
        }
    )


def _masked(answer: dict[str, Any]) -> dict[str, Any]:
    answer["flags"] = masking.deep_text(answer["flags"])
    ex = dict(answer["extracted"])
    ex["phones"] = [masking.phone(x) for x in ex["phones"]]
    ex["accounts"] = [masking.account(x) for x in ex["accounts"]]
    ex["products"] = [masking.text(x) for x in ex["products"]]
    answer["extracted"] = ex
    answer["validity"] = masking.deep_text(answer["validity"])
    answer["similar"] = masking.deep_text(answer["similar"])
    return answer


def _similar_cases(rt: Runtime, text: str, category: str | None) -> list[dict[str, Any]]:
    """The case library's closest cases (title, outcome, articles) for a text."""
    from kesu.law import library as law
    from kesu.law.search import MAX_QUERY

    # The case search takes a query, not a whole complaint: its opening words suffice.
    found = law.list_cases(rt, q=text[:MAX_QUERY], limit=3)["results"]
    return [
        {
            "id": c["id"],
            "title": c["title"],
            "source_name": c["source_name"],
            "category": c["category"],
            "same_category": c["category"] == category,
            "articles": [a["citation"] for a in c["articles"]],
            "outcome": c["outcome"],
            "score": c["score"],
        }
        for c in found
    ]
