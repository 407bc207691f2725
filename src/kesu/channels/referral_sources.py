"""Referral sources: the regulator's offices that refer appeals to the operator
(管局/工信部申诉受理中心). A source has a code (named by each referral), a name (on the
reply document) and, where the regulator side runs kesu too, the URL its answers are
posted to with the shared secret they are signed with (channels.senders.ReferralSender
reads both at send time).
"""

from __future__ import annotations

import re
import secrets
from datetime import datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from sqlalchemy import Connection, select

from kesu.accounts.audit import audit
from kesu.accounts.roles import Actor, as_principal, require
from kesu.problems import Problem
from kesu.store import tables as t
from kesu.store.db import read, write

if TYPE_CHECKING:
    from kesu.runtime import Runtime

S = t.referral_sources.c
CODE = re.compile(r"^[a-z][a-z0-9_-]{1,39}$")


def get(conn: Connection, code: str) -> dict[str, Any] | None:
    row = conn.execute(select(t.referral_sources).where(S.code == code)).first()
    return dict(row._mapping) if row else None


def listing(conn: Connection) -> list[dict[str, Any]]:
    rows = conn.execute(select(t.referral_sources).order_by(S.code))
    return [dict(r._mapping) for r in rows]


def target(rt: Runtime, code: str) -> dict[str, Any] | None:
    """The source's current callback URL and secret, at send time."""
    with read(rt.engine) as conn:
        return get(conn, code)


def _check_url(url: str) -> None:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise Problem(
            422,
            "invalid_callback_url",
            "Invalid callback URL",
            f"回调地址“{url}”不对，应以 http:// 或 https:// 开头。",
        )


def save(
    rt: Runtime,
    actor: Actor,
    code: str,
    name: str,
    callback_url: str | None = None,
    new_secret: bool = False,
) -> dict[str, Any]:
    """Add a source or change its name and callback URL (outbox.manage); a secret is made
    when a callback URL is first set (or `new_secret`). Returns the source, with the
    secret only when it was made now (shown once, to give to the regulator side)."""
    p = as_principal(actor)
    require(p, "outbox.manage")
    if not CODE.fullmatch(code):
        raise Problem(
            422,
            "invalid_source_code",
            "Invalid source code",
            f"来源代码“{code}”不对：小写字母开头，由小写字母、数字、- 和 _ 组成，2到40个字符。",
        )
    name = name.strip()
    if not name or len(name) > 100:
        raise Problem(422, "invalid_source_name", "Invalid name", "来源名称不能为空，最长100个字。")
    if callback_url:
        _check_url(callback_url)
    now: datetime = rt.clock()
    with write(rt.engine) as conn:
        before = get(conn, code)
        made = None
        if callback_url and (new_secret or before is None or not before["secret"]):
            made = secrets.token_urlsafe(32)
        values: dict[str, Any] = {"name": name, "callback_url": callback_url or None}
        if made:
            values["secret"] = made
        if before is None:
            conn.execute(
                t.referral_sources.insert().values(
                    code=code, created_by=p.name, created_at=now, **values
                )
            )
        else:
            conn.execute(t.referral_sources.update().where(S.code == code).values(**values))
        audit(
            conn,
            p,
            now,
            "referral_source.save",
            "referral_source",
            code,
            {"name": name, "callback_url": callback_url, "new_secret": bool(made)},
        )
        saved = get(conn, code)
    assert saved is not None
    out = {k: saved[k] for k in ("code", "name", "callback_url")}
    if made:
        out["secret"] = made
    return out
