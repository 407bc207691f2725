"""Deadline rows of complaints: plan, start, meet, recompute after a calendar change, and
the queries the watcher runs (due and unbreached, near and unwarned)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, and_, func, select, update

from kesu.clock import to_beijing
from kesu.complaints import events
from kesu.complaints import vocabulary as vocab
from kesu.deadlines.calendar import WorkCalendar
from kesu.deadlines.rules import Rule, compute_due, due_on
from kesu.deadlines.rules import select as select_rules
from kesu.deadlines.sla import Policy, PolicySet, applied, describe
from kesu.store import bulk
from kesu.store import tables as t

if TYPE_CHECKING:
    from kesu.runtime import Runtime


# ---- deadlines of a complaint -------------------------------------------


_SELECTED: dict[tuple, list[Rule]] = {}
# (id of a rule set, trigger) → (the rule set, the facts its rules look at)
_LOOKS_AT: dict[tuple[int, str], tuple[Mapping[str, Rule], tuple[str, ...]]] = {}


def store(conn: Connection, planned: list[dict[str, Any]]) -> None:
    """Insert the planned deadline rows of a complaint just registered."""
    if planned:
        conn.execute(t.deadlines.insert(), planned)


def store_many(
    conn: Connection, planned: list[dict[str, Any]], encoded: frozenset[str] = frozenset()
) -> None:
    """Insert the planned deadline rows of many complaints (imports: COPY on PostgreSQL);
    `encoded`: the columns already in the form sent (encode)."""
    bulk.insert_many(conn, t.deadlines, planned, encoded)


def encoder(dialect: str) -> bulk.Encoder:
    """Planned rows' values in the form the insert sends them (built in another process)."""
    return bulk.Encoder(dialect, t.deadlines)


def _applicable(rules: Mapping[str, Rule], facts: Mapping[str, Any], trigger: str) -> list[Rule]:
    """select_rules, remembered per rule set and the facts its rules look at (bulk imports
    repeat them: a kind, a channel, a category; seldom the province)."""
    looks = _LOOKS_AT.get((id(rules), trigger))
    if looks is None or looks[0] is not rules:
        if len(_LOOKS_AT) > 100:
            _LOOKS_AT.clear()
            _SELECTED.clear()
        keys = {"kind"} | {k for r in rules.values() if r.trigger == trigger for k in r.when}
        looks = _LOOKS_AT[(id(rules), trigger)] = (rules, tuple(sorted(keys)))
    key = (id(rules), trigger, *(facts.get(k) for k in looks[1]))
    found = _SELECTED.get(key)
    if found is None:
        if len(_SELECTED) > 10_000:
            _SELECTED.clear()
        found = _SELECTED[key] = select_rules(rules, facts, trigger)
    return found


def plan(
    rules: Mapping[str, Rule],
    facts: Mapping[str, Any],
    trigger: str,
    started_at: datetime,
    calendar: WorkCalendar,
    policies: PolicySet | None = None,
) -> list[dict[str, Any]]:
    """The deadline rows (without complaint id) for every rule that applies on `trigger`;
    an internal rule runs as the most specific SLA policy in `policies` says."""
    rows = []
    for filed in _applicable(rules, facts, trigger):
        policy = None if policies is None or filed.statutory else policies.choose(filed, facts)
        rule = applied(filed, policy)
        due = compute_due(rule, started_at, calendar)
        rows.append(
            {
                "rule": rule.id,
                "name": rule.name,
                "statutory": rule.statutory,
                "started_at": started_at,
                "due_at": due.due_at,
                "basis": rule.basis_json if policy is None else _policy_basis(rule, policy),
                "warn_before_hours": rule.warn_before.total_seconds() / 3600,
                "estimated": due.estimated,
                "calendar_version": calendar.version,
                "met_at": None,
                "met_by": None,
                "breached": False,
                "breached_at": None,
                "warned_at": None,
            }
        )
    return rows


_UNIT_ZH = {"hours": "小时", "calendar_days": "日", "working_days": "个工作日"}
_NAMES = {"kinds": vocab.KINDS, "categories": vocab.CATEGORIES, "priorities": vocab.PRIORITIES}


