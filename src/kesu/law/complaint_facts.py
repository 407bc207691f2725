"""What the law slice reads of a complaint: its row, its facts and its deadlines.

The one place the law slice asks the complaints and deadlines slices about a complaint, for the
obligations, the reply drafts and the promotion of a complaint to a case. The
row is looked up in the caller's scope: a complaint they may not see is "not
found", as in the complaints slice.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from kesu.accounts.roles import Principal
from kesu.complaints import queries
from kesu.complaints import vocabulary as vocab
from kesu.deadlines import service as deadline_rows
from kesu.law import obligations as ob
from kesu.problems import Problem
from kesu.triage.extract import extract


@dataclass(frozen=True)
class ComplaintFacts:
    row: Any  # the complaint's row (complaints table)
    facts: ob.Facts  # what the obligation rules are evaluated over
    deadlines: dict[str, Any]  # rule id → the complaint's deadline row for it


def complaint_facts(conn, number: str, p: Principal | None = None) -> ComplaintFacts:
    """The complaint `number` as the law slice needs it; 404 when `p` may not see it."""
    row = queries.find(conn, number)
    if row is None or (p is not None and not queries.visible(row, p)):
        raise Problem(404, "complaint_not_found", "Not found", f"投诉单 {number} 不存在。")
    deadlines = {d.rule: d for d in deadline_rows.for_complaints(conn, [row.id])[row.id]}
    text = " ".join(x for x in (row.title, row.description, row.demands) if x)
    durations = tuple(
        float(d["hours"]) for d in extract(text)["durations"] if d.get("hours") is not None
    )
    facts = ob.Facts(
        category=row.category,
        kind=row.kind,
        text=text,
        flags=frozenset(row.risk_flags or ()),
        province=row.customer_province,
        area=row.customer_area or "urban",
        channel_level=row.channel_level,
        durations_hours=durations,
        deadlines={rule: bool(d.breached) for rule, d in deadlines.items()},
        category_name=vocab.CATEGORIES.get(row.category or "", {}).get("name"),
    )
    return ComplaintFacts(row, facts, deadlines)
