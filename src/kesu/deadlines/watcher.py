"""The deadline watcher: warns before a deadline and records each breach once, then
does what the rule sets off (a consultation becomes a complaint, an internal limit
escalates). `run` is the loop the embedded worker thread and `kesu worker` run.

Safe with several workers: on PostgreSQL each complaint row is locked (SKIP
LOCKED) before its deadline is marked, and each mark is a conditional update, so
a breach or a warning is recorded by exactly one worker.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, tuple_

from kesu.channels import staff_notices, webhooks
from kesu.complaints import events, lifecycle
from kesu.complaints.priority_raise import raise_to
from kesu.complaints.queries import load_by_id, try_lock
from kesu.complaints.transitions import apply
from kesu.complaints.views import iso, state_of
from kesu.deadlines import service as deadlines
from kesu.store import tables as t
from kesu.store.db import write

if TYPE_CHECKING:
    from kesu.runtime import Runtime

log = logging.getLogger("kesu.watcher")


def _handle_breach(rt: Runtime, conn: Connection, deadline, now: datetime) -> None:
    """Record a breach; then what the rule sets off (conversion, escalation)."""
    row = load_by_id(conn, deadline.complaint_id)
    rule = rt.rules.get(deadline.rule)
    data: dict[str, Any] = {"rule": deadline.rule, "due_at": iso(deadline.due_at)}
    if rule is not None and rule.remedy:
        data["remedy"] = rule.remedy
    events.append(
        conn,
        row.id,
        now,
        "deadline_breached",
        "system",
        row.status,
        row.status,
        f"“{rule.name if rule else deadline.name}”已超期。",
        data,
    )
    if deadline.statutory and row.is_open and _raise_priority(conn, row, rule, deadline, now):
        row = load_by_id(conn, deadline.complaint_id)
    webhooks.emit(conn, now, "deadline_breached", row, {"deadline": _deadline(deadline)})
    name = rule.name if rule else deadline.name
    text = f"投诉单 {row.number} 的“{name}”已超期。"
    staff_notices.deadline(conn, now, rt.settings.public_url, "deadline_breached", row, text)
    if rule is None or not row.is_open:
        return
    state = state_of(row)
    if rule.on_breach == "convert_to_complaint":
        outcome = lifecycle.convert_on_breach(state)
        if outcome is not None:
            apply(rt, conn, row, outcome, "system", "咨询超过处理时限，转为投诉。", now)
    elif rule.on_breach == "escalate" and "escalate" in lifecycle.allowed_actions(
        state, rt.policy, now
    ):
        outcome = lifecycle.decide(state, "escalate", {}, rt.policy, now)
        apply(rt, conn, row, outcome, "system", "内部时限超期，自动升级。", now)


def _deadline(d) -> dict[str, Any]:
    """What a webhook says of a deadline."""
    return {"rule": d.rule, "due_at": iso(d.due_at)}


def _raise_priority(conn: Connection, row, rule, deadline, now: datetime) -> bool:
    """A complaint past a statutory deadline is at least high priority (once, with why)."""
    cited = "、".join(b.citation for b in rule.basis if not b.policy) if rule else deadline.rule
    name = rule.name if rule else deadline.rule
    return raise_to(
        conn,
        row,
        "high",
        now,
        f"已超过法定时限“{name}”（{cited}），优先级提升为高。",
        {"rule": deadline.rule, "citation": cited, "reason": "statutory_breach"},
    )


def watch_once(rt: Runtime, now: datetime | None = None, batch: int = 200) -> int:
    """One pass: mark every passed, unmet deadline breached, once. Returns how many."""
    now = now or rt.clock()
    total = 0
    while True:
        with write(rt.engine) as conn:
            due = deadlines.due_unbreached(conn, now, batch)
            done = 0
            for d in due:
                if not try_lock(conn, d.complaint_id):
                    continue
                if deadlines.mark_breached(conn, d.id, now):
                    _handle_breach(rt, conn, d, now)
                    done += 1
        total += done
        if len(due) < batch or done == 0:
            return total


def warn_once(rt: Runtime, now: datetime | None = None, batch: int = 200) -> int:
    """One pass of the early warning: an event on each complaint whose deadline is near.

    Each deadline carries the lead its rule or SLA policy gave it when it was planned
    (deadline_rules.yaml, the admins' SLA policies); a deadline is warned about once,
    whatever the number of workers.
    """
    now = now or rt.clock()
    policies = rt.sla_policies()
    leads = [r.warn_before for r in rt.rules.values()]
    leads += [timedelta(hours=p.warn_before_hours) for ps in policies.by_rule.values() for p in ps]
    horizon = max(leads, default=None)
    if not horizon:
        return 0
    total = 0
    after = None
    while True:
        with write(rt.engine) as conn:
            stmt = deadlines.warning_candidates_stmt(now, horizon, batch)
            if after is not None:
                d_ = t.deadlines.c
                stmt = stmt.where(tuple_(d_.due_at, d_.id) > tuple_(*after))
            candidates = conn.execute(stmt).all()
            for d in candidates:
                rule = rt.rules.get(d.rule)
                # A deadline set outside the rules (a referral's) warns by its own lead.
                if rule is None and d.warn_before_hours is None:
                    continue
                # The lead the deadline was planned with (rows before 0011: the rule's).
                lead = (
                    rule.warn_before
                    if d.warn_before_hours is None and rule is not None
                    else timedelta(hours=d.warn_before_hours or 0)
                )
                name = rule.name if rule else d.name
                if not lead or d.due_at - lead > now:
                    continue
                if not try_lock(conn, d.complaint_id):
                    continue
                if deadlines.mark_warned(conn, d.id, now):
                    left = d.due_at - now
                    hours = round(left.total_seconds() / 3600, 1)
                    events.append(
                        conn,
                        d.complaint_id,
                        now,
                        "deadline_warning",
                        "system",
                        None,
                        None,
                        f"“{name}”将于 {hours} 小时后到期。",
                        {"rule": d.rule, "due_at": iso(d.due_at), "hours_left": hours},
                    )
                    webhooks.emit(
                        conn,
                        now,
                        "deadline_warning",
                        lambda cid=d.complaint_id: load_by_id(conn, cid),
                        {"deadline": _deadline(d)},
                    )
                    row = load_by_id(conn, d.complaint_id)
                    text = f"投诉单 {row.number} 的“{name}”将于 {hours} 小时后到期。"
                    if rule is not None and "reply" in rule.met_by:
                        text += "如无法按期答复，请用“告知延期”把预计答复日期告诉客户。"
                    url = rt.settings.public_url
                    staff_notices.deadline(conn, now, url, "deadline_warning", row, text)
                    total += 1
        if len(candidates) < batch:
            return total
        after = (candidates[-1].due_at, candidates[-1].id)


def run(rt: Runtime, stop: threading.Event, also: Sequence[Callable[[Runtime], Any]] = ()) -> None:
    """Watch until `stop` is set: every `watch_interval` seconds a breach pass, a warning
    pass, then each of `also` (the other slices' periodic jobs, given by the caller)."""
    while not stop.wait(rt.settings.watch_interval):
        try:
            watch_once(rt)
            warn_once(rt)
            for job in also:
                job(rt)
        except Exception:  # keep watching; the next pass retries
            log.exception("deadline watcher pass failed")
