"""Where messages go: one small interface, a sender per channel.

A sender takes one `Outgoing` message and returns when the gateway has accepted it, or
raises `SendFailed` (the outbox retries it later). Each message carries its stable `uid`,
sent to the gateway, so a message sent again after a worker died can be dropped by id.

Built in: the generic HTTP SMS gateway (`KESU_SMS_GATEWAY_URL`, HMAC-signed JSON), SMTP
email (`KESU_SMTP_URL`), and the demo sink (demo mode: kept in the outbox as sent to
"demo", and printed masked to the console). An operator adds its own short-message
platform by writing a class with `name` and `send()` and registering it in `ADAPTERS`
(docs/channels.md shows how).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import smtplib
import ssl
import urllib.error
import urllib.request
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol
from urllib.parse import parse_qs, unquote, urlsplit

from kesu.accounts import masking
from kesu.appeals import operator_evidence
from kesu.appeals import records as appeal_records
from kesu.channels import mail, referral_sources, sms_text, webhooks
from kesu.settings import Settings
from kesu.store.db import read, write

if TYPE_CHECKING:
    from kesu.runtime import Runtime


class SendFailed(Exception):
    """The gateway did not accept the message; the text is kept as its last error."""


class Held(Exception):
    """Not to be sent now, and not a failure (a paused webhook): due again `until`."""

    def __init__(self, until: datetime, why: str) -> None:
        super().__init__(why)
        self.until = until


@dataclass(frozen=True)
class Outgoing:
    uid: str
    channel: str  # sms | email
    recipient: str
    subject: str | None
    body: str
    purpose: str
    now: datetime


class Sender(Protocol):
    name: str

    def send(self, m: Outgoing) -> None: ...


def signature(secret: str, body: bytes) -> str:
    """`sha256=<hex>`: the HMAC-SHA256 of the exact request body with the shared secret."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