def _policy_basis(rule: Rule, policy: Policy) -> list[dict[str, Any]]:
    """The rule's basis, each entry saying which SLA policy set the period."""
    said = (
        f"内部时限政策 #{policy.id}（适用于：{describe(policy, _NAMES)}）："
        f"{policy.length}{_UNIT_ZH[policy.unit]}。"
    )
    scope = {"kind": policy.kind, "category": policy.category, "priority": policy.priority}
    return [
        {**b, "sla_policy": policy.id, "sla_scope": scope, "note": said} for b in rule.basis_json
    ]


def start(
    conn: Connection,
    rt: Runtime,
    complaint_id: int,
    facts: Mapping[str, Any],
    trigger: str,
    started_at: datetime,
) -> list[dict[str, Any]]:
    """Create the deadline rows for every rule that applies to `facts` on `trigger`."""
    rows = plan(rt.rules, facts, trigger, started_at, rt.calendar(conn), rt.sla_policies(conn))
    for row in rows:
        row["complaint_id"] = complaint_id
    if rows:
        conn.execute(t.deadlines.insert(), rows)
    return rows


def meet(conn: Connection, rt: Runtime, complaint_id: int, action: str, now: datetime) -> list[str]:
    """Mark the unmet deadlines that `action` meets; returns their rule ids."""
    rules = [r.id for r in rt.rules.values() if action in r.met_by]
    if not rules:
        return []
    met = (
        conn.execute(
            update(t.deadlines)
            .where(
                t.deadlines.c.complaint_id == complaint_id,
                t.deadlines.c.met_at.is_(None),
                t.deadlines.c.rule.in_(rules),
            )
            .values(met_at=now, met_by=action)
            .returning(t.deadlines.c.rule)
        )
        .scalars()
        .all()
    )
    return list(met)


def add_given(
    conn: Connection,
    complaint_id: int,
    rule: str,
    name: str,
    started_at: datetime,
    day: date,
    basis: list[dict[str, Any]],
    calendar_version: str,
) -> dict[str, Any]:
    """A deadline whose date was set outside kesu (a regulator's referral): no rule of
    the file computes it, so no action of the lifecycle meets it; `meet_given` does."""
    row = {
        "complaint_id": complaint_id,
        "rule": rule,
        "name": name,
        "statutory": False,
        "started_at": started_at,
        "due_at": due_on(day).due_at,
        "basis": basis,
        "warn_before_hours": 24.0,
        "estimated": False,
        "calendar_version": calendar_version,
        "met_at": None,
        "met_by": None,
        "breached": False,
        "breached_at": None,
        "warned_at": None,
    }
    conn.execute(t.deadlines.insert(), [row])
    return row


def meet_given(
    conn: Connection, complaint_id: int, rule: str, name: str, by: str, now: datetime
) -> bool:
    """Meet a deadline set outside kesu (add_given, by its rule and name), once; True when
    this call met it."""
    d = t.deadlines.c
    done = conn.execute(
        update(t.deadlines)
        .where(d.complaint_id == complaint_id, d.rule == rule, d.name == name, d.met_at.is_(None))
        .values(met_at=now, met_by=by)
    )
    return done.rowcount > 0


def next_due(conn: Connection, complaint_id: int) -> datetime | None:
    return conn.execute(
        select(func.min(t.deadlines.c.due_at)).where(
            t.deadlines.c.complaint_id == complaint_id, t.deadlines.c.met_at.is_(None)
        )
    ).scalar()


def for_complaints(conn: Connection, ids: list[int]) -> dict[int, list]:
    out: dict[int, list] = {i: [] for i in ids}
    if not ids:
        return out
    rows = conn.execute(
        select(t.deadlines)
        .where(t.deadlines.c.complaint_id.in_(ids))
        .order_by(t.deadlines.c.due_at, t.deadlines.c.id)
    ).all()
    for r in rows:
        out[r.complaint_id].append(r)
    return out


