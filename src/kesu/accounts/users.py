"""Managing users: create, change role, enable or disable, list; a user row as a Principal.

Every change needs `users.manage` and is in the audit log. Passwords are hashed by
accounts.credentials; signing in is accounts.signin, bearer tokens accounts.tokens.
"""

from __future__ import annotations

import re
import secrets
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, insert, select, update

from kesu.accounts import credentials, masking
from kesu.accounts import roles as r
from kesu.accounts.audit import audit
from kesu.accounts.roles import Actor, Principal, as_principal, require
from kesu.clock import BEIJING
from kesu.problems import Problem
from kesu.store import tables as t
from kesu.store.db import read, write

if TYPE_CHECKING:
    from kesu.runtime import Runtime

USERNAME = re.compile(r"^[a-z][a-z0-9_.-]{1,63}$")
EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s.]+(\.[^@\s.]+)+$")


def normalise_username(username: str | None) -> str:
    """A user name as it is stored and looked up: stripped and lower-case.

    Every entry point (API, pages, CLI, sign-in, tokens) goes through this, so
    `u_resA` and `u_resa` are one user.
    """
    return (username or "").strip().lower()


def _iso(value: datetime | None) -> str | None:
    return None if value is None else value.astimezone(BEIJING).isoformat()


def user_view(row) -> dict[str, Any]:
    return {
        "id": row.id,
        "username": row.username,
        "display_name": row.display_name,
        "role": row.role,
        "role_name": r.roles().get(row.role, {}).get("name", row.role),
        "org": row.org,
        "team": row.team,
        "skills": sorted(row.skills or ()),
        "active": bool(row.active),
        "must_change_password": bool(row.must_change_password),
        "locked_until": _iso(row.locked_until),
        "created_at": _iso(row.created_at),
        "last_login_at": _iso(row.last_login_at),
        "email": masking.email(row.email) if row.email else None,
    }


def user_principal(row, kind: str, ip: str | None, scopes=None, session_id=None) -> Principal:
    p = r.for_role(
        row.username,
        row.role,
        kind=kind,
        org=row.org,
        user_id=row.id,
        scopes=scopes,
        ip=ip,
        session_id=session_id,
    )
    # The user's team: the workbench's "my team" queue.
    p.extra["team"] = row.team
    # A generated one-time password: the pages ask for a new one before anything else.
    p.extra["must_change_password"] = bool(row.must_change_password)
    return p


def _check_role(role: str, org: str | None) -> None:
    if role not in r.roles():
        raise Problem(
            422, "unknown_role", "Unknown role", f"未知的角色“{role}”，可选：{'、'.join(r.roles())}"
        )
    if r.roles()[role].get("scope") == "org" and not org:
        raise Problem(
            422, "org_required", "Organisation required", "代理商用户必须指定所属代理商（org）。"
        )
    if r.roles()[role].get("scope") != "org" and org:
        raise Problem(
            422, "org_not_allowed", "Organisation not allowed", "只有代理商用户属于代理商组织。"
        )


def create_user(
    rt: Runtime,
    actor: Actor,
    username: str,
    role: str,
    password: str | None = None,
    org: str | None = None,
    team: str | None = None,
    display_name: str | None = None,
) -> tuple[dict[str, Any], str | None]:
    """A new user; returns the view and the generated one-time password (if none was given)."""
    p = as_principal(actor)
    require(p, "users.manage")
    username = normalise_username(username)
    if not USERNAME.match(username):
        raise Problem(
            422,
            "invalid_username",
            "Invalid username",
            "用户名以小写字母开头，只含小写字母、数字和 _ . -，2 到 64 位。",
        )
    _check_role(role, org)
    generated = None
    if password is None:
        generated = password = secrets.token_urlsafe(12)
    credentials.check_strength(password)
    now = rt.clock()
    with write(rt.engine) as conn:
        if conn.execute(select(t.users.c.id).where(t.users.c.username == username)).first():
            raise Problem(409, "user_exists", "User exists", f"用户 {username} 已存在。")
        uid = conn.execute(
            insert(t.users)
            .values(
                username=username,
                display_name=display_name,
                role=role,
                org=org,
                team=team,
                password_hash=credentials.hash_password(password),
                active=True,
                must_change_password=generated is not None,
                failed_logins=0,
                created_at=now,
                created_by=p.name,
            )
            .returning(t.users.c.id)
        ).scalar_one()
        audit(
            conn, p, now, "user.create", "user", username, {"role": role, "org": org, "team": team}
        )
        row = conn.execute(select(t.users).where(t.users.c.id == uid)).one()
    return user_view(row), generated


