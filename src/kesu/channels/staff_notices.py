"""Staff are told: a notice in the user's list (the page header's counter) and, where
the user has an email address and kept email on for that kind, an email in the outbox,
both in the transaction of what caused them.

Kinds: `assigned` (the person a complaint was given to, unless they took it themselves),
`approval_waiting` (the approvers of the complaint's team, or all approvers when the team
has none), `deadline_warning` and `deadline_breached` (the assignee and the supervisors of
the complaint's team), `customer_wrote` (a customer's mail added to a complaint: its
assignee; on a closed complaint also the team's supervisors, who decide on reopening),
`action_assigned` and `action_overdue` (a corrective action's owner: corrective/).
Each kind can be switched off per user, or its email alone.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, delete, func, insert, select, update

from kesu.accounts import team_store
from kesu.accounts.roles import Actor, as_principal, forbidden, roles
from kesu.channels import outbox
from kesu.clock import BEIJING
from kesu.problems import Problem
from kesu.store import tables as t
from kesu.store.db import read, write

if TYPE_CHECKING:
    from kesu.runtime import Runtime

S = t.staff_notices.c
P = t.staff_notice_prefs.c

KINDS: dict[str, str] = {
    "assigned": "分派给我的投诉",
    "approval_waiting": "待我审批",
    "deadline_warning": "时限预警",
    "deadline_breached": "时限超期",
    "customer_wrote": "客户来信",
    "webhook_paused": "推送订阅已自动暂停",
    "daily_digest": "每日摘要（班组长）",
    "incident_opened": "群体性事件开启",
    # Corrective actions (corrective/): its owner, when given one and when it is overdue.
    "action_assigned": "分派给我的整改任务",
    "action_overdue": "整改任务逾期",
}
DEFAULT_OFF = frozenset({"daily_digest"})  # asked for, not sent unasked
SELF_TAKEN = frozenset({"claim", "accept"})  # the assignee took it: not told
LEADS = ("supervisor",)  # the team lead: the supervisors of the complaint's team


def prefs(conn: Connection, username: str) -> dict[str, dict[str, bool]]:
    """The user's switches for every kind: {kind: {off, email}} (defaults: on, email)."""
    out = {k: {"off": k in DEFAULT_OFF, "email": True} for k in KINDS}
    for row in conn.execute(select(t.staff_notice_prefs).where(P.username == username)):
        if row.kind in out:
            out[row.kind] = {"off": bool(row.off), "email": bool(row.email)}
    return out


def set_prefs(conn: Connection, username: str, wanted: Mapping[str, Mapping[str, Any]]) -> None:
    """The user's switches for the kinds given (unknown kinds are not accepted by callers)."""
    current = prefs(conn, username)
    for kind, value in wanted.items():
        merged = {
            **current[kind],
            **{k: bool(v) for k, v in value.items() if k in ("off", "email")},
        }
        conn.execute(delete(t.staff_notice_prefs).where(P.username == username, P.kind == kind))
        conn.execute(insert(t.staff_notice_prefs).values(username=username, kind=kind, **merged))


def tell(
    conn: Connection,
    now: datetime,
    public_url: str,
    kind: str,
    users: Iterable[Any],
    number: str | None,
    text: str,
    path: str | None = None,
    subject: str | None = None,
) -> list[str]:
    """Tell each of `users` (rows with username and email), once each; who was told.
    The email links to the complaint (or to `path` of the site, for notices about no one
    complaint) and is titled with the number and the kind (or `subject`)."""
    told: list[str] = []
    link = public_url.rstrip("/") + (path or f"/complaints/{number}")
    for user in users:
        if user is None or user.username in told:
            continue
        switches = prefs(conn, user.username)[kind]
        if switches["off"]:
            continue
        conn.execute(
            insert(t.staff_notices).values(
                username=user.username,
                kind=kind,
                complaint_number=number,
                text=text,
                created_at=now,
            )
        )
        if user.email and switches["email"]:
            see = "查看：" if path else "查看投诉单："
            body = f"{text}\n\n{see}{link}\n\n（kesu 自动发送，请勿直接回复。）"
            title = subject or f"[{number}] {KINDS[kind]}"
            outbox.enqueue(conn, now, "email", user.email, body, f"staff.{kind}", subject=title)
        told.append(user.username)
    return told


def assigned(
    conn: Connection, now: datetime, public_url: str, row: Any, assignee: str, actor: str, how: str
) -> list[str]:
    """The person a complaint was given to (not when they claimed or accepted it)."""
    if how in SELF_TAKEN or assignee == actor:
        return []
    text = f"投诉单 {row.number} 已分派给您（操作人：{actor}）。"
    return tell(
        conn, now, public_url, "assigned", [team_store.user(conn, assignee)], row.number, text
    )


def approval_waiting(
    conn: Connection, now: datetime, public_url: str, row: Any, roles: Iterable[str], why: str
) -> list[str]:
    """The approvers of the complaint's team (all approvers when the team has none)."""
    roles = list(roles)
    users = team_store.with_roles(conn, roles, row.team) if row.team else []
    users = users or team_store.with_roles(conn, roles)
    text = f"投诉单 {row.number} 的处理方案待您审批：{why}"
    return tell(conn, now, public_url, "approval_waiting", users, row.number, text)


