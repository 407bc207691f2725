"""Changing a complaint: an action asked of the lifecycle, applied with its deadlines.

`transition` is the use case (scope, permission, version check, audit);
`apply` writes an Outcome the lifecycle decided: it meets and starts deadlines,
updates the row (version + 1) and appends the event, in the caller's
transaction. Merging into another complaint is one of the actions.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, select, update

from kesu.accounts import masking
from kesu.accounts.audit import audit
from kesu.accounts.roles import Actor, action_permissions, as_principal, require_any
from kesu.channels import webhooks
from kesu.clock import as_utc
from kesu.complaints import assignment, events, lifecycle, lookups, notify, repeats, surveys
from kesu.complaints import vocabulary as vocab
from kesu.complaints.queries import check_visible, load, load_visible
from kesu.complaints.survey_form import HOW, checked
from kesu.complaints.views import actions_for, facts_of, full_view, iso, money, present, state_of
from kesu.deadlines import service as deadlines
from kesu.problems import Problem
from kesu.store import tables as t
from kesu.store.db import write

if TYPE_CHECKING:
    from kesu.runtime import Runtime

C = t.complaints.c

# Changes the event does not repeat under "changes" (they are times and links).
_NOT_IN_EVENT = frozenset(
    {"next_due_at", "merged_into_id", "converted_at", "replied_at", "closed_at", "accepted_at"}
)


def _problem(err: lifecycle.LifecycleError, allowed: list[str]) -> Problem:
    if isinstance(err, lifecycle.NotAllowed):
        return Problem(409, err.code, "Action not allowed", err.detail, allowed_actions=allowed)
    return Problem(422, err.code, "Invalid action input", err.detail, allowed_actions=allowed)


def apply(
    rt: Runtime,
    conn: Connection,
    row,
    outcome: lifecycle.Outcome,
    actor: str,
    note: str | None,
    now: datetime,
    extra_data: Mapping[str, Any] | None = None,
) -> None:
    """Write what the lifecycle decided: deadlines met and started, the row, the event."""
    changes: dict[str, Any] = dict(outcome.changes)
    how = changes.pop("_how", outcome.action)
    event_data: dict[str, Any] = {"action": outcome.action}
    assigned = bool(changes.get("assignee")) and changes["assignee"] != row.assignee
    if assigned and row.first_assignee is None:
        changes["first_assignee"] = changes["assignee"]  # 首问负责: the first one stays
    if assigned and outcome.event == "assigned":
        event_data.update(assignment.assigned_data(changes["assignee"], row.assignee, how))
    if "category" in changes:
        event_data["previous_category"] = row.category
    if "merged_into" in changes:
        target_number = changes.pop("merged_into")
        target = _merge_target(conn, row, target_number)
        changes["merged_into_id"] = target.id
        event_data["merged_into"] = target_number
        events.append(
            conn,
            target.id,
            now,
            "duplicate_merged",
            actor,
            target.status,
            target.status,
            note,
            {"duplicate": row.number},
        )
    if outcome.converted:
        changes["converted_at"] = now
    if "category" in changes or "kind" in changes:
        changes.update(_repeat_decided(conn, row, changes))
    for key in ("remedy_kind", "expected_on", "delay_reason"):
        if key in changes:  # no column: the event keeps it (lookups.remedy_kind)
            event_data[key] = changes.pop(key)
    status = outcome.status
    is_open = status in lifecycle.OPEN_STATUSES
    if outcome.meets:
        met = deadlines.meet(conn, rt, row.id, outcome.meets, now)
        if met:
            event_data["deadlines_met"] = met
    facts = facts_of({**row._mapping, **changes})
    started: list[str] = []
    if outcome.starts:
        started += [
            d["rule"] for d in deadlines.start(conn, rt, row.id, facts, outcome.starts, now)
        ]
    if outcome.converted:
        started += [d["rule"] for d in deadlines.start(conn, rt, row.id, facts, "received", now)]
    if started:
        event_data["deadlines_started"] = started
    changes["next_due_at"] = deadlines.next_due(conn, row.id) if is_open else None
    conn.execute(
        update(t.complaints)
        .where(C.id == row.id)
        .values(**changes, status=status, is_open=is_open, updated_at=now, version=C.version + 1)
    )
    for key, value in changes.items():
        if key in _NOT_IN_EVENT:
            continue
        event_data.setdefault("changes", {})[key] = (
            money(value)
            if isinstance(value, Decimal)
            else iso(value)
            if isinstance(value, datetime)
            else value
        )
    event_data.update(extra_data or {})
    events.append(conn, row.id, now, outcome.event, actor, row.status, status, note, event_data)
    if assigned and outcome.event != "assigned":  # every assignment is an event of its own
        assignment.assigned_event(
            conn, row.id, now, actor, status, changes["assignee"], row.assignee, how
        )
    notify.tell_customer(rt, conn, row, outcome.event, now, changes, event_data)
    notify.tell_staff(rt, conn, row, changes, status, actor, how, now)
    webhooks.status_changed(conn, now, row.status, {**row._mapping, **changes, "status": status})


def _repeat_decided(conn: Connection, row, changes: Mapping[str, Any]) -> dict[str, Any]:
    """The repeat flag decided again for a new category or kind (complaints.repeats)."""
    this = repeats.Seen(
        row.number,
        changes.get("category", row.category),
        changes.get("kind", row.kind),
        row.status,
        as_utc(row.received_at),
        row.id,
    )
    found = bool(row.customer_phone_hash) and bool(
        lookups.repeat_of(conn, this, row.customer_phone_hash)
    )
    flags = repeats.with_flag(row.risk_flags or (), found)
    return {"risk_flags": flags} if flags != sorted(row.risk_flags or ()) else {}


def _survey(action: str, params: Mapping[str, Any]) -> tuple[Mapping[str, Any], tuple | None]:
    """A callback's survey (complaints.survey_form): the params with the result it gives,
    and (answers, overall, how) to record; none for an unreachable customer."""
    if action != "callback":
        return params, None
    params = dict(params)
    answers = params.pop("survey", None)
    how = params.pop("survey_how", None) or "phone"  # set only by the portal's own code
    result = params.get("result")
    if answers is None and result not in lifecycle.CALLBACK_DONE:
        return params, None  # unreachable, or no result: the lifecycle says what is wrong
    if answers is not None and not isinstance(answers, Mapping):
        raise Problem(422, "survey_invalid", "Invalid survey", "满意度调查应为“问题: 回答”的对象。")
    kept, overall = checked(answers, result)
    params["result"] = overall
    return params, (kept, overall, how if how in HOW else "phone")


def _owner(rt: Runtime, conn: Connection, row, action, params, p) -> dict[str, Any]:
    """The assignee of `assign`/`transfer` checked (a user of the team); who claims."""
    params = dict(params)
    if params.get("assignee") and action in ("assign", "transfer"):
        team = row.team if action == "assign" else params.get("team")
        params["assignee"] = assignment.check_assignee(conn, str(params["assignee"]), team)
    if action == "claim":
        assignment.check_claim(conn, p, row.team)
        params["by"] = p.name
    return params


def _routed(rt: Runtime, conn: Connection, row, outcome, p) -> lifecycle.Outcome:
    """Accepting makes the complaint the accepter's (when nobody has it); a transfer into
    another team without a named person goes by that team's assignment policy."""
    changes = dict(outcome.changes)
    if outcome.action == "accept" and row.assignee is None:
        who = assignment.person(conn, p.name) if p.kind != "customer" else None
        if who is None:
            return outcome
        changes.update(assignee=who, _how="accept")
    elif outcome.action == "transfer" and "team" in changes and "assignee" not in changes:
        who, how = assignment.route(rt, conn, changes["team"], row.category)
        changes.update(assignee=who, _how=how)
    else:
        return outcome
    return replace(outcome, changes=changes)