class HttpSmsGateway:
    """POST {"id", "to", "text"} as JSON, signed in X-Kesu-Signature; 2xx is accepted."""

    name = "sms-http"

    def __init__(self, url: str, secret: str, sign_as: str, timeout: float) -> None:
        self.url, self.secret, self.sign_as, self.timeout = url, secret, sign_as, timeout

    def send(self, m: Outgoing) -> None:
        text = sms_text.signed(m.body, self.sign_as)
        body = json.dumps({"id": m.uid, "to": m.recipient, "text": text}, ensure_ascii=False)
        data = body.encode("utf-8")
        headers = {"X-Kesu-Signature": signature(self.secret, data), "X-Kesu-Message-Id": m.uid}
        post(self.url, data, headers, self.timeout, "短信网关")


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """A redirect is an answer, not a 2xx: urllib would follow a 302 with a GET and
    call the message delivered; refused, it is an HTTPError like any other."""

    def redirect_request(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        return None


_opener = urllib.request.build_opener(_NoRedirect)


def post(url: str, data: bytes, headers: dict[str, str], timeout: float, who: str) -> bytes:
    """POST JSON; returns the answer's body (at most 1 MiB) on a 2xx answer (redirects not
    followed), raises SendFailed (in Chinese) otherwise."""
    req = urllib.request.Request(
        url,
        data=data,
        method="POST",
        headers={"Content-Type": "application/json; charset=utf-8", **headers},
    )
    try:
        with _opener.open(req, timeout=timeout) as resp:
            status = resp.status
            answer = resp.read(1 << 20)
    except urllib.error.HTTPError as e:
        raise SendFailed(f"{who}返回 HTTP {e.code}") from None
    except TimeoutError:
        raise SendFailed(f"{who} {timeout:g} 秒未应答") from None
    except (urllib.error.URLError, OSError) as e:
        reason = getattr(e, "reason", e)
        raise SendFailed(f"连不上{who}：{reason}") from None
    if not 200 <= status < 300:
        raise SendFailed(f"{who}返回 HTTP {status}")
    return answer


class WebhookSender:
    """A complaint event to a subscribed URL: the subscription's current URL and secret
    read at send time; signed `<timestamp>.<body>`; 2xx is delivered. A paused
    subscription's messages are held (they wait); each result is reported to
    channels.webhooks (failing since, paused after a day)."""

    name = "webhook"

    def __init__(self, rt: Runtime, timeout: float) -> None:
        self.rt, self.timeout = rt, timeout

    def send(self, m: Outgoing) -> None:
        sub = webhooks.target(self.rt, int(m.recipient))
        if sub is None:
            raise SendFailed("订阅已删除，不再发送。")
        if sub["state"] != "active":
            raise Held(m.now + webhooks.HOLD, "订阅已暂停：恢复后发送。")
        data = m.body.encode("utf-8")
        stamp = str(int(m.now.timestamp()))
        headers = {
            "X-Kesu-Event": m.purpose.removeprefix(webhooks.PURPOSE),
            "X-Kesu-Delivery": m.uid,
            "X-Kesu-Timestamp": stamp,
            "X-Kesu-Signature": webhooks.signature(sub["secret"], stamp, data),
            "User-Agent": "kesu-webhook/1",
        }
        try:
            post(sub["url"], data, headers, self.timeout, "接收方")
        except SendFailed as e:
            webhooks.failed(self.rt, sub["id"], m.now, str(e))
            raise
        webhooks.succeeded(self.rt, sub["id"])


class ReferralSender:
    """The operator's answer to a referral, back to the regulator's kesu: the source's
    current callback URL and secret read at send time, signed `<timestamp>.<body>` like a
    webhook; 2xx is delivered (channels.referrals queues it when the answer is recorded)."""

    name = "referral"

    def __init__(self, rt: Runtime, timeout: float) -> None:
        self.rt, self.timeout = rt, timeout

    def send(self, m: Outgoing) -> None:
        src = referral_sources.target(self.rt, m.recipient)
        if src is None or not src["callback_url"] or not src["secret"]:
            raise SendFailed(f"转办来源“{m.recipient}”未配置回调地址。")
        data = m.body.encode("utf-8")
        stamp = str(int(m.now.timestamp()))
        headers = {
            "X-Kesu-Event": "referral.replied",
            "X-Kesu-Delivery": m.uid,
            "X-Kesu-Timestamp": stamp,
            "X-Kesu-Signature": webhooks.signature(src["secret"], stamp, data),
            "User-Agent": "kesu-referral/1",
        }
        post(src["callback_url"], data, headers, self.timeout, "管局回调地址")


class AppealReferralSender:
    """An appeal referred (or handed over, 第十三条) by the centre to an operator that runs
    kesu: the operator's current referral URL and secret read at send time (through
    appeals.records, a records module like this one), posted signed `<timestamp>.<body>`
    with the centre's code in X-Kesu-Source (the body's `source`, set by
    appeals.notify); 2xx is delivered (201 registered, 200 already there)."""

    name = "appeal_referral"
    channel = "appeal_ref"  # the outbox's channel (appeals.notify.REFERRAL_CHANNEL)

    def __init__(self, rt: Runtime, timeout: float) -> None:
        self.rt, self.timeout = rt, timeout

    def send(self, m: Outgoing) -> None:
        with read(self.rt.engine) as conn:
            op = appeal_records.operator(conn, m.recipient)
        if op is None or not op["referral_url"] or not op["secret"]:
            raise SendFailed(f"被申诉企业“{m.recipient}”未配置转办地址或密钥。")
        data = m.body.encode("utf-8")
        source = str(json.loads(m.body).get("source") or "")
        headers = signed_headers(op["secret"], source, m, data)
        post(op["referral_url"], data, headers, self.timeout, "被申诉企业转办接口")


def signed_headers(secret: str, source: str, m: Outgoing, data: bytes) -> dict[str, str]:
    """What a signed request to an operator's kesu carries (channels.sources.check)."""
    stamp = str(int(m.now.timestamp()))
    return {
        "X-Kesu-Source": source,
        "X-Kesu-Event": m.purpose,
        "X-Kesu-Delivery": m.uid,
        "X-Kesu-Timestamp": stamp,
        "X-Kesu-Signature": webhooks.signature(secret, stamp, data),
        "User-Agent": "kesu-appeal/1",
    }


class AppealRecordSender:
    """The centre's question to a connected operator's kesu about an appellant's
    complaints (its POST /api/v1/complaint-records, next to the referral URL), signed as
    the centre's referrals are; the answer is kept on the appeal (appeals.records), as
    evidence for 第十条（四） (appeals.operator_evidence). A malformed answer is a failure
    (retried, then dead in the outbox)."""

    name = "appeal_record"
    channel = "appeal_rec"  # appeals.operator_record.CHANNEL

    def __init__(self, rt: Runtime, timeout: float) -> None:
        self.rt, self.timeout = rt, timeout

    def fetch(self, m: Outgoing) -> dict[str, Any]:
        """Ask the operator named by `m.recipient` now; the record as the appeal keeps it
        (appeals.operator_evidence.parse), or SendFailed in Chinese."""
        with read(self.rt.engine) as conn:
            op = appeal_records.operator(conn, m.recipient)
        if op is None or not op["referral_url"] or not op["secret"]:
            raise SendFailed(f"被申诉企业“{m.recipient}”未配置转办地址或密钥。")
        data = m.body.encode("utf-8")
        source = str(json.loads(m.body).get("source") or "")
        headers = signed_headers(op["secret"], source, m, data)
        url = operator_evidence.record_url(op["referral_url"])
        answer = post(url, data, headers, self.timeout, "被申诉企业投诉记录接口")
        try:
            return operator_evidence.parse(json.loads(answer), m.now.isoformat(), m.recipient)
        except (ValueError, UnicodeDecodeError) as err:  # BadRecord, or not JSON at all
            raise SendFailed(f"被申诉企业投诉记录接口的应答无法识别：{err}") from None

    def send(self, m: Outgoing) -> None:
        record = self.fetch(m)
        with write(self.rt.engine) as conn:
            actor = f"operator:{m.recipient}"[:64]
            appeal = str(json.loads(m.body)["appeal"])
            appeal_records.keep_operator_record(conn, appeal, record, m.now, actor)


class SmtpMailer:
    """Email through an SMTP server: smtp://user:pass@host:port, smtps://…, ?starttls=true."""

    name = "smtp"

    def __init__(self, url: str, sender: str, timeout: float) -> None:
        parts = urlsplit(url)
        if parts.scheme not in ("smtp", "smtps") or not parts.hostname:
            raise ValueError(f"KESU_SMTP_URL 应为 smtp://… 或 smtps://…：{url}")
        self.tls = parts.scheme == "smtps"
        query = parse_qs(parts.query)
        self.starttls = query.get("starttls", ["false"])[0].lower() in ("1", "true", "yes")
        self.host = parts.hostname
        self.port = parts.port or (465 if self.tls else 25)
        self.user = unquote(parts.username) if parts.username else None
        self.password = unquote(parts.password) if parts.password else None
        self.sender, self.timeout = sender, timeout

    def send(self, m: Outgoing) -> None:
        msg = mail.build(m.uid, self.sender, m.recipient, m.subject or "", m.body, m.now)
        try:
            if self.tls:
                client: smtplib.SMTP = smtplib.SMTP_SSL(
                    self.host, self.port, timeout=self.timeout, context=ssl.create_default_context()
                )
            else:
                client = smtplib.SMTP(self.host, self.port, timeout=self.timeout)
            with client:
                if self.starttls:
                    client.starttls(context=ssl.create_default_context())
                if self.user:
                    client.login(self.user, self.password or "")
                client.send_message(msg)
        except smtplib.SMTPResponseException as e:
            raise SendFailed(f"邮件服务器拒绝：{e.smtp_code} {e.smtp_error!r}") from None
        except (smtplib.SMTPException, OSError) as e:
            raise SendFailed(f"邮件发送失败：{e}") from None


class DemoSink:
    """Demo mode: nothing leaves the machine; the outbox keeps the message as sent to
    "demo" (the admin page /admin/outbox shows every one). The portal's sign-in codes are
    also printed on the console (the number masked): a newcomer needs them to sign in."""

    name = "demo"

    def send(self, m: Outgoing) -> None:
        if m.purpose != "portal_code":
            return
        to = masking.phone(m.recipient) if m.channel == "sms" else _mask_mail(m.recipient)
        print(
            f"[演示模式{'短信' if m.channel == 'sms' else '邮件'}] 发往 {to}：{m.body}", flush=True
        )


def _mask_mail(address: str) -> str:
    local, _, domain = address.partition("@")
    return f"{local[:1]}***@{domain}"


def senders_for(settings: Settings, rt: Runtime | None = None) -> dict[str, Sender]:
    """The sender of each channel this installation can deliver; a channel with none keeps
    its messages waiting in the outbox (nothing is lost), except in demo mode. Webhooks
    (which read their subscription from the database) are delivered when `rt` is given."""
    out: dict[str, Sender] = {}
    if rt is not None:
        out["webhook"] = WebhookSender(rt, settings.gateway_timeout)
        out["referral"] = ReferralSender(rt, settings.gateway_timeout)
        out["appeal_ref"] = AppealReferralSender(rt, settings.gateway_timeout)
        out["appeal_rec"] = AppealRecordSender(rt, settings.gateway_timeout)
    if settings.sms_gateway_url:
        out["sms"] = HttpSmsGateway(
            settings.sms_gateway_url,
            settings.sms_gateway_secret,
            settings.sms_signature,
            settings.gateway_timeout,
        )
    if settings.smtp_url:
        out["email"] = SmtpMailer(settings.smtp_url, settings.mail_from, settings.gateway_timeout)
    if settings.demo:
        for channel in ("sms", "email"):
            out.setdefault(channel, DemoSink())
    return out
