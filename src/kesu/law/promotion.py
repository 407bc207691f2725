"""Promotion: a closed complaint added to the case library, personal data stripped.

Its own module because it writes on the complaint (an event) as well as the
library: reading the case library (law/library.py) stays free of the
complaints slice.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from sqlalchemy import insert, select

from kesu.accounts.audit import audit
from kesu.accounts.roles import Actor, as_principal, require
from kesu.clock import BEIJING
from kesu.complaints import vocabulary as vocab
from kesu.complaints.events import record_event
from kesu.law import cases as case_data
from kesu.law import obligations as ob
from kesu.law.citations import CitationError
from kesu.law.complaint_facts import complaint_facts
from kesu.law.index_store import state
from kesu.law.library import get_case
from kesu.problems import Problem
from kesu.store import tables as t
from kesu.store.db import write

if TYPE_CHECKING:
    from kesu.runtime import Runtime


def promote(rt: Runtime, number: str, body: Mapping[str, Any], actor: Actor) -> dict[str, Any]:
    """Add a closed complaint to the case library, personal data stripped; quality staff
    may mark it a good or bad example (`verdict`), with its lesson (`lessons`)."""
    p = as_principal(actor)
    require(p, "case.promote")
    st = state(rt)
    now = rt.clock()
    verdict = body.get("verdict")
    if verdict is not None and verdict not in case_data.VERDICTS:
        raise Problem(
            422,
            "unknown_verdict",
            "Unknown verdict",
            f"未知的案例评价“{verdict}”，可选：{'、'.join(case_data.VERDICTS)}",
        )
    if verdict is not None and not [x for x in body.get("lessons") or [] if str(x).strip()]:
        raise Problem(
            422,
            "lesson_required",
            "Lesson required",
            "作为正面或反面案例收入时，请写明教训或要点。",
        )
    citations = []
    for c in body.get("articles") or []:
        try:
            ref = st.corpus.resolve(c)
        except CitationError as err:
            raise Problem(
                422,
                f"citation_{err.code}",
                "Citation not held",
                f"{err}。案例只能引用系统已收录原文的条文。",
            ) from None
        citations.append({"citation": st.corpus.format(ref), "id": ref.id, "why": None})
    with write(rt.engine) as conn:
        found = complaint_facts(conn, number, p)
        row = found.row
        if row.status != "closed":
            raise Problem(
                409,
                "case_needs_closed_complaint",
                "Not closed",
                f"投诉单 {number} 尚未归档（当前状态：{vocab.STATUSES[row.status]['name']}），"
                "只有已归档的投诉可以收入案例库。",
            )
        if conn.execute(
            select(t.law_cases.c.id).where(t.law_cases.c.complaint_number == number)
        ).first():
            raise Problem(
                409, "case_exists", "Already in the library", f"投诉单 {number} 已收入案例库。"
            )
        if not citations:
            seen: set[str] = set()
            for a in ob.evaluate(st.obligations, found.facts):
                for c in a.rule.articles:
                    ref = st.corpus.resolve(c)
                    if ref.id not in seen and len(citations) < 4:
                        seen.add(ref.id)
                        citations.append(
                            {"citation": st.corpus.format(ref), "id": ref.id, "why": a.rule.title}
                        )
        names = [n for n in (row.customer_name,) if n]
        extra = [x for x in (row.customer_phone, row.customer_account) if x]

        def clean(text: str | None) -> str:
            return case_data.scrub(text or "", names=names, extra=extra)

        outcome = body.get("outcome") or row.resolution or "【请补充处理结果】"
        if row.compensation:
            outcome = f"{outcome}（补偿 {Decimal(row.compensation):.2f} 元）"
        case = {
            "id": f"cmp-{number}",
            "source": "promoted",
            "title": clean(body.get("title") or row.title or row.description[:30]),
            "category": row.category or "other",
            "province": row.customer_province,
            "court": None,
            "case_no": None,
            "date": row.closed_at.astimezone(BEIJING).date().isoformat() if row.closed_at else None,
            "facts": clean(body.get("facts") or row.description),
            "articles": citations,
            "outcome": clean(outcome),
            "lessons": [clean(x) for x in body.get("lessons") or []],
            "tags": [clean(x) for x in body.get("tags") or []],
            "complaint_number": number,
            "created_at": now,
            "created_by": p.name,
            "verdict": verdict,
        }
        conn.execute(insert(t.law_cases).values(**case))
        audit(conn, p, now, "case.promote", "complaint", number, {"case": case["id"]})
        record_event(conn, row, now, "promoted_to_case", p.name, {"case": case["id"]})
    st.cases_checked = 0.0  # this process sees the new case at once; others within CHECK_TTL
    return get_case(rt, case["id"])
