"""Customers prove they hold a phone number with a one-time code (for the portal).

The code leaves through the notification outbox (channels.outbox, SMS); in demo
mode the outbox "delivers" by writing to the console. A customer session sees only the
complaints registered for that number.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, insert, select, update

from kesu.accounts import crypto
from kesu.accounts.audit import audit
from kesu.accounts.sessions import customer_principal, open_session
from kesu.channels import delivery, outbox, phones
from kesu.problems import Problem
from kesu.store import gates
from kesu.store import tables as t
from kesu.store.db import write

if TYPE_CHECKING:
    from kesu.accounts.roles import Principal
    from kesu.runtime import Runtime

CODE_TTL = timedelta(minutes=5)
RESEND_AFTER = timedelta(seconds=60)
PER_HOUR = 5
MAX_ATTEMPTS = 5


def normalise(phone: str) -> str:
    digits = phones.digits(phone)
    if not phones.is_mobile(digits):
        raise Problem(422, "invalid_phone", "Invalid phone", "请输入11位手机号码。")
    return digits


def _code_hash(phone_hash: str, code: str) -> str:
    return hashlib.sha256(f"{phone_hash}:{code}".encode()).hexdigest()


def request_code(rt: Runtime, phone: str, ip: str | None) -> dict[str, Any]:
    phone = normalise(phone)
    ph = crypto.phone_hash(phone)
    now = rt.clock()
    code = f"{secrets.randbelow(1_000_000):06d}"
    with write(rt.engine) as conn:
        # The read and the insert below under one row lock per number: concurrent
        # requests for one number are counted one after the other.
        gates.hold(conn, f"code:{ph[:40]}")
        recent = conn.execute(
            select(func.count(), func.max(t.customer_codes.c.created_at)).where(
                t.customer_codes.c.phone_hash == ph,
                t.customer_codes.c.created_at > now - timedelta(hours=1),
            )
        ).one()
        if recent[1] is not None and now - recent[1] < RESEND_AFTER:
            wait = int((RESEND_AFTER - (now - recent[1])).total_seconds()) + 1
            raise Problem(
                429,
                "code_too_soon",
                "Too soon",
                f"验证码已发送，请 {wait} 秒后再试。",
                retry_after=wait,
            )
        if recent[0] >= PER_HOUR:
            raise Problem(
                429,
                "code_limit",
                "Too many codes",
                "该号码一小时内获取验证码过多，请稍后再试。",
                retry_after=3600,
            )
        conn.execute(
            insert(t.customer_codes).values(
                phone_hash=ph,
                code_hash=_code_hash(ph, code),
                created_at=now,
                expires_at=now + CODE_TTL,
                attempts=0,
            )
        )
        outbox.enqueue(
            conn,
            now,
            "sms",
            phone,
            f"【客诉】您的验证码是 {code}，{_minutes()}分钟内有效。如非本人操作请忽略。",
            "portal_code",
        )
        audit(conn, _anon(ip), now, "portal.code", "phone", ph[:12], {})
    if rt.settings.demo:  # the code on the console at once
        delivery.deliver(rt)
    return {"sent": True, "expires_in": int(CODE_TTL.total_seconds())}


def _minutes() -> int:
    return int(CODE_TTL.total_seconds() // 60)


def _anon(ip: str | None) -> Principal:
    from kesu.accounts.roles import Principal

    return Principal(
        name="customer", role="customer", permissions=frozenset(), kind="customer", ip=ip
    )


def verify(rt: Runtime, phone: str, code: str, ip: str | None, ua: str | None):
    """Check a code; returns (cookie, csrf, principal)."""
    phone = normalise(phone)
    ph = crypto.phone_hash(phone)
    now = rt.clock()
    failure: Problem | None = None
    with write(rt.engine) as conn:
        row = conn.execute(
            select(t.customer_codes)
            .where(t.customer_codes.c.phone_hash == ph, t.customer_codes.c.used_at.is_(None))
            .order_by(t.customer_codes.c.created_at.desc())
            .limit(1)
        ).first()
        if row is None or row.expires_at <= now or row.attempts >= MAX_ATTEMPTS:
            failure = Problem(
                401, "code_invalid", "Invalid code", "验证码无效或已过期，请重新获取。"
            )
            audit(
                conn, _anon(ip), now, "portal.login_failed", "phone", ph[:12], {"reason": "expired"}
            )
        else:
            # Count the attempt first, in one conditional UPDATE (the row stays locked
            # to this transaction): N concurrent attempts count N times, and none is
            # compared once MAX_ATTEMPTS are used up.
            counted = conn.execute(
                update(t.customer_codes)
                .where(
                    t.customer_codes.c.id == row.id,
                    t.customer_codes.c.used_at.is_(None),
                    t.customer_codes.c.attempts < MAX_ATTEMPTS,
                )
                .values(attempts=t.customer_codes.c.attempts + 1)
                .returning(t.customer_codes.c.attempts)
            ).first()
            right = hmac.compare_digest(row.code_hash, _code_hash(ph, (code or "").strip()))
            if counted is None or not right:
                reason = "wrong" if counted is not None else "expired"
                detail = {"reason": reason}
                audit(conn, _anon(ip), now, "portal.login_failed", "phone", ph[:12], detail)
                failure = Problem(
                    401,
                    "code_invalid",
                    "Invalid code",
                    "验证码不正确。" if counted is not None else "验证码无效或已过期，请重新获取。",
                )
            else:
                conn.execute(
                    update(t.customer_codes)
                    .where(t.customer_codes.c.id == row.id)
                    .values(used_at=now)
                )
                cookie, csrf, sid = open_session(conn, None, now, ip, ua, phone_hash=ph)
                principal = customer_principal(ph, ip, sid)
                audit(conn, principal, now, "portal.login", "phone", ph[:12], {})
    if failure is not None:
        raise failure
    return cookie, csrf, principal
