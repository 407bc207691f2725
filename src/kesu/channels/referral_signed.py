"""A referral posted by an appeal centre's own kesu (`POST /api/v1/referrals` without a
token): signed by a configured referral source (channels.referral_sources) with the secret
both sides hold.

The request names its source in `X-Kesu-Source` and carries `X-Kesu-Timestamp` and
`X-Kesu-Signature` (`sha256=` HMAC-SHA256 of `<timestamp>.<body>`), checked as every signed
request in is (channels.sources.check: within five minutes of kesu's clock, each signature
taken once). An unsigned, badly signed, late or replayed request is a 401 and writes
nothing. The body's `source` must be the header's. The referral is then received as any
other (channels.referrals.receive, idempotent by its reference), by the source itself
(`referral:<code>`), which may register complaints for this one request and nothing else.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from kesu.accounts.roles import Principal
from kesu.channels import referral_sources, referrals, sources
from kesu.channels.referral_in import ReferralIn
from kesu.problems import Problem
from kesu.store.db import read, write

if TYPE_CHECKING:
    from kesu.runtime import Runtime

ACTOR = "referral:"


def _replay_key(code: str) -> str:
    return f"{ACTOR}{code}"[:40]


def verify(rt: Runtime, code: str, stamp: str | None, sig: str | None, body: bytes) -> Principal:
    """The source `code` that signed this body now (or a 401): it acts for this request
    with the rights to register a complaint and read what it registered."""
    now = rt.clock()
    with read(rt.engine) as conn:
        src = referral_sources.get(conn, code[:40]) if stamp and sig else None
    unknown = (
        f"未配置的转办来源“{code[:40]}”，或其未设置密钥："
        "请管理员先用 `kesu referrals source` 添加。"
    )
    sources.check(src["secret"] if src else None, stamp, sig, body, now, unknown)
    return Principal(
        name=f"{ACTOR}{code}"[:64],
        role="referral_source",
        permissions=frozenset({"complaint.register", "complaint.read"}),
        kind="system",
        extra={"referral_source": code, "signature": str(sig)},
    )


def receive(rt: Runtime, ref: ReferralIn, p: Principal) -> tuple[dict[str, Any], bool]:
    """The signed referral received (the signature taken once, given back on an error)."""
    code, sig = p.extra["referral_source"], p.extra["signature"]
    if ref.source != code:
        raise Problem(
            422,
            "referral_source_mismatch",
            "Source differs from the signer",
            f"转办单的来源（source：“{ref.source or ''}”）与签名的来源（{sources.SOURCE_HEADER}："
            f"“{code}”）不一致。",
            field="source",
        )
    with write(rt.engine) as conn:
        sources.seen(conn, _replay_key(code), sig, rt.clock())
    try:
        return referrals.receive(rt, ref, p)
    except BaseException:
        with write(rt.engine) as conn:
            sources.forget(conn, _replay_key(code), sig)
        raise
