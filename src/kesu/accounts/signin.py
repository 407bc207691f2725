"""Passwords in use: signing in (with lock-out after failures) and changing one's password.

Every attempt is in the audit log; no password ever is.
"""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import select, update

from kesu.accounts import credentials
from kesu.accounts.audit import audit
from kesu.accounts.roles import Principal
from kesu.accounts.sessions import open_session
from kesu.accounts.users import normalise_username, user_principal, user_view
from kesu.problems import Problem
from kesu.store import tables as t
from kesu.store.db import write

if TYPE_CHECKING:
    from kesu.runtime import Runtime

LOCK_AFTER = 3  # failed sign-ins before the first lock
LOCK_BASE = 30  # seconds of the first lock; doubles with each further failure
LOCK_MAX = 3600


def login(
    rt: Runtime, username: str, password: str, ip: str | None, user_agent: str | None
) -> tuple[str, str, Principal, dict[str, Any]]:
    """Check a password; returns (cookie value, CSRF token, principal, user view).

    After LOCK_AFTER failures the account is locked for LOCK_BASE seconds,
    doubling with each further failure (to LOCK_MAX); while locked, no password
    is checked. Every attempt is in the audit log; no password is ever logged.
    """
    now = rt.clock()
    username = normalise_username(username)
    who = Principal(
        name=(username or "?")[:64],
        role="anonymous",
        permissions=frozenset(),
        kind="anonymous",
        ip=ip,
    )
    failure: Problem | None = None
    with write(rt.engine) as conn:
        row = conn.execute(select(t.users).where(t.users.c.username == username)).first()
        if row is not None and row.locked_until is not None and row.locked_until > now:
            wait = int((row.locked_until - now).total_seconds()) + 1
            audit(conn, who, now, "auth.login_locked", "user", username, {})
            failure = Problem(
                429,
                "account_locked",
                "Locked",
                f"登录失败次数过多，账号已临时锁定，请 {wait} 秒后再试。",
                retry_after=wait,
            )
    if failure is not None:
        raise failure
    with write(rt.engine) as conn:
        row = conn.execute(select(t.users).where(t.users.c.username == username)).first()
        ok = credentials.verify(row.password_hash if row is not None else None, password)
        if row is None or not ok or not row.active:
            if row is not None and not ok:
                failed = row.failed_logins + 1
                locked = None
                if failed >= LOCK_AFTER:
                    seconds = min(LOCK_BASE * 2 ** (failed - LOCK_AFTER), LOCK_MAX)
                    locked = now + timedelta(seconds=seconds)
                conn.execute(
                    update(t.users)
                    .where(t.users.c.id == row.id)
                    .values(failed_logins=failed, locked_until=locked)
                )
            audit(
                conn,
                who,
                now,
                "auth.login_failed",
                "user",
                username,
                {"reason": "disabled" if row is not None and ok else "bad_credentials"},
            )
            # Committed (the count and the audit entry), then refused.
            failure = Problem(
                401, "bad_credentials", "Sign-in failed", "用户名或密码不正确，或账号已停用。"
            )
        else:
            cookie, csrf, sid = open_session(conn, row.id, now, ip, user_agent)
            conn.execute(
                update(t.users)
                .where(t.users.c.id == row.id)
                .values(failed_logins=0, locked_until=None, last_login_at=now)
            )
            principal = user_principal(row, "user", ip, session_id=sid)
            audit(conn, principal, now, "auth.login", "user", username, {"session": sid[:12]})
            view = user_view(conn.execute(select(t.users).where(t.users.c.id == row.id)).one())
    if failure is not None:
        raise failure
    return cookie, csrf, principal, view


def change_password(rt: Runtime, actor: Principal, old: str, new: str) -> None:
    if actor.user_id is None:
        raise Problem(409, "not_a_user", "Not a user", "只有系统用户可以修改密码。")
    credentials.check_strength(new)
    now = rt.clock()
    with write(rt.engine) as conn:
        row = conn.execute(select(t.users).where(t.users.c.id == actor.user_id)).one()
        if not credentials.verify(row.password_hash, old):
            audit(conn, actor, now, "user.password_failed", "user", row.username, {})
            raise Problem(422, "wrong_password", "Wrong password", "原密码不正确。")
        conn.execute(
            update(t.users)
            .where(t.users.c.id == row.id)
            .values(password_hash=credentials.hash_password(new), must_change_password=False)
        )
        audit(conn, actor, now, "user.password", "user", row.username, {})
