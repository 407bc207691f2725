"""Corrective actions (整改): opened by a supervisor from one complaint or from a group
(a saved filter: cause, category, province, city), given an owner and a due date, moved
through corrective.lifecycle, with progress notes and an append-only history.

The complaints an action answers are linked by number when it is opened: the one
complaint, or those of the group received in the last `group_window_weeks` (found
through complaints.lookups; this slice never reads the complaint tables). The owner is
told through the staff notices when given the action. Every change is audited.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, insert, select, update

from kesu.accounts import team_store
from kesu.accounts.audit import audit
from kesu.accounts.roles import Actor, Principal, as_principal, forbidden, require
from kesu.channels import staff_notices
from kesu.clock import to_beijing
from kesu.complaints import lookups, queries
from kesu.complaints import vocabulary as vocab
from kesu.corrective import effect, lifecycle
from kesu.problems import Problem, not_found
from kesu.store import tables as t
from kesu.store.db import write

if TYPE_CHECKING:
    from kesu.runtime import Runtime

A = t.corrective_actions.c
L = t.corrective_action_complaints.c
E = t.corrective_action_events.c
WHAT = "整改任务"


def today(rt: Runtime) -> date:
    return to_beijing(rt.clock()).date()


def _bad(code: str, detail: str) -> Problem:
    return Problem(422, code, "Invalid corrective action", detail)


def _group(raw: Mapping[str, Any]) -> dict[str, str]:
    """The group's keys as given, checked: a cause a person chooses, a known category."""
    match = {k: str(v).strip() for k, v in raw.items() if k in effect.GROUP_KEYS and v}
    unknown = sorted(set(raw) - set(effect.GROUP_KEYS))
    if unknown:
        keys = "、".join(unknown)
        raise _bad("unknown_group_key", f"分组不认识“{keys}”；可用：原因、分类、省、市。")
    if not match:
        raise _bad("group_required", "请从一件投诉立项，或至少按原因、分类、省或市之一分组。")
    cause = match.get("root_cause")
    if cause is not None and cause not in vocab.CLOSING_CAUSES:
        raise _bad("unknown_root_cause", f"未知的原因分类“{cause}”。")
    category = match.get("category")
    if category is not None and category not in vocab.CATEGORIES:
        raise _bad("unknown_category", f"未知的投诉分类“{category}”。")
    if "province" in match:
        match["province"] = vocab.normalize_province(match["province"]) or match["province"]
    return match


def _owner(conn: Connection, username: str) -> Any:
    user = team_store.user(conn, username)
    if user is None or not user.active:
        raise _bad("unknown_owner", f"责任人“{username}”不是 kesu 的在用账号。")
    return user


def _tell_owner(rt: Runtime, conn: Connection, row: Mapping[str, Any], actor: str) -> None:
    if row["owner"] == actor:
        return
    user = team_store.user(conn, row["owner"])
    text = (
        f"整改任务 #{row['id']}“{row['title']}”由 {actor} 指定您为责任人，"
        f"整改期限 {row['due_on'].isoformat()}。"
    )
    path = f"/corrective-actions/{row['id']}"
    subject = f"[kesu] 整改任务 #{row['id']} 分派给您"
    url = rt.settings.public_url
    staff_notices.tell(conn, rt.clock(), url, "action_assigned", [user], None, text, path, subject)


def _event(
    conn: Connection,
    action_id: int,
    now: datetime,
    kind: str,
    actor: str,
    frm: str | None,
    to: str | None,
    note: str | None = None,
    data: Mapping[str, Any] | None = None,
) -> None:
    conn.execute(
        insert(t.corrective_action_events).values(
            action_id=action_id,
            at=now,
            type=kind,
            actor=actor,
            from_state=frm,
            to_state=to,
            note=note,
            data=dict(data or {}),
        )
    )


def open_action(rt: Runtime, body: Mapping[str, Any], actor: Actor) -> int:
    """Open an action from `complaint` (a number) or `group` ({root_cause, category,
    province, city}); link its complaints; tell the owner. The new action's id."""
    p = as_principal(actor)
    require(p, "corrective.manage")
    now = rt.clock()
    due_on: date = body["due_on"]
    if due_on < today(rt):
        raise _bad("due_in_past", "整改期限不能早于今天。")
    number, group = body.get("complaint"), body.get("group")
    if bool(number) == (group is not None):
        raise _bad(
            "complaint_or_group", "请二选一：从一件投诉（complaint）或一个分组（group）立项。"
        )
    if number:
        queries.get(rt, number, p)  # in the caller's scope, or 404
    cfg = effect.config()
    with write(rt.engine) as conn:
        _owner(conn, body["owner"])
        if number:
            found = lookups.group_of(conn, number) or {}
            match = {k: found[k] for k in ("root_cause", "category") if found.get(k)}
            numbers = [number]
        else:
            match = _group(group)
            since = now - timedelta(weeks=cfg["group_window_weeks"])
            numbers = lookups.group_numbers(conn, match, since, now, cfg["max_linked"])
            match = {**match, "received_from": since.isoformat(), "received_to": now.isoformat()}
        values = {
            "title": body["title"].strip(),
            "description": body["description"].strip(),
            "state": "open",
            "owner": body["owner"],
            "due_on": due_on,
            "source": "complaint" if number else "group",
            "complaint_number": number,
            "match": match,
            "linked": len(numbers),
            "opened_by": p.name,
            "opened_at": now,
            "version": 1,
            "updated_at": now,
        }
        action_id = conn.execute(
            insert(t.corrective_actions).values(**values).returning(A.id)
        ).scalar_one()
        if numbers:
            conn.execute(
                insert(t.corrective_action_complaints),
                [
                    {"action_id": action_id, "complaint_number": n, "linked_at": now}
                    for n in numbers
                ],
            )
        data = {"match": match, "linked": len(numbers), "owner": values["owner"]}
        data["due_on"] = due_on.isoformat()
        _event(conn, action_id, now, "opened", p.name, None, "open", None, data)
        _tell_owner(rt, conn, {**values, "id": action_id}, p.name)
        audit(conn, p, now, "corrective.open", "corrective_action", str(action_id), data)
    return action_id


