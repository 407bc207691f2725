"""Supervisors' daily digest: once a Beijing day, after the hour set by
`KESU_DIGEST_HOUR` (default 8), each team lead who switched it on (the `daily_digest`
kind of staff notices, off until asked for) is told the state of their team: open
complaints, overdue, due within a day, waiting for approval, received and closed
yesterday, and the most overdue numbers. It is a staff notice and, where the user has an
address, an email.

The figures are the complaint slice's own counts as the supervisor may see them
(complaints.queries), never read from its tables here. A digest is claimed by inserting
(user, day) into staff_digests in the transaction that tells the user, so with several
workers each supervisor gets one digest a day.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import insert, select
from sqlalchemy.exc import IntegrityError

from kesu.accounts import team_store
from kesu.accounts.roles import for_role
from kesu.channels import staff_notices
from kesu.clock import BEIJING, as_utc
from kesu.complaints import queries
from kesu.store import tables as t
from kesu.store.db import read, write

if TYPE_CHECKING:
    from kesu.runtime import Runtime

KIND = "daily_digest"
D = t.staff_digests.c


def _principal(user: Any):
    return for_role(user.username, user.role, kind="user")


def figures(rt: Runtime, user: Any, now: datetime) -> dict[str, Any]:
    """The team's figures as `user` may see them (all teams when the user has none)."""
    p = _principal(user)
    team = {"team": [user.team]} if user.team else {}
    today = datetime.combine(now.astimezone(BEIJING).date(), time(0), tzinfo=BEIJING)
    yesterday = {"received_from": as_utc(today - timedelta(days=1)), "received_to": as_utc(today)}

    def n(**f: Any) -> int:
        return queries.count(rt, {**team, **f}, p)

    worst = queries.list_complaints(rt, {**team, "overdue": True, "sort": "due", "limit": 5}, p)
    return {
        "open": n(open=True),
        "overdue": n(overdue=True),
        "due_soon": n(due_within=timedelta(hours=24)),
        "awaiting_approval": n(awaiting_approval=True),
        "received_yesterday": n(**yesterday),
        "closed_yesterday": n(status=["closed"], **yesterday),
        "most_overdue": [c["number"] for c in worst["items"]],
    }


def text_of(day: str, team: str | None, f: dict[str, Any]) -> str:
    who = f"班组“{team}”" if team else "全部班组"
    lines = [
        f"{day} 每日摘要（{who}）：",
        f"在办 {f['open']} 件，其中已超期 {f['overdue']} 件、24 小时内到期 {f['due_soon']} 件；",
        f"待审批 {f['awaiting_approval']} 件；",
        f"昨日受理 {f['received_yesterday']} 件（其中已办结 {f['closed_yesterday']} 件）。",
    ]
    if f["most_overdue"]:
        lines.append("超期最久的：" + "、".join(f["most_overdue"]) + "。")
    return "\n".join(lines)


def _wanting(rt: Runtime) -> list[Any]:
    with read(rt.engine) as conn:
        leads = team_store.with_roles(conn, staff_notices.LEADS)
        return [u for u in leads if not staff_notices.prefs(conn, u.username)[KIND]["off"]]


def send_due(rt: Runtime) -> list[str]:
    """Send today's digests not yet sent (after the digest hour); who got one now."""
    now = rt.clock()
    local = now.astimezone(BEIJING)
    if local.hour < rt.settings.digest_hour:
        return []
    day = local.date().isoformat()
    sent: list[str] = []
    for user in _wanting(rt):
        with read(rt.engine) as conn:
            done = conn.execute(
                select(D.username).where(D.username == user.username, D.day == day)
            ).first()
        if done:
            continue
        text = text_of(day, user.team, figures(rt, user, now))
        try:
            with write(rt.engine) as conn:
                conn.execute(
                    insert(t.staff_digests).values(username=user.username, day=day, sent_at=now)
                )
                staff_notices.tell(
                    conn,
                    now,
                    rt.settings.public_url,
                    KIND,
                    [user],
                    None,
                    text,
                    "/workbench",
                    f"[kesu] {day} 每日摘要",
                )
        except IntegrityError:  # another worker sent it first
            continue
        sent.append(user.username)
    return sent
