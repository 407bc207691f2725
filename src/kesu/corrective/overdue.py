"""Overdue corrective actions: once a Beijing day has passed an action's due date while it
is still open or in progress, its owner is told (a staff notice, `action_overdue`) and the
history says so. Each action is told once per due date: a conditional UPDATE claims it
(`overdue_told_at IS NULL`), so with several workers the owner hears it once. Run by the
worker's periodic loop (kesu worker, and the embedded watcher's housekeeping).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import select, update

from kesu.accounts import team_store
from kesu.channels import staff_notices
from kesu.corrective import lifecycle
from kesu.corrective.service import A, _event, today
from kesu.store import tables as t
from kesu.store.db import write

if TYPE_CHECKING:
    from kesu.runtime import Runtime


def tell_overdue(rt: Runtime) -> list[int]:
    """Tell the owners of the actions that became overdue; the ids told."""
    now, day = rt.clock(), today(rt)
    told: list[int] = []
    with write(rt.engine) as conn:
        due = conn.execute(
            select(A.id, A.title, A.owner, A.due_on, A.state).where(
                A.state.in_(sorted(lifecycle.LIVE)), A.due_on < day, A.overdue_told_at.is_(None)
            )
        ).all()
        for row in due:
            claimed = conn.execute(
                update(t.corrective_actions)
                .where(A.id == row.id, A.overdue_told_at.is_(None))
                .values(overdue_told_at=now)
            ).rowcount
            if claimed != 1:
                continue
            days = (day - row.due_on).days
            text = (
                f"整改任务 #{row.id}“{row.title}”已超过整改期限 {row.due_on.isoformat()}"
                f"（逾期 {days} 天），请尽快完成或与立项人商定新的期限。"
            )
            user = team_store.user(conn, row.owner)
            users = [user] if user is not None and user.active else []
            staff_notices.tell(
                conn,
                now,
                rt.settings.public_url,
                "action_overdue",
                users,
                None,
                text,
                f"/corrective-actions/{row.id}",
                f"[kesu] 整改任务 #{row.id} 已逾期",
            )
            data = {"due_on": row.due_on.isoformat(), "days": days}
            data["told"] = [u.username for u in users]
            _event(conn, row.id, now, "overdue", "system", row.state, row.state, None, data)
            told.append(row.id)
    return told