def deadline(
    conn: Connection, now: datetime, public_url: str, kind: str, row: Any, text: str
) -> list[str]:
    """A warning or a breach: the assignee and the supervisors of the complaint's team."""
    users = [team_store.user(conn, row.assignee)] if row.assignee else []
    if row.team:
        users += team_store.with_roles(conn, LEADS, row.team)
    return tell(conn, now, public_url, kind, [u for u in users if u and u.active], row.number, text)


def listing(conn: Connection, username: str, limit: int = 100) -> list[dict[str, Any]]:
    """The user's notices, newest first."""
    q = select(t.staff_notices).where(S.username == username).order_by(S.id.desc()).limit(limit)
    return [dict(r._mapping) for r in conn.execute(q)]


def unread(conn: Connection, username: str) -> int:
    return conn.execute(
        select(func.count()).where(S.username == username, S.read_at.is_(None))
    ).scalar_one()


def mark_read(conn: Connection, username: str, now: datetime, ids: Iterable[int] | None) -> int:
    """Mark the user's own notices read (`ids`, or all when None); how many were unread."""
    stmt = update(t.staff_notices).where(S.username == username, S.read_at.is_(None))
    if ids is not None:
        stmt = stmt.where(S.id.in_(list(ids)))
    return conn.execute(stmt.values(read_at=now)).rowcount


# -- the signed-in user's own notices (API and pages) ---------------------------


def _me(actor: Actor) -> str:
    """The staff user asking (customers have no notices here)."""
    p = as_principal(actor)
    if p.kind == "customer":
        raise forbidden(p, "员工通知")
    return p.name


def _view(row: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "id": row["id"],
        "kind": row["kind"],
        "kind_name": KINDS.get(row["kind"], row["kind"]),
        "complaint": row["complaint_number"],
        "text": row["text"],
        "created_at": row["created_at"].astimezone(BEIJING).isoformat(),
        "read": row["read_at"] is not None,
    }


def mine(rt: Runtime, actor: Actor, limit: int = 100) -> dict[str, Any]:
    """The caller's notices, newest first, and how many are unread."""
    me = _me(actor)
    with read(rt.engine) as conn:
        return {
            "items": [_view(r) for r in listing(conn, me, limit)],
            "unread": unread(conn, me),
        }


def unread_count(rt: Runtime, actor: Actor) -> int:
    me = _me(actor)
    with read(rt.engine) as conn:
        return unread(conn, me)


def read_mine(rt: Runtime, actor: Actor, ids: Iterable[int] | None) -> dict[str, Any]:
    """Mark the caller's notices read (`ids`, or all of them when None). Another user's
    ids are not the caller's: they are left as they are."""
    me = _me(actor)
    with write(rt.engine) as conn:
        done = mark_read(conn, me, rt.clock(), ids)
        return {"marked": done, "unread": unread(conn, me)}


def my_prefs(rt: Runtime, actor: Actor) -> dict[str, Any]:
    me = _me(actor)
    with read(rt.engine) as conn:
        return {"prefs": prefs(conn, me), "kinds": KINDS}


def set_my_prefs(rt: Runtime, actor: Actor, wanted: Mapping[str, Any]) -> dict[str, Any]:
    """The caller's switches: {kind: {off?, email?}} (422 unknown_notice_kind)."""
    me = _me(actor)
    unknown = sorted(set(wanted) - set(KINDS))
    if unknown:
        raise Problem(
            422,
            "unknown_notice_kind",
            "Unknown notice kind",
            f"未知的通知类型：{'、'.join(unknown)}；可选：{'、'.join(KINDS)}。",
        )
    with write(rt.engine) as conn:
        set_prefs(conn, me, wanted)
        return {"prefs": prefs(conn, me), "kinds": KINDS}


def customer_wrote(
    conn: Connection, now: datetime, public_url: str, row: Any, closed: bool, how: str = "来信"
) -> list[str]:
    """A customer's mail (or message: `how` 发来消息) added to a complaint: its assignee is
    told; on a closed one the team's supervisors too (they decide whether to reopen it)."""
    users = [team_store.user(conn, row.assignee)] if row.assignee else []
    if closed:
        users += team_store.with_roles(conn, LEADS, row.team) if row.team else []
        text = f"投诉单 {row.number} 已结束，客户又{how}：请查看并决定是否重开。"
    else:
        text = f"投诉单 {row.number} 的客户{how}补充了信息。"
    return tell(conn, now, public_url, "customer_wrote", users, row.number, text)


def webhook_paused(
    conn: Connection, now: datetime, public_url: str, sid: int, url: str, owner: str, error: str
) -> list[str]:
    """A subscription paused after failing for a day: the admin who made it (or, when that
    user is gone, everyone who manages the outbox) is told, with the last error."""
    users = [u for u in [team_store.user(conn, owner)] if u and u.active]
    if not users:
        managing = [r for r, v in roles().items() if "outbox.manage" in v.get("permissions", ())]
        users = team_store.with_roles(conn, managing)
    text = (
        f"推送订阅 #{sid}（{url}）已连续失败超过一天，系统已自动暂停；暂停期间的推送保留在"
        f"发送队列中，恢复后补发。最近一次错误：{error[:200]}"
    )
    path = f"/admin/webhooks/{sid}"
    subject = f"[kesu] 推送订阅 #{sid} 已自动暂停"
    return tell(conn, now, public_url, "webhook_paused", users, None, text, path, subject)
