"""Users, tokens, sessions, sign-in with lock-out, and the audit log."""

from __future__ import annotations

import hashlib
import re
import secrets
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import Connection, func, insert, select, update

from kesu.accounts import roles as r
from kesu.accounts.roles import Actor, Principal, as_principal, require
from kesu.clock import BEIJING
from kesu.problems import Problem
from kesu.store import tables as t
from kesu.store.db import read, write

if TYPE_CHECKING:
    from kesu.runtime import Runtime

_hasher = PasswordHasher()
_DUMMY_HASH = _hasher.hash("kesu-timing-equaliser")
USERNAME = re.compile(r"^[a-z][a-z0-9_.-]{1,63}$")
MIN_PASSWORD = 10
SESSION_IDLE = timedelta(hours=8)
SESSION_MAX = timedelta(hours=24)
LOCK_AFTER = 3  # failed sign-ins before the first lock
LOCK_BASE = 30  # seconds of the first lock; doubles with each further failure
LOCK_MAX = 3600
TOKEN_PREFIX = "kesu_"
DEMO_PASSWORD = "kesu-demo-{role}"


def _sha(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def _iso(value: datetime | None) -> str | None:
    return None if value is None else value.astimezone(BEIJING).isoformat()


# -- audit ----------------------------------------------------------------------


def audit(
    conn: Connection,
    actor: Actor,
    now: datetime,
    action: str,
    target_type: str | None = None,
    target_id: str | None = None,
    detail: Mapping[str, Any] | None = None,
) -> None:
    """One entry, written in the caller's transaction (so it stands or falls with the change)."""
    p = as_principal(actor)
    conn.execute(
        insert(t.audit_log).values(
            at=now,
            actor=p.name[:64],
            role=p.role[:20],
            ip=p.ip,
            action=action,
            target_type=target_type,
            target_id=None if target_id is None else str(target_id)[:100],
            detail=dict(detail or {}),
        )
    )


def audit_entries(rt: Runtime, actor: Actor, f: Mapping[str, Any]) -> dict[str, Any]:
    p = as_principal(actor)
    require(p, "audit.read")
    A = t.audit_log.c
    q = select(t.audit_log)
    if f.get("actor"):
        q = q.where(A.actor == f["actor"])
    if f.get("action"):
        q = q.where(A.action == f["action"])
    if f.get("target_type"):
        q = q.where(A.target_type == f["target_type"])
    if f.get("target_id"):
        q = q.where(A.target_id == f["target_id"])
    if f.get("from"):
        q = q.where(A.at >= f["from"])
    if f.get("to"):
        q = q.where(A.at < f["to"])
    if f.get("before_id"):
        q = q.where(A.id < f["before_id"])
    limit = int(f.get("limit") or 50)
    q = q.order_by(A.id.desc()).limit(limit + 1)
    with read(rt.engine) as conn:
        rows = conn.execute(q).fetchall()
        audit(conn, p, rt.clock(), "audit.read", None, None, {"filters": _jsonable(f)})
    items = [
        {
            "id": row.id,
            "at": _iso(row.at),
            "actor": row.actor,
            "role": row.role,
            "ip": row.ip,
            "action": row.action,
            "target_type": row.target_type,
            "target_id": row.target_id,
            "detail": row.detail,
        }
        for row in rows[:limit]
    ]
    return {"items": items, "next_before_id": items[-1]["id"] if len(rows) > limit else None}


def _jsonable(f: Mapping[str, Any]) -> dict[str, Any]:
    return {k: (v.isoformat() if isinstance(v, datetime) else v) for k, v in f.items() if v}


# -- users -----------------------------------------------------------------------


def _user_view(row) -> dict[str, Any]:
    return {
        "id": row.id,
        "username": row.username,
        "display_name": row.display_name,
        "role": row.role,
        "role_name": r.roles().get(row.role, {}).get("name", row.role),
        "org": row.org,
        "team": row.team,
        "active": bool(row.active),
        "must_change_password": bool(row.must_change_password),
        "locked_until": _iso(row.locked_until),
        "created_at": _iso(row.created_at),
        "last_login_at": _iso(row.last_login_at),
    }


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


def _check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD:
        raise Problem(422, "weak_password", "Weak password", f"密码至少 {MIN_PASSWORD} 位。")


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
    username = username.strip().lower()
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
    _check_password(password)
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
                password_hash=_hasher.hash(password),
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
    return _user_view(row), generated


def _load_user(conn: Connection, username: str):
    row = conn.execute(select(t.users).where(t.users.c.username == username)).first()
    if row is None:
        raise Problem(404, "user_not_found", "Not found", f"用户 {username} 不存在。")
    return row


def set_role(
    rt: Runtime, actor: Actor, username: str, role: str, org: str | None = None
) -> dict[str, Any]:
    p = as_principal(actor)
    require(p, "users.manage")
    _check_role(role, org)
    now = rt.clock()
    with write(rt.engine) as conn:
        row = _load_user(conn, username)
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
        return _user_view(_load_user(conn, username))


def set_active(rt: Runtime, actor: Actor, username: str, active: bool) -> dict[str, Any]:
    p = as_principal(actor)
    require(p, "users.manage")
    if p.name == username and not active:
        raise Problem(409, "cannot_disable_self", "Not allowed", "不能停用自己的账号。")
    now = rt.clock()
    with write(rt.engine) as conn:
        row = _load_user(conn, username)
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
        return _user_view(_load_user(conn, username))


def list_users(rt: Runtime, actor: Actor) -> list[dict[str, Any]]:
    require(as_principal(actor), "users.manage")
    with read(rt.engine) as conn:
        return [_user_view(u) for u in conn.execute(select(t.users).order_by(t.users.c.username))]


def change_password(rt: Runtime, actor: Principal, old: str, new: str) -> None:
    if actor.user_id is None:
        raise Problem(409, "not_a_user", "Not a user", "只有系统用户可以修改密码。")
    _check_password(new)
    now = rt.clock()
    with write(rt.engine) as conn:
        row = conn.execute(select(t.users).where(t.users.c.id == actor.user_id)).one()
        if not _verify(row.password_hash, old):
            audit(conn, actor, now, "user.password_failed", "user", row.username, {})
            raise Problem(422, "wrong_password", "Wrong password", "原密码不正确。")
        conn.execute(
            update(t.users)
            .where(t.users.c.id == row.id)
            .values(password_hash=_hasher.hash(new), must_change_password=False)
        )
        audit(conn, actor, now, "user.password", "user", row.username, {})


def _verify(stored: str | None, password: str) -> bool:
    try:
        return _hasher.verify(stored or _DUMMY_HASH, password) and stored is not None
    except (VerificationError, InvalidHashError):
        return False


# -- sign-in and sessions ----------------------------------------------------------


def _principal_of(row, kind: str, ip: str | None, scopes=None, session_id=None) -> Principal:
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


def login(
    rt: Runtime, username: str, password: str, ip: str | None, user_agent: str | None
) -> tuple[str, str, Principal, dict[str, Any]]:
    """Check a password; returns (cookie value, CSRF token, principal, user view).

    After LOCK_AFTER failures the account is locked for LOCK_BASE seconds,
    doubling with each further failure (to LOCK_MAX); while locked, no password
    is checked. Every attempt is in the audit log; no password is ever logged.
    """
    now = rt.clock()
    username = (username or "").strip().lower()
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
        ok = _verify(row.password_hash if row is not None else None, password)
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
            cookie = secrets.token_urlsafe(32)
            csrf = secrets.token_urlsafe(24)
            sid = _sha(cookie)
            conn.execute(
                insert(t.sessions).values(
                    id=sid,
                    kind="user",
                    user_id=row.id,
                    csrf_token=csrf,
                    created_at=now,
                    expires_at=now + SESSION_MAX,
                    last_seen_at=now,
                    ip=ip,
                    user_agent=(user_agent or "")[:200],
                )
            )
            conn.execute(
                update(t.users)
                .where(t.users.c.id == row.id)
                .values(failed_logins=0, locked_until=None, last_login_at=now)
            )
            principal = _principal_of(row, "user", ip, session_id=sid)
            audit(conn, principal, now, "auth.login", "user", username, {"session": sid[:12]})
            view = _user_view(conn.execute(select(t.users).where(t.users.c.id == row.id)).one())
    if failure is not None:
        raise failure
    return cookie, csrf, principal, view


def session_principal(rt: Runtime, cookie: str, ip: str | None) -> tuple[Principal, str] | None:
    """The principal and CSRF token of a live session, or None."""
    now = rt.clock()
    sid = _sha(cookie)
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
            principal = _principal_of(u, "user", ip, session_id=sid)
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


# -- tokens ---------------------------------------------------------------------------


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
        user = _load_user(conn, username)
        if not user.active:
            raise Problem(409, "user_disabled", "User disabled", f"用户 {username} 已停用。")
        tid = conn.execute(
            insert(t.api_tokens)
            .values(
                user_id=user.id,
                name=name,
                token_hash=_sha(raw),
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
            .where(t.api_tokens.c.token_hash == _sha(raw))
        ).first()
    if row is None or row.revoked_at is not None or not row.active:
        return None
    if row.expires_at is not None and row.expires_at <= now:
        return None
    if row.last_used_at is None or now - row.last_used_at > timedelta(minutes=5):
        with write(rt.engine) as conn:
            conn.execute(
                update(t.api_tokens)
                .where(t.api_tokens.c.token_hash == _sha(raw))
                .values(last_used_at=now)
            )
    return r.for_role(
        row.username,
        row.role,
        kind="token",
        org=row.org,
        user_id=row.user_id,
        scopes=row.scopes,
        ip=ip,
    )


# -- first start and demo ----------------------------------------------------------------


def has_users(rt: Runtime) -> bool:
    with read(rt.engine) as conn:
        return bool(conn.execute(select(func.count()).select_from(t.users)).scalar())


def bootstrap_admin(rt: Runtime) -> str | None:
    """On the first start, an admin with a one-time password (returned once, to print)."""
    if has_users(rt):
        return None
    try:
        _, password = create_user(rt, "kesu-setup", "admin", "admin", display_name="管理员")
    except Problem as err:
        if err.code == "user_exists":  # another process was first
            return None
        raise
    return password


def demo_users(rt: Runtime) -> list[tuple[str, str, str | None]]:
    """One user per role with a documented password: demo mode only."""
    made = []
    for role in r.roles():
        username = f"demo-{role}"
        org = "示例代理商甲" if r.roles()[role].get("scope") == "org" else None
        password = DEMO_PASSWORD.format(role=role)
        try:
            create_user(
                rt,
                "kesu-demo",
                username,
                role,
                password,
                org=org,
                display_name=f"演示{r.roles()[role]['name']}",
            )
        except Problem as err:
            if err.code != "user_exists":
                raise
        made.append((username, password, org))
    return made