def load_user(conn: Connection, username: str):
    username = normalise_username(username)
    row = conn.execute(select(t.users).where(t.users.c.username == username)).first()
    if row is None:
        raise Problem(404, "user_not_found", "Not found", f"用户 {username} 不存在。")
    return row


def set_role(
    rt: Runtime, actor: Actor, username: str, role: str, org: str | None = None
) -> dict[str, Any]:
    p = as_principal(actor)
    require(p, "users.manage")
    username = normalise_username(username)
    _check_role(role, org)
    now = rt.clock()
    with write(rt.engine) as conn:
        row = load_user(conn, username)
        conn.execute(update(t.users).where(t.users.c.id == row.id).values(role=role, org=org))
        audit(
            conn,
            p,
            now,
            "user.role",
            "user",
            username,
            {"before": {"role": row.role, "org": row.org}, "after": {"role": role, "org": org}},
        )
        return user_view(load_user(conn, username))


def set_active(rt: Runtime, actor: Actor, username: str, active: bool) -> dict[str, Any]:
    p = as_principal(actor)
    require(p, "users.manage")
    username = normalise_username(username)
    if p.name == username and not active:
        raise Problem(409, "cannot_disable_self", "Not allowed", "不能停用自己的账号。")
    now = rt.clock()
    with write(rt.engine) as conn:
        row = load_user(conn, username)
        conn.execute(update(t.users).where(t.users.c.id == row.id).values(active=active))
        if not active:  # a disabled user's sessions and tokens stop at once
            conn.execute(
                update(t.sessions)
                .where(t.sessions.c.user_id == row.id, t.sessions.c.ended_at.is_(None))
                .values(ended_at=now)
            )
        audit(
            conn,
            p,
            now,
            "user.enable" if active else "user.disable",
            "user",
            username,
            {"before": {"active": bool(row.active)}, "after": {"active": active}},
        )
        return user_view(load_user(conn, username))


def list_users(rt: Runtime, actor: Actor) -> list[dict[str, Any]]:
    require(as_principal(actor), "users.manage")
    with read(rt.engine) as conn:
        return [user_view(u) for u in conn.execute(select(t.users).order_by(t.users.c.username))]


def check_email(email: str) -> str:
    """An address as stored (stripped, lower-case domain), or 422 invalid_email."""
    email = email.strip()
    if len(email) > 200 or not EMAIL.match(email):
        raise Problem(
            422,
            "invalid_email",
            "Invalid email",
            f"“{email[:50]}”不是有效的电子邮件地址（形如 name@example.com）。",
        )
    local, _, domain = email.rpartition("@")
    return f"{local}@{domain.lower()}"


def set_email(rt: Runtime, actor: Actor, username: str, email: str | None) -> dict[str, Any]:
    """The address a user's notices are mailed to (empty or None: none); audited, the
    addresses masked in the audit entry."""
    p = as_principal(actor)
    require(p, "users.manage")
    email = check_email(email) if email and email.strip() else None
    now = rt.clock()
    with write(rt.engine) as conn:
        row = load_user(conn, username)
        conn.execute(update(t.users).where(t.users.c.id == row.id).values(email=email))
        audit(
            conn,
            p,
            now,
            "user.email",
            "user",
            row.username,
            {
                "before": {"email": masking.email(row.email) if row.email else None},
                "after": {"email": masking.email(email) if email else None},
            },
        )
        return user_view(load_user(conn, username))
