"""Internal SLA policies in the database: read, seeded from the rules file, and changed by
admins with their history (who, when, before and after) and an audit entry.

The highest id of `sla_policy_history` is the policies' version: every change writes a
history row in the same transaction, so a process that reads the version before planning
a complaint's deadlines sees every change committed before (Runtime.sla_policies). A
change applies to deadlines planned after it; the deadlines already planned keep theirs.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, insert, select
from sqlalchemy.exc import IntegrityError

from kesu.accounts.audit import audit
from kesu.accounts.roles import Actor, Principal, as_principal, require
from kesu.clock import to_beijing
from kesu.complaints import vocabulary as vocab
from kesu.data_files import load_yaml
from kesu.deadlines import sla
from kesu.deadlines.rules import Rule
from kesu.deadlines.sla_store import H, P, load, policy_of, version
from kesu.problems import Problem
from kesu.store import tables as t
from kesu.store.db import read, write

if TYPE_CHECKING:
    from kesu.runtime import Runtime

PERMISSION = "sla.manage"
VOCABULARY = {"kinds": vocab.KINDS, "categories": vocab.CATEGORIES, "priorities": vocab.PRIORITIES}


# -- reading ------------------------------------------------------------------------


def _internal(rules: Mapping[str, Rule]) -> list[Rule]:
    return [r for r in rules.values() if not r.statutory]


def _missing_defaults(conn: Connection, rules: Mapping[str, Rule]) -> list[Rule]:
    have = set(conn.execute(select(P.rule).where(P.scope == sla.scope_key(None, None, None))))
    return [r for r in _internal(rules) if (r.id,) not in have]


def seed(conn: Connection, rules: Mapping[str, Rule], now: datetime) -> int:
    """Each internal rule without its unnarrowed policy gets the one the file states."""
    made = 0
    for rule in _missing_defaults(conn, rules):
        pol = sla.default_policy(rule)
        nested = conn.begin_nested()
        try:
            pid = conn.execute(
                insert(t.sla_policies).values(**_values(pol, now, "system")).returning(P.id)
            ).scalar_one()
        except IntegrityError:  # another process seeded it first
            nested.rollback()
            continue
        nested.commit()
        _history(conn, pid, rule.id, "seeded", now, "system", None, pol)
        made += 1
    return made


def _values(pol: sla.Policy, now: datetime, actor: str) -> dict[str, Any]:
    return {
        "rule": pol.rule,
        "scope": pol.scope,
        "kind": pol.kind,
        "category": pol.category,
        "priority": pol.priority,
        "length": pol.length,
        "unit": pol.unit,
        "warn_before_hours": pol.warn_before_hours,
        "updated_at": now,
        "updated_by": actor,
    }


def _history(conn, pid, rule, action, now, actor, before, after) -> None:
    conn.execute(
        insert(t.sla_policy_history).values(
            policy_id=pid,
            rule=rule,
            action=action,
            at=now,
            actor=actor,
            before=None if before is None else _period(before),
            after=None if after is None else _period(after),
        )
    )


def _period(pol: sla.Policy) -> dict[str, Any]:
    return {k: v for k, v in pol.as_json().items() if k not in ("id", "rule")}


def ensure_seeded(rt: Runtime) -> None:
    """Seed the defaults once (a new installation starts with the file's periods)."""
    with read(rt.engine) as conn:
        if not _missing_defaults(conn, rt.rules):
            return
    with write(rt.engine) as conn:
        seed(conn, rt.rules, rt.clock())


def listing(rt: Runtime, history_limit: int = 50) -> dict[str, Any]:
    """Every internal rule with its policies, the statutory rules (read-only), the history."""
    ensure_seeded(rt)
    with read(rt.engine) as conn:
        policies = load(conn)
        hist = conn.execute(
            select(t.sla_policy_history).order_by(H.id.desc()).limit(history_limit)
        ).all()
    rules = []
    for rule in _internal(rt.rules):
        items = sorted(policies.by_rule.get(rule.id, ()), key=lambda p: (p.specificity, p.id or 0))
        rules.append(
            {
                "rule": rule.id,
                "name": rule.name,
                "name_en": rule.name_en,
                "kinds": sorted(rule.kinds),
                "when": {k: sorted(v) for k, v in rule.when.items()},
                "trigger": rule.trigger,
                "on_breach": rule.on_breach,
                "file_default": _period(sla.default_policy(rule)),
                "policies": [_view(p) for p in items],
            }
        )
    return {
        "version": policies.version,
        "rules": rules,
        "statutory": [_statutory(r) for r in rt.rules.values() if r.statutory],
        "history": [_history_view(h, rt.rules) for h in hist],
    }


def _view(pol: sla.Policy) -> dict[str, Any]:
    return {**pol.as_json(), "narrowed": pol.narrowed, "scope": sla.describe(pol, VOCABULARY)}


def _statutory(rule: Rule) -> dict[str, Any]:
    return {
        "rule": rule.id,
        "name": rule.name,
        "length": rule.length,
        "unit": rule.unit,
        "citation": "；".join(b.citation for b in rule.basis),
        "editable": False,
        "reason": statutory_reason(rule),
    }


def statutory_reason(rule: Rule) -> str:
    cited = "、".join(b.citation for b in rule.basis if not b.policy)
    return f"“{rule.name}”是法定时限，依据{cited}，只能随法规修改，不能在此调整。"


def _history_view(h, rules: Mapping[str, Rule]) -> dict[str, Any]:
    rule = rules.get(h.rule)
    said = h.after or h.before or {}
    scope = sla.Policy(
        h.rule, said.get("kind"), said.get("category"), said.get("priority"), 0, "hours", 0
    )
    return {
        "id": h.id,
        "policy_id": h.policy_id,
        "rule": h.rule,
        "rule_name": rule.name if rule else h.rule,
        "action": h.action,
        "scope": sla.describe(scope, VOCABULARY),
        "at": to_beijing(h.at).isoformat(),
        "actor": h.actor,
        "before": h.before,
        "after": h.after,
    }


# -- changing -----------------------------------------------------------------------


def _invalid(errors: list[dict[str, str]]) -> Problem:
    first = errors[0]
    detail = first["detail"]
    if len(errors) > 1:
        detail += f"（另有 {len(errors) - 1} 处错误，见 errors）"
    return Problem(422, first["code"], "Invalid SLA policy", detail, errors=errors)


def _rule(rt: Runtime, rule_id: Any) -> Rule:
    rule = rt.rules.get(rule_id) if isinstance(rule_id, str) else None
    if rule is None:
        known = "、".join(r.id for r in _internal(rt.rules))
        raise _invalid([_err("rule", "unknown_rule", f"没有时限规则“{rule_id}”，可选：{known}。")])
    if rule.statutory:
        raise Problem(409, "statutory_rule", "Statutory rule", statutory_reason(rule))
    return rule


def _err(field: str, code: str, detail: str) -> dict[str, str]:
    return {"field": field, "code": code, "detail": detail}


def _default_warn(unit: str, length: int) -> float:
    """The file's lead for the unit, cut to a quarter of a short period."""
    lead = float(((load_yaml("deadline_rules.yaml") or {}).get("warn_before") or {}).get(unit, 0))
    span = length if unit == "hours" else length * 24
    return min(lead, span / 4)


def _checked_period(body: Mapping[str, Any], current: sla.Policy | None) -> tuple[int, str, float]:
    unit = body.get("unit", current.unit if current else None)
    length = body.get("length", current.length if current else None)
    warn = body.get("warn_before_hours")
    if warn is None and unit in sla.UNIT_NAMES and type(length) is int:
        # Not given: the current lead while it still fits the period, else the file's.
        warn = _default_warn(unit, length)
        if current is not None and not sla.check_period(length, unit, current.warn_before_hours):
            warn = current.warn_before_hours
    errors = sla.check_period(length, unit, warn)
    if errors:
        raise _invalid(errors)
    return length, unit, float(warn)


def create(rt: Runtime, actor: Actor, body: Mapping[str, Any]) -> dict[str, Any]:
    """A new policy for a kind/category/priority of an internal rule (201)."""
    p = as_principal(actor)
    require(p, PERMISSION)
    rule = _rule(rt, body.get("rule"))
    scope = {k: body.get(k) for k in ("kind", "category", "priority")}
    errors = sla.check_scope(rule, vocabulary=VOCABULARY, **scope)
    if errors:
        raise _invalid(errors)
    length, unit, warn = _checked_period(body, None)
    pol = sla.Policy(rule.id, length=length, unit=unit, warn_before_hours=warn, **scope)
    now = rt.clock()
    try:
        with write(rt.engine) as conn:
            seed(conn, rt.rules, now)
            pid = conn.execute(
                insert(t.sla_policies).values(**_values(pol, now, p.name)).returning(P.id)
            ).scalar_one()
            _history(conn, pid, rule.id, "created", now, p.name, None, pol)
            _audit(conn, p, now, "sla_policy.create", pid, None, pol)
    except IntegrityError:
        raise Problem(
            409,
            "sla_policy_exists",
            "Policy exists",
            f"“{rule.name}”已有适用于“{sla.describe(pol, VOCABULARY)}”的政策，请修改它。",
        ) from None
    return one(rt, pid)


def _locked(conn: Connection, pid: int) -> sla.Policy:
    row = conn.execute(select(t.sla_policies).where(P.id == pid).with_for_update()).first()
    if row is None:
        raise Problem(404, "sla_policy_not_found", "Not found", f"内部时限政策 {pid} 不存在。")
    return policy_of(row)


def change(rt: Runtime, actor: Actor, pid: int, body: Mapping[str, Any]) -> dict[str, Any]:
    """New length, unit or warning lead of a policy (its scope stays)."""
    p = as_principal(actor)
    require(p, PERMISSION)
    now = rt.clock()
    with write(rt.engine) as conn:
        before = _locked(conn, pid)
        length, unit, warn = _checked_period(body, before)
        after = sla.Policy(
            before.rule,
            before.kind,
            before.category,
            before.priority,
            length,
            unit,
            warn,
            pid,
        )
        if after == before:
            return one(rt, pid, conn)
        conn.execute(
            t.sla_policies.update()
            .where(P.id == pid)
            .values(
                length=length, unit=unit, warn_before_hours=warn, updated_at=now, updated_by=p.name
            )
        )
        _history(conn, pid, before.rule, "changed", now, p.name, before, after)
        _audit(conn, p, now, "sla_policy.change", pid, before, after)
        return one(rt, pid, conn)


def remove(rt: Runtime, actor: Actor, pid: int) -> None:
    """Remove a narrowed policy; the unnarrowed one of each rule stays (it may change)."""
    p = as_principal(actor)
    require(p, PERMISSION)
    now = rt.clock()
    with write(rt.engine) as conn:
        before = _locked(conn, pid)
        if not before.narrowed:
            raise Problem(
                409,
                "sla_policy_default",
                "Default policy",
                "每条内部时限都保留一条适用于全部情形的政策：可以修改它的时限，不能删除。",
            )
        conn.execute(t.sla_policies.delete().where(P.id == pid))
        _history(conn, pid, before.rule, "removed", now, p.name, before, None)
        _audit(conn, p, now, "sla_policy.remove", pid, before, None)


def one(rt: Runtime, pid: int, conn: Connection | None = None) -> dict[str, Any]:
    if conn is None:
        with read(rt.engine) as c:
            return one(rt, pid, c)
    row = conn.execute(select(t.sla_policies).where(P.id == pid)).first()
    if row is None:
        raise Problem(404, "sla_policy_not_found", "Not found", f"内部时限政策 {pid} 不存在。")
    return {
        **_view(policy_of(row)),
        "updated_at": to_beijing(row.updated_at).isoformat(),
        "updated_by": row.updated_by,
        "version": version(conn),
    }


def _audit(conn, p: Principal, now, action, pid, before, after) -> None:
    audit(
        conn,
        p,
        now,
        action,
        "sla_policy",
        str(pid),
        {
            "before": None if before is None else before.as_json(),
            "after": None if after is None else after.as_json(),
        },
    )
