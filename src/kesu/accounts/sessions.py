"""Sign-in sessions: opening one, the principal behind a cookie (idle and absolute expiry),
signing out; a customer session's principal (the portal opens those).

Only the digest of the cookie is stored, with the session's CSRF token.
"""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import Connection, insert, select, update

from kesu.accounts.audit import audit
from kesu.accounts.credentials import digest
from kesu.accounts.roles import Principal
from kesu.accounts.users import user_principal
from kesu.problems import Problem
from kesu.store import tables as t
from kesu.store.db import read, write

if TYPE_CHECKING:
    from kesu.runtime import Runtime

SESSION_IDLE = timedelta(hours=8)
SESSION_MAX = timedelta(hours=24)


def open_session(
    conn: Connection,
    user_id: int | None,
    now: datetime,
    ip: str | None,
    user_agent: str | None,
    phone_hash: str | None = None,
) -> tuple[str, str, str]:
    """A new session, in the caller's transaction: (cookie value, CSRF token, id).

    A user's (`user_id`), or a customer's who proved a number (`phone_hash`)."""
    cookie = secrets.token_urlsafe(32)
    csrf = secrets.token_urlsafe(24)
    sid = digest(cookie)
    conn.execute(
        insert(t.sessions).values(
            id=sid,
            kind="user" if phone_hash is None else "customer",
            user_id=user_id,
            phone_hash=phone_hash,
            csrf_token=csrf,
            created_at=now,
            expires_at=now + SESSION_MAX,
            last_seen_at=now,
            ip=ip,
            user_agent=(user_agent or "")[:200],
        )
    )
    return cookie, csrf, sid


def session_principal(rt: Runtime, cookie: str, ip: str | None) -> tuple[Principal, str] | None:
    """The principal and CSRF token of a live session, or None."""
    now = rt.clock()
    sid = digest(cookie)
    with read(rt.engine) as conn:
        s = conn.execute(select(t.sessions).where(t.sessions.c.id == sid)).first()
        if s is None or s.ended_at is not None or s.expires_at <= now:
            return None
        if s.last_seen_at + SESSION_IDLE <= now:
            return None
        if s.kind == "customer":
            principal = customer_principal(s.phone_hash, ip, sid)
        else:
            u = conn.execute(select(t.users).where(t.users.c.id == s.user_id)).first()
            if u is None or not u.active:
                return None
            principal = user_principal(u, "user", ip, session_id=sid)
    if now - s.last_seen_at > timedelta(minutes=1):
        with write(rt.engine) as conn:
            conn.execute(update(t.sessions).where(t.sessions.c.id == sid).values(last_seen_at=now))
    return principal, s.csrf_token


def customer_principal(phone_hash: str | None, ip: str | None, sid: str | None) -> Principal:
    return Principal(
        name="customer:" + (phone_hash or "")[:8],
        role="customer",
        permissions=frozenset({"portal.own"}),
        kind="customer",
        scope="own",
        phone_hash=phone_hash,
        ip=ip,
        session_id=sid,
    )


def logout(rt: Runtime, principal: Principal) -> None:
    if principal.session_id is None:
        raise Problem(409, "no_session", "No session", "当前不是登录会话（令牌请用吊销）。")
    now = rt.clock()
    with write(rt.engine) as conn:
        conn.execute(
            update(t.sessions).where(t.sessions.c.id == principal.session_id).values(ended_at=now)
        )
        audit(conn, principal, now, "auth.logout", "session", principal.session_id[:12], {})