def view(row, rules: Mapping[str, Rule]) -> dict[str, Any]:
    rule = rules.get(row.rule)
    out = {
        "rule": row.rule,
        "name": row.name,
        "statutory": row.statutory,
        "started_at": to_beijing(row.started_at).isoformat(),
        "due_at": to_beijing(row.due_at).isoformat(),
        "basis": row.basis,
        "estimated": row.estimated,
        "calendar_version": row.calendar_version,
        "met_at": to_beijing(row.met_at).isoformat() if row.met_at else None,
        "met_by": row.met_by,
        "breached": row.breached,
        "breached_at": to_beijing(row.breached_at).isoformat() if row.breached_at else None,
        "warned_at": to_beijing(row.warned_at).isoformat() if row.warned_at else None,
    }
    if rule is not None and rule.remedy:
        out["remedy"] = {
            "text": rule.remedy,
            "basis": [b.as_json() for b in rule.remedy_basis],
        }
    return out


def recompute(conn: Connection, rt: Runtime, calendar: WorkCalendar) -> list[int]:
    """Recompute unmet deadlines computed on another calendar; returns touched complaint ids."""
    rows = conn.execute(
        select(t.deadlines).where(
            t.deadlines.c.met_at.is_(None),
            t.deadlines.c.calendar_version != calendar.version,
        )
    ).all()
    touched: set[int] = set()
    for row in rows:
        rule = rt.rules.get(row.rule)
        if rule is None or rule.unit == "hours":
            conn.execute(
                update(t.deadlines)
                .where(t.deadlines.c.id == row.id)
                .values(calendar_version=calendar.version)
            )
            continue
        due = compute_due(rule, row.started_at, calendar)
        conn.execute(
            update(t.deadlines)
            .where(t.deadlines.c.id == row.id)
            .values(due_at=due.due_at, estimated=due.estimated, calendar_version=calendar.version)
        )
        if due.due_at != row.due_at or due.estimated != row.estimated:
            touched.add(row.complaint_id)
            events.append(
                conn,
                row.complaint_id,
                rt.clock(),
                "deadline_recomputed",
                "system",
                None,
                None,
                None,
                {
                    "rule": row.rule,
                    "old_due_at": to_beijing(row.due_at).isoformat(),
                    "new_due_at": to_beijing(due.due_at).isoformat(),
                    "estimated": due.estimated,
                    "calendar_version": calendar.version,
                },
            )
    return sorted(touched)


def due_unbreached_stmt(now: datetime, limit: int):
    """Unmet, not yet breached deadlines whose due time has passed, oldest first."""
    return (
        select(
            t.deadlines.c.id,
            t.deadlines.c.complaint_id,
            t.deadlines.c.rule,
            t.deadlines.c.due_at,
            t.deadlines.c.statutory,
            t.deadlines.c.name,
        )
        .where(
            t.deadlines.c.met_at.is_(None),
            ~t.deadlines.c.breached,
            t.deadlines.c.due_at < now,
        )
        .order_by(t.deadlines.c.due_at)
        .limit(limit)
    )


def due_unbreached(conn: Connection, now: datetime, limit: int):
    return conn.execute(due_unbreached_stmt(now, limit)).all()


def warning_candidates_stmt(now: datetime, horizon: timedelta, limit: int):
    """Unmet deadlines not yet warned about, due within `horizon` from now, soonest first."""
    d = t.deadlines.c
    return (
        select(d.id, d.complaint_id, d.rule, d.name, d.due_at, d.warn_before_hours)
        .where(
            d.met_at.is_(None),
            ~d.breached,
            d.warned_at.is_(None),
            d.due_at >= now,
            d.due_at < now + horizon,
        )
        .order_by(d.due_at, d.id)
        .limit(limit)
    )


def mark_warned(conn: Connection, deadline_id: int, now: datetime) -> bool:
    """Record the warning once; True only for the one caller that did it."""
    d = t.deadlines.c
    result = conn.execute(
        update(t.deadlines)
        .where(d.id == deadline_id, d.warned_at.is_(None), d.met_at.is_(None))
        .values(warned_at=now)
    )
    return result.rowcount == 1


def mark_breached(conn: Connection, deadline_id: int, now: datetime) -> bool:
    """Mark one deadline breached; True only for the one caller that did it."""
    result = conn.execute(
        update(t.deadlines)
        .where(
            and_(
                t.deadlines.c.id == deadline_id,
                ~t.deadlines.c.breached,
                t.deadlines.c.met_at.is_(None),
            )
        )
        .values(breached=True, breached_at=now)
    )
    return result.rowcount == 1
