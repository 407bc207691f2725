"""Passwords in use: signing in (with lock-out after failures) and changing one's password.

Every attempt is in the audit log; no password ever is.
"""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import or_, select, update

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
    # 1. Count the attempt before checking the password: one conditional UPDATE,
    #    so N concurrent attempts are counted N times and none passes a lock.
    #    The attempt that reaches LOCK_AFTER locks the account while it is checked.
    failure: Problem | None = None
    with write(rt.engine) as conn:
        counted = conn.execute(
            update(t.users)
            .where(
                t.users.c.username == username,
                or_(t.users.c.locked_until.is_(None), t.users.c.locked_until <= now),
            )
            .values(failed_logins=t.users.c.failed_logins + 1)
            .returning(t.users.c.id, t.users.c.failed_logins, t.users.c.password_hash)
        ).first()
        if counted is not None and counted.failed_logins >= LOCK_AFTER:
            conn.execute(
                update(t.users)
                .where(t.users.c.id == counted.id)
                .values(locked_until=now + _lock_for(counted.failed_logins))
            )
        elif counted is None:
            row = conn.execute(select(t.users).where(t.users.c.username == username)).first()
            if row is not None:  # locked: no password is checked
                failure = _locked(conn, who, now, username, row.locked_until)
    if failure is not None:
        raise failure
    # 2. Check the password outside any transaction (hashing is slow).
    ok = credentials.verify(counted.password_hash if counted is not None else None, password)
    # 3. A right password clears the count, unless another attempt counted after this
    #    one has locked the account meanwhile: then it is refused like any attempt.
    with write(rt.engine) as conn:
        row = None
        if counted is not None and ok:
            row = conn.execute(
                update(t.users)
                .where(
                    t.users.c.id == counted.id,
                    or_(
                        t.users.c.failed_logins == counted.failed_logins,
                        t.users.c.locked_until.is_(None),
                        t.users.c.locked_until <= now,
                    ),
                )
                .values(failed_logins=0, locked_until=None)
                .returning(*t.users.c)
            ).first()
            if row is None:
                locked_until = conn.execute(
                    select(t.users.c.locked_until).where(t.users.c.id == counted.id)
                ).scalar_one()
                failure = _locked(conn, who, now, username, locked_until)
        if failure is not None:
            pass
        elif row is None or not row.active:
            audit(
                conn,
                who,
                now,
                "auth.login_failed",
                "user",
                username,
                {"reason": "disabled" if row is not None else "bad_credentials"},
            )
            failure = Problem(
                401, "bad_credentials", "Sign-in failed", "用户名或密码不正确，或账号已停用。"
            )
        else:
            cookie, csrf, sid = open_session(conn, row.id, now, ip, user_agent)
            conn.execute(update(t.users).where(t.users.c.id == row.id).values(last_login_at=now))
            principal = user_principal(row, "user", ip, session_id=sid)
            audit(conn, principal, now, "auth.login", "user", username, {"session": sid[:12]})
            view = user_view(conn.execute(select(t.users).where(t.users.c.id == row.id)).one())
    # Committed (the count and the audit entry), then refused.
    if failure is not None:
        raise failure
    return cookie, csrf, principal, view


def _lock_for(failed: int) -> timedelta:
    return timedelta(seconds=min(LOCK_BASE * 2 ** min(failed - LOCK_AFTER, 20), LOCK_MAX))


def _locked(conn, who: Principal, now, username: str, until) -> Problem:
    """Audit an attempt refused by the lock; the problem to raise once committed."""
    wait = max(1, int((until - now).total_seconds()) + 1) if until is not None else 1
    audit(conn, who, now, "auth.login_locked", "user", username, {})
    return Problem(
        429,
        "account_locked",
        "Locked",
        f"登录失败次数过多，账号已临时锁定，请 {wait} 秒后再试。",
        retry_after=wait,
    )


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
