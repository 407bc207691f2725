"""Mass incidents at registration, in the registration's write transaction.

`check` runs where triage reads the history (triage.arrival.history_flags): first the
cell's open incident, or one closed within the window (a point query on the small
incidents table); only when there is neither, one aggregate query
(complaints.lookups.place_counts) for the spike decision. A cell whose incident was
closed within the window decides nothing (the tail of the burst just closed would open
a second incident). `settle` runs after the complaint's insert: the complaint joins
the open incident, or a spike opens one (at most one open per cell: a unique partial
index; a registration that loses the race joins the winner's), links the window's
complaints and tells the supervisors.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import datetime, timedelta
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection

from kesu.accounts import team_store
from kesu.accounts.roles import roles
from kesu.channels import staff_notices
from kesu.clock import to_beijing
from kesu.complaints import events, lookups
from kesu.complaints import vocabulary as vocab
from kesu.incidents import records, spikes

if TYPE_CHECKING:
    from kesu.runtime import Runtime

MANAGE = "incident.manage"


def label(category: str, area: str) -> str:
    """A cell as people say it: 郑州市·网络质量."""
    return f"{area}·{vocab.CATEGORIES.get(category, {}).get('name', category)}"


@dataclass(frozen=True)
class Verdict:
    """What a complaint of this cell finds at registration: an open incident to join,
    or a spike decision (which may open one)."""

    category: str
    area_kind: str
    area: str
    city: str | None
    province: str | None
    joins: Any = None  # the open incident's row
    decision: spikes.Decision | None = None

    def evidence(self) -> list[str]:
        """The mass_incident flag's evidence (empty: no flag)."""
        if self.joins is not None:
            return [
                f"{label(self.category, self.area)}有进行中的群体性事件（第{self.joins.id}号，"
                f"{_beijing(self.joins.opened_at)}开启），本件并入该事件。"
            ]
        if self.decision is not None and self.decision.spike:
            return [self.decision.explanation]
        return []


def _beijing(at: datetime) -> str:
    return to_beijing(at).strftime("%m-%d %H:%M")


def check(
    conn: Connection,
    now: datetime,
    category: str,
    city: str | None,
    province: str | None,
    *,
    lock: bool = False,
) -> Verdict | None:
    """The cell's open incident, else the spike decision for a complaint arriving now."""
    place = spikes.cell(city, province)
    if place is None:
        return None
    kind, area = place
    base = Verdict(category, kind, area, city, province)
    prm = spikes.params()
    start = now - prm.window
    open_now, closed = records.in_cell(conn, category, kind, area, start, lock=lock)
    if open_now is not None:
        return _with(base, joins=open_now)
    if closed is not None:
        return None  # just closed: the same burst's tail opens no second incident
    in_window, in_baseline, earliest = lookups.place_counts(
        conn, category, city, province, start, start - timedelta(days=prm.baseline_days), now
    )
    counts = spikes.Counts(in_window, in_baseline, earliest)
    return _with(base, decision=spikes.decide(counts, now, label(category, area), prm))


def _with(v: Verdict, **changes) -> Verdict:
    return dataclasses.replace(v, **changes)


def settle(rt: Runtime, conn: Connection, row: Any, v: Verdict, now: datetime, actor: str):
    """After the complaint's insert: join the open incident or open one on a spike.
    Returns the incident's id, or None."""
    if v.joins is not None:
        return _join(conn, v.joins.id, row, now, actor)
    if v.decision is None or not v.decision.spike:
        return None
    d = v.decision
    start = now - timedelta(hours=d.window_hours)
    iid = records.create(
        conn,
        {
            "category": v.category,
            "area_kind": v.area_kind,
            "area": v.area,
            "opened_at": now,
            "window_start": start,
            "opened_by": row.number,
            "decision": d.as_dict(),
            "explanation": d.explanation,
        },
    )
    if iid is None:  # opened by a concurrent registration of the same cell: join it
        winner = records.open_in_cell(conn, v.category, v.area_kind, v.area, lock=True)
        return None if winner is None else _join(conn, winner.id, row, now, actor)
    window = lookups.in_place_since(conn, v.category, v.city, v.province, start)
    numbers = records.link(conn, iid, [(c.id, c.number) for c in window], now, "window")
    records.record(
        conn, iid, now, "opened", actor, d.explanation, {"complaints": numbers, "by": row.number}
    )
    for c in window:
        _on_complaint(conn, c.id, iid, now, actor)
    _tell_supervisors(rt, conn, iid, v, d, len(numbers), now)
    return iid


def _join(conn: Connection, iid: int, row: Any, now: datetime, actor: str) -> int:
    if records.link(conn, iid, [(row.id, row.number)], now, "joined"):
        records.record(conn, iid, now, "joined", actor, None, {"complaint": row.number})
        _on_complaint(conn, row.id, iid, now, actor)
    return iid


def _on_complaint(conn: Connection, complaint_id: int, iid: int, now: datetime, actor: str):
    events.record_event(
        conn, SimpleNamespace(id=complaint_id), now, "incident_linked", actor, {"incident": iid}
    )


def managers() -> list[str]:
    """The roles that may approve the message and close an incident (roles.yaml)."""
    return [code for code, r in roles().items() if MANAGE in r.get("permissions", ())]


def _tell_supervisors(rt, conn, iid: int, v: Verdict, d: spikes.Decision, n: int, now) -> None:
    users = team_store.with_roles(conn, managers())
    text = (
        f"群体性事件（第{iid}号）：{label(v.category, v.area)}近{d.window_hours:g}小时"
        f"投诉{d.k}件，已关联{n}件投诉。{d.explanation}"
    )
    staff_notices.tell(
        conn,
        now,
        rt.settings.public_url,
        "incident_opened",
        users,
        None,
        text,
        path=f"/incidents/{iid}",
        subject=f"[群体性事件] {label(v.category, v.area)}",
    )
