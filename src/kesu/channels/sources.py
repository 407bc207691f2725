"""Message sources in: the systems that post customers' messages to kesu (an SMS
gateway's replies, a WeChat service account, the app), their rows, and the check of a
signed request.

A request names its source in the URL and carries `X-Kesu-Timestamp` (Unix seconds) and
`X-Kesu-Signature: sha256=<hex>`, the HMAC-SHA256 of `<timestamp>.<body>` with the
source's secret — the same signature kesu's own webhooks out carry
(`channels.webhooks.signature`). `verify` refuses, as 401 problems with stable codes and
Chinese details: no signature, an unknown source, a wrong signature, a timestamp more
than five minutes from kesu's clock, a paused source. `seen` records the signature in
the caller's transaction (INSERT … ON CONFLICT DO NOTHING on its primary key): of two
identical requests, even sent at once, exactly one gets in.
"""

from __future__ import annotations

import hmac
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, delete, func, insert, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from kesu.channels.webhooks import signature
from kesu.problems import Problem
from kesu.store import tables as t

S = t.channel_sources.c
M = t.channel_messages.c
R = t.channel_replays.c
KINDS = ("sms", "wechat", "app")  # each is the complaint channel of its messages
STATES = ("active", "paused")
WINDOW = timedelta(minutes=5)  # a timestamp further from kesu's clock is refused
KEEP_SEEN = timedelta(minutes=15)  # longer than any timestamp stays acceptable
SIGNATURE_HEADER, TIMESTAMP_HEADER = "X-Kesu-Signature", "X-Kesu-Timestamp"
SOURCE_HEADER = "X-Kesu-Source"  # who signed, where the URL does not say (referrals)
_CHALLENGE = {"WWW-Authenticate": 'KesuSignature realm="kesu", headers="X-Kesu-Timestamp"'}


def refused(code: str, detail: str) -> Problem:
    """A request refused before anything is written (401, problem+json)."""
    return Problem(401, code, "Request not signed correctly", detail, headers=dict(_CHALLENGE))


def check(
    secret: str | None,
    stamp: str | None,
    sig: str | None,
    body: bytes,
    now: datetime,
    unknown: str,
) -> None:
    """The one check of a signed request in (message sources, referral sources, the
    centre's operators): signed at all, by a known caller (`secret` None: unknown, 401
    with the detail `unknown`), with that secret, within five minutes of kesu's clock."""
    if not stamp or not sig:
        raise refused(
            "signature_missing",
            f"请求未签名：须带 {TIMESTAMP_HEADER}（Unix 秒）和 "
            f"{SIGNATURE_HEADER}（sha256=…）请求头。",
        )
    if not secret:
        raise refused("source_unknown", unknown)
    expected = signature(secret, stamp, body)
    if not hmac.compare_digest(expected.encode(), sig.strip().encode()):
        raise refused(
            "signature_invalid",
            "签名不正确：应为 sha256= 加上以该来源密钥对“时间戳.请求体”计算的 HMAC-SHA256"
            "（十六进制）。",
        )
    if not stamp.isdigit() or abs(now.timestamp() - int(stamp)) > WINDOW.total_seconds():
        raise refused(
            "signature_expired",
            "请求时间戳（X-Kesu-Timestamp）与服务器时间相差超过 5 分钟，请检查时钟并重新签名发送。",
        )


def verify(
    conn: Connection, name: str, stamp: str | None, sig: str | None, body: bytes, now: datetime
) -> dict[str, Any]:
    """The active source `name` whose secret signed this body at this time (or a 401)."""
    source = get(conn, name) if stamp and sig else None
    unknown = f"未配置的消息来源“{name[:40]}”，请管理员先在系统中添加。"
    check(source["secret"] if source else None, stamp, sig, body, now, unknown)
    assert source is not None
    if source["state"] != "active":
        raise refused("source_paused", f"消息来源“{name}”已暂停接收，请联系管理员恢复。")
    return source


def seen(conn: Connection, name: str, sig: str, now: datetime) -> None:
    """The signature recorded (refused as a replay if it was already): one statement, so
    that of two concurrent copies only one inserts. Old signatures are dropped."""
    ins = pg_insert if conn.dialect.name == "postgresql" else sqlite_insert
    got = conn.execute(
        ins(t.channel_replays)
        .values(source=name, signature=sig.strip()[:80], seen_at=now)
        .on_conflict_do_nothing()
        .returning(R.source)
    ).first()
    if got is None:
        raise refused(
            "message_replayed", "该请求已经收到过（签名重复），不再处理；重发请重新签名。"
        )
    conn.execute(delete(t.channel_replays).where(R.source == name, R.seen_at < now - KEEP_SEEN))


def forget(conn: Connection, name: str, sig: str) -> None:
    """A request that was not taken in after all (an error): its signature may come again."""
    conn.execute(delete(t.channel_replays).where(R.source == name, R.signature == sig.strip()[:80]))


# -- messages taken in ----------------------------------------------------------------


def taken(conn: Connection, name: str, message_id: str) -> dict[str, Any] | None:
    """What became of this message of the source, if it was taken in before."""
    row = conn.execute(
        select(M.result, M.complaint_number).where(M.source == name, M.message_id == message_id)
    ).first()
    return None if row is None else {"result": row.result, "number": row.complaint_number}


def record(
    conn: Connection, name: str, message_id: str, result: str, number: str, now: datetime
) -> bool:
    """The message recorded as taken in; False when it already was (nothing written)."""
    ins = pg_insert if conn.dialect.name == "postgresql" else sqlite_insert
    got = conn.execute(
        ins(t.channel_messages)
        .values(
            source=name,
            message_id=message_id,
            result=result,
            complaint_number=number,
            received_at=now,
        )
        .on_conflict_do_nothing()
        .returning(M.id)
    ).first()
    return got is not None


# -- the sources' rows ----------------------------------------------------------------


def get(conn: Connection, name: str) -> dict[str, Any] | None:
    row = conn.execute(select(t.channel_sources).where(S.name == name)).first()
    return dict(row._mapping) if row else None


def listing(conn: Connection) -> list[dict[str, Any]]:
    """The sources with how many messages each took in and when the last one came."""
    counts = {
        r.source: (r.n, r.last)
        for r in conn.execute(
            select(
                M.source, func.count().label("n"), func.max(M.received_at).label("last")
            ).group_by(M.source)
        )
    }
    out = []
    for r in conn.execute(select(t.channel_sources).order_by(S.name)):
        n, last = counts.get(r.name, (0, None))
        out.append({**r._mapping, "messages": n, "last_message_at": last})
    return out


def add(
    conn: Connection, now: datetime, name: str, kind: str, label: str | None, secret: str, by: str
) -> None:
    conn.execute(
        insert(t.channel_sources).values(
            name=name,
            kind=kind,
            label=label,
            secret=secret,
            state="active",
            created_by=by,
            created_at=now,
        )
    )


def change(conn: Connection, name: str, **values: Any) -> None:
    conn.execute(update(t.channel_sources).where(S.name == name).values(**values))


def remove(conn: Connection, name: str) -> None:
    conn.execute(delete(t.channel_sources).where(S.name == name))
