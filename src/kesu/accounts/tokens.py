"""Bearer tokens: creating one (shown once; only its digest is stored), revoking it, and
the principal behind a token on each request.
"""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import insert, select, update

from kesu.accounts import roles as r
from kesu.accounts.audit import audit
from kesu.accounts.credentials import digest
from kesu.accounts.roles import Actor, Principal, as_principal
from kesu.accounts.users import load_user, normalise_username
from kesu.clock import BEIJING
from kesu.problems import Problem
from kesu.store import tables as t
from kesu.store.db import read, write

if TYPE_CHECKING:
    from kesu.runtime import Runtime

TOKEN_PREFIX = "kesu_"


def _iso(value: datetime | None) -> str | None:
    return None if value is None else value.astimezone(BEIJING).isoformat()


def create_token(
    rt: Runtime,
    actor: Actor,
    username: str,
    name: str = "api",
    expires_days: int | None = 90,
    scopes: list[str] | None = None,
) -> tuple[str, dict[str, Any]]:
    """A bearer token for a user (shown once; only its hash is stored)."""
    p = as_principal(actor)
    username = normalise_username(username)
    if not (p.can("users.manage") or p.name == username):
        raise r.forbidden(p, "为其他用户创建令牌")
    if scopes:
        unknown = set(scopes) - set(r.permissions())
        if unknown:
            raise Problem(
                422,
                "unknown_scope",
                "Unknown scope",
                f"未知的权限范围：{'、'.join(sorted(unknown))}",
            )
    if expires_days is not None and not 1 <= expires_days <= 3650:
        raise Problem(422, "invalid_expiry", "Invalid expiry", "有效期应为 1 到 3650 天。")
    now = rt.clock()
    raw = TOKEN_PREFIX + secrets.token_urlsafe(32)
    with write(rt.engine) as conn:
        user = load_user(conn, username)
        if not user.active:
            raise Problem(409, "user_disabled", "User disabled", f"用户 {username} 已停用。")
        tid = conn.execute(
            insert(t.api_tokens)
            .values(
                user_id=user.id,
                name=name,
                token_hash=digest(raw),
                prefix=raw[:12],
                scopes=scopes,
                created_at=now,
                created_by=p.name,
                expires_at=None if expires_days is None else now + timedelta(days=expires_days),
            )
            .returning(t.api_tokens.c.id)
        ).scalar_one()
        audit(
            conn,
            p,
            now,
            "token.create",
            "token",
            str(tid),
            {"user": username, "name": name, "scopes": scopes, "expires_days": expires_days},
        )
        row = conn.execute(select(t.api_tokens).where(t.api_tokens.c.id == tid)).one()
    return raw, _token_view(row, username)


def _token_view(row, username: str) -> dict[str, Any]:
    return {
        "id": row.id,
        "user": username,
        "name": row.name,
        "prefix": row.prefix,
        "scopes": row.scopes,
        "created_at": _iso(row.created_at),
        "expires_at": _iso(row.expires_at),
        "revoked_at": _iso(row.revoked_at),
        "last_used_at": _iso(row.last_used_at),
    }


def revoke_token(rt: Runtime, actor: Actor, token_id: int) -> dict[str, Any]:
    p = as_principal(actor)
    now = rt.clock()
    with write(rt.engine) as conn:
        row = conn.execute(
            select(t.api_tokens, t.users.c.username)
            .join(t.users, t.users.c.id == t.api_tokens.c.user_id)
            .where(t.api_tokens.c.id == token_id)
        ).first()
        if row is None:
            raise Problem(404, "token_not_found", "Not found", f"令牌 {token_id} 不存在。")
        if not (p.can("users.manage") or p.name == row.username):
            raise r.forbidden(p, "吊销其他用户的令牌")
        conn.execute(
            update(t.api_tokens).where(t.api_tokens.c.id == token_id).values(revoked_at=now)
        )
        audit(conn, p, now, "token.revoke", "token", str(token_id), {"user": row.username})
        row = conn.execute(select(t.api_tokens).where(t.api_tokens.c.id == token_id)).one()
        return _token_view(row, p.name)


def token_principal(rt: Runtime, raw: str, ip: str | None) -> Principal | None:
    now = rt.clock()
    with read(rt.engine) as conn:
        row = conn.execute(
            select(t.api_tokens, t.users)
            .join(t.users, t.users.c.id == t.api_tokens.c.user_id)
            .where(t.api_tokens.c.token_hash == digest(raw))
        ).first()
    if row is None or row.revoked_at is not None or not row.active:
        return None
    if row.expires_at is not None and row.expires_at <= now:
        return None
    if row.last_used_at is None or now - row.last_used_at > timedelta(minutes=5):
        with write(rt.engine) as conn:
            conn.execute(
                update(t.api_tokens)
                .where(t.api_tokens.c.token_hash == digest(raw))
                .values(last_used_at=now)
            )
    p = r.for_role(
        row.username,
        row.role,
        kind="token",
        org=row.org,
        user_id=row.user_id,
        scopes=row.scopes,
        ip=ip,
    )
    p.extra["team"] = row.team  # the user's team: whose complaints they may claim
    return p
