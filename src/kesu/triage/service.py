"""Triage of a text: what it is about, how risky, what it contains, whether it is valid.

Puts the pure parts together (classifier, signals, extraction, validity) and
adds what needs the database: a repeat complaint from the same phone in the
same category within the configured window.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, select

from kesu.accounts import crypto, masking
from kesu.accounts.roles import Actor, as_principal, require
from kesu.problems import Problem
from kesu.store import tables as t
from kesu.store.db import read
from kesu.triage import model, similar
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
        for code, evidence in _history_flags(
            rt, None, p.category, customer_phone, city, province
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

    found = law.list_cases(rt, q=text, limit=3)["results"]
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


def on_arrival(
    rt: Runtime, data: Mapping[str, Any], conn=None
) -> tuple[dict[str, Any], dict | None]:
    """What triage adds to a complaint being registered.

    A missing category is filled from the classifier when it is confident
    enough; risk flags are raised from the text and from the database (repeat,
    mass incident) and added to those given. Returns the completed input and
    the record for the registration event (None when triage added nothing).
    """
    out = dict(data)
    record: dict[str, Any] = {}
    text = "\n".join(x for x in (data.get("title"), data["description"]) if x)
    if not data.get("category"):
        try:
            clf = model.shipped()
        except model.ModelMissing:
            clf = None
        if clf is not None:
            [p] = clf.predict([text])
            out["category"] = None if p.needs_review else p.category
            record.update(
                category=out["category"],
                suggested=p.category,
                confidence=p.confidence,
                automatic=True,
                needs_review=p.needs_review,
                model=clf.meta["version"],
            )
    raised = {s.code: list(s.evidence) for s in detect(text)}
    customer = data.get("customer") or {}
    if out.get("category"):
        raised.update(
            _history_flags(
                rt,
                conn,
                out["category"],
                customer.get("phone"),
                customer.get("city"),
                customer.get("province"),
            )
        )
    given = set(data.get("risk_flags") or ())
    added = {code: ev for code, ev in raised.items() if code not in given}
    if added:
        out["risk_flags"] = sorted(given | set(added))
        # Evidence is quoted text: the event keeps it masked (it is never anonymised later).
        record["flags"] = [
            {"code": c, "evidence": masking.deep_text(ev)} for c, ev in sorted(added.items())
        ]
    return out, record or None


def _recent_same(conn, now, phone: str, category: str) -> list[str]:
    days = model.config().get("repeat_days", 30)
    c = t.complaints.c
    return list(
        conn.execute(
            select(c.number)
            .where(
                c.customer_phone_hash == crypto.phone_hash(phone),
                c.category == category,
                c.received_at >= now - timedelta(days=days),
            )
            .order_by(c.received_at.desc())
            .limit(5)
        ).scalars()
    )


def _mass_incident(conn, now, category: str, city: str | None, province: str | None) -> list[str]:
    """Evidence of many complaints of one category from one place in a short window."""
    cfg = model.config().get("mass_incident") or {}
    window = timedelta(hours=cfg.get("window_hours", 6))
    c = t.complaints.c
    place = c.customer_city == city if city else c.customer_province == province
    n = conn.execute(
        select(func.count())
        .select_from(t.complaints)
        .where(c.category == category, place, c.received_at >= now - window)
    ).scalar_one()
    if n + 1 < cfg.get("min_complaints", 5):
        return []
    hours = window.total_seconds() / 3600
    return [f"近{hours:g}小时{city or province}同类投诉{n}件（含本件共{n + 1}件）"]


def _history_flags(
    rt: Runtime,
    conn,
    category: str,
    phone: str | None,
    city: str | None,
    province: str | None,
) -> dict[str, list[str]]:
    """repeat and mass_incident, read on `conn` (or in a read transaction of their own)."""
    if not (phone or city or province):
        return {}
    if conn is None:
        with read(rt.engine) as own:
            return _history_flags(rt, own, category, phone, city, province)
    now = rt.clock()
    out = {}
    if phone and (repeat := _recent_same(conn, now, phone, category)):
        out["repeat"] = repeat
    if (city or province) and (mass := _mass_incident(conn, now, category, city, province)):
        out["mass_incident"] = mass
    return out