def _merge_target(conn: Connection, row, number: str):
    target = conn.execute(select(t.complaints).where(C.number == number)).first()
    if target is None:
        raise Problem(
            422,
            "merge_target_not_found",
            "Merge target not found",
            f"要合并到的投诉单“{number}”不存在。",
        )
    if not target.is_open:
        raise Problem(
            409,
            "merge_target_closed",
            "Merge target closed",
            f"投诉单“{number}”已结束（{vocab.STATUSES[target.status]['name']}），"
            "不能作为合并目标。",
        )
    return target


def transition(
    rt: Runtime,
    number: str,
    action: str,
    params: Mapping[str, Any],
    actor: Actor,
    expected_version: int | None = None,
) -> dict[str, Any]:
    p = as_principal(actor)
    now = rt.clock()
    with write(rt.engine) as conn:
        if action == "merge" and params.get("into") and conn.dialect.name == "postgresql":
            # Lock both complaints in id order, so that A→B and B→A cannot both win.
            conn.execute(
                select(C.id)
                .where(C.number.in_([number, str(params["into"])]))
                .order_by(C.id)
                .with_for_update()
            ).all()
        row = load_visible(conn, number, p, lock=True)
        require_any(p, action_permissions(action), f"投诉单操作“{action}”")
        if action == "merge" and params.get("into"):
            target = conn.execute(
                select(t.complaints).where(C.number == str(params["into"]))
            ).first()
            if target is not None:
                check_visible(target, p, str(params["into"]))
        state = state_of(row)
        allowed = actions_for(state, rt, now, p)
        if expected_version is not None and expected_version != row.version:
            raise Problem(
                409,
                "version_conflict",
                "Edit conflict",
                f"投诉单已被他人修改（当前版本 {row.version}，您看到的是 {expected_version}），"
                "请刷新后再操作。",
                current_version=row.version,
                allowed_actions=allowed,
            )
        try:
            params = _owner(rt, conn, row, action, params, p)
            params, survey = _survey(action, params)
            outcome = lifecycle.decide(state, action, params, rt.policy, now)
        except lifecycle.LifecycleError as err:
            raise _problem(err, allowed) from None
        except Problem as problem:
            problem.extra.setdefault("allowed_actions", allowed)
            raise
        outcome = _routed(rt, conn, row, outcome, p)
        extra = {"survey": survey[0], "survey_how": survey[2]} if survey else None
        apply(rt, conn, row, outcome, p.name, params.get("note"), now, extra)
        if survey:  # the callback's result is the survey's overall answer
            answers, overall, how = survey
            surveys.record(
                conn, row.id, number, row.reopen_count, answers, overall, p.name, how, now
            )
        after = load(conn, number)
        audit(
            conn,
            p,
            now,
            f"complaint.{action}",
            "complaint",
            number,
            {"before": _audit_fields(row), "after": _audit_fields(after)},
        )
        return present(full_view(rt, conn, after, p), p)


_AUDITED = (
    "status",
    "category",
    "priority",
    "team",
    "assignee",
    "first_assignee",
    "compensation",
    "resolution",
    "risk_flags",
    "escalation_level",
    "callback_result",
    "version",
)


def _audit_fields(row) -> dict[str, Any]:
    out = {}
    for name in _AUDITED:
        value = getattr(row, name)
        if isinstance(value, Decimal):
            value = f"{value:.2f}"
        out[name] = masking.text(value) if isinstance(value, str) else value
    return out


def set_next_due(conn: Connection, complaint_ids: list[int]) -> None:
    """Recompute `next_due_at` of these (open) complaints after their deadlines moved."""
    for cid in complaint_ids:
        conn.execute(
            update(t.complaints)
            .where(C.id == cid, C.is_open)
            .values(next_due_at=deadlines.next_due(conn, cid))
        )
