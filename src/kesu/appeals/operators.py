"""The operators the centre takes appeals against and refers them to: code, name and
address (第十二条（二）: the appeal names them), the user base the per-million rate divides
by, and, where the operator runs kesu, the URL of its POST /api/v1/referrals and the
shared secret the referrals are signed with (the operator configures the same secret for
this centre as a referral source)."""

from __future__ import annotations

import re
import secrets
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from kesu.accounts.audit import audit
from kesu.accounts.roles import Actor, as_principal, require
from kesu.appeals import records
from kesu.problems import Problem
from kesu.store.db import read, write

if TYPE_CHECKING:
    from kesu.runtime import Runtime

CODE = re.compile(r"^[a-z][a-z0-9_-]{1,39}$")


def _public(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "code": row["code"],
        "name": row["name"],
        "address": row["address"],
        "users": row["users"],
        "referral_url": row["referral_url"],
        "connected": bool(row["referral_url"] and row["secret"]),
    }


def listing(rt: Runtime, actor: Actor) -> list[dict[str, Any]]:
    require(as_principal(actor), "appeal.read")
    with read(rt.engine) as conn:
        return [_public(r) for r in records.operators(conn)]


def names(rt: Runtime) -> dict[str, str]:
    """code → name (statistics, pages)."""
    with read(rt.engine) as conn:
        return {r["code"]: r["name"] for r in records.operators(conn)}


def user_base(rt: Runtime) -> dict[str, int]:
    with read(rt.engine) as conn:
        return {r["code"]: int(r["users"]) for r in records.operators(conn) if r["users"]}


def target(rt: Runtime, code: str) -> dict[str, Any] | None:
    """The operator's referral URL and secret at send time (the outbox's sender)."""
    with read(rt.engine) as conn:
        return records.operator(conn, code)


def save(
    rt: Runtime,
    actor: Actor,
    code: str,
    name: str,
    address: str | None = None,
    users: int | None = None,
    referral_url: str | None = None,
    secret: str | None = None,
) -> dict[str, Any]:
    """Add or change an operator. A referral URL without a secret gets a new one, shown
    once in the answer (`secret`), to be configured on the operator's side."""
    p = as_principal(actor)
    require(p, "appeal.manage")
    if not CODE.fullmatch(code):
        raise Problem(
            422,
            "invalid_operator_code",
            "Invalid operator code",
            f"企业代码“{code}”不对：小写字母开头，只含小写字母、数字、- 和 _，2–40个字符。",
        )
    if not name.strip():
        raise Problem(422, "appeal_field_required", "Name required", "请填写企业名称。")
    if users is not None and users < 0:
        raise Problem(422, "invalid_users", "Invalid user count", "用户数不能为负数。")
    made = None
    if referral_url:
        parts = urlsplit(referral_url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise Problem(
                422,
                "invalid_callback_url",
                "Invalid referral URL",
                f"转办地址“{referral_url}”不对，应以 http:// 或 https:// 开头。",
            )
    now = rt.clock()
    with write(rt.engine) as conn:
        found = records.operator(conn, code)
        if referral_url and not secret and not (found and found["secret"]):
            made = secret = secrets.token_urlsafe(32)
        values: dict[str, Any] = {
            "code": code,
            "name": name.strip(),
            "address": address,
            "users": users,
            "referral_url": referral_url,
            "created_by": p.name,
        }
        if secret:
            values["secret"] = secret
        records.save_operator(conn, values, now)
        audit(conn, p, now, "appeal.operator", "appeal_operator", code, {"name": name})
        row = records.operator(conn, code)
    assert row is not None
    return {**_public(row), **({"secret": made} if made else {})}