def _load(conn: Connection, action_id: int, lock: bool = False):
    q = select(t.corrective_actions).where(A.id == action_id)
    if lock and conn.dialect.name == "postgresql":
        q = q.with_for_update()
    row = conn.execute(q).first()
    if row is None:
        raise not_found(WHAT, str(action_id))
    return row


def _may_act(p: Principal, row, action: str) -> None:
    """A manager may do anything; the owner may start, note progress and close theirs."""
    if p.can("corrective.manage"):
        return
    if p.can("corrective.read") and row.owner == p.name and action in OWNER_MAY:
        return
    raise forbidden(p, "整改立项、改派、撤销" if action not in OWNER_MAY else "本人负责的整改任务")


OWNER_MAY = frozenset({"start", "close", "progress"})


def may(p: Principal, row) -> list[str]:
    """The lifecycle's actions allowed now that this person may take."""
    if p.can("corrective.manage"):
        return lifecycle.allowed(row.state)
    if p.can("corrective.read") and row.owner == p.name:
        return [a for a in lifecycle.allowed(row.state) if a in OWNER_MAY]
    return []


def transition(
    rt: Runtime,
    action_id: int,
    action: str,
    params: Mapping[str, Any],
    actor: Actor,
    expected_version: int | None = None,
) -> None:
    """Apply a lifecycle action (409 with the allowed ones, 422 input missing)."""
    p = as_principal(actor)
    require(p, "corrective.read")
    now = rt.clock()
    with write(rt.engine) as conn:
        row = _load(conn, action_id, lock=True)
        _may_act(p, row, action)
        if expected_version is not None and expected_version != row.version:
            raise Problem(
                409, "version_conflict", "Changed meanwhile", "整改任务已被他人修改，请刷新后重试。"
            )
        try:
            out = lifecycle.decide(row.state, row.owner, row.due_on, action, params, today(rt))
        except lifecycle.Refused as err:
            raise Problem(
                err.status, err.code, "Action refused", err.detail, allowed_actions=may(p, row)
            ) from None
        changes = dict(out.changes)
        if "owner" in changes:
            _owner(conn, changes["owner"])
        if "due_on" in changes:
            changes["overdue_told_at"] = None  # a new due date: told again when it passes
        if out.state in lifecycle.FINAL:
            changes["closed_at"] = now
        done = conn.execute(
            update(t.corrective_actions)
            .where(A.id == action_id, A.version == row.version)
            .values(state=out.state, version=row.version + 1, updated_at=now, **changes)
        ).rowcount
        if done != 1:
            raise Problem(
                409, "version_conflict", "Changed meanwhile", "整改任务已被他人修改，请刷新后重试。"
            )
        data = {k: (v.isoformat() if isinstance(v, date) else v) for k, v in out.changes.items()}
        _event(conn, action_id, now, out.event, p.name, row.state, out.state, out.note, data)
        if "owner" in changes:
            after = {**row._mapping, **changes}
            _tell_owner(rt, conn, after, p.name)
        audit(
            conn,
            p,
            now,
            f"corrective.{action}",
            "corrective_action",
            str(action_id),
            {"from": row.state, "to": out.state, **data},
        )


def progress(rt: Runtime, action_id: int, note: str, actor: Actor) -> None:
    """A progress note on a live action (its owner or a manager)."""
    p = as_principal(actor)
    require(p, "corrective.read")
    text = (note or "").strip()[: lifecycle.MAX_TEXT]
    now = rt.clock()
    with write(rt.engine) as conn:
        row = _load(conn, action_id, lock=True)
        _may_act(p, row, "progress")
        if row.state not in lifecycle.LIVE:
            raise Problem(
                409,
                "action_not_allowed",
                "Action refused",
                f"整改任务{lifecycle.STATES[row.state]['name']}，不能再记录进展。",
                allowed_actions=may(p, row),
            )
        if not text:
            raise _bad("note_required", "请填写整改进展（note）。")
        conn.execute(
            update(t.corrective_actions)
            .where(A.id == action_id)
            .values(version=A.version + 1, updated_at=now)
        )
        _event(conn, action_id, now, "progress", p.name, row.state, row.state, text)
        audit(conn, p, now, "corrective.progress", "corrective_action", str(action_id), {})
