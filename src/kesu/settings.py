"""One settings object, read from the environment (and an optional .env file)."""

from __future__ import annotations

import os
from dataclasses import dataclass, field, replace
from decimal import Decimal
from pathlib import Path


def _read_dotenv(path: Path) -> dict[str, str]:
    values: dict[str, str] = {}
    if not path.is_file():
        return values
    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not line or line.startswith("#") or "=" not in line:
            continue
        key, _, value = line.partition("=")
        values[key.strip()] = value.strip().strip('"').strip("'")
    return values


def default_law_dir() -> Path:
    return Path(os.environ.get("KESU_HOME", Path.cwd() / ".kesu")) / "regulations"


def default_triage_model_dir() -> Path:
    """Where `kesu triage train` writes the operator's own classifier (and triage loads
    it from, when there): KESU_TRIAGE_MODEL_DIR, else $KESU_HOME/triage-model."""
    if v := os.environ.get("KESU_TRIAGE_MODEL_DIR"):
        return Path(v)
    return Path(os.environ.get("KESU_HOME", Path.cwd() / ".kesu")) / "triage-model"


def default_database_url() -> str:
    home = Path(os.environ.get("KESU_HOME", Path.cwd() / ".kesu"))
    return f"sqlite:///{home / 'kesu.db'}"


@dataclass(frozen=True)
class Settings:
    database_url: str = field(default_factory=default_database_url)
    # Compensation above this amount (yuan) needs a supervisor's approval before reply.
    approval_threshold: Decimal = Decimal("100")
    # A replied or closed complaint may be reopened within this many days.
    reopen_days: int = 30
    # Failed callback attempts after which a complaint may be closed without a result.
    callback_max_attempts: int = 3
    # Seconds between two passes of the deadline watcher.
    watch_interval: float = 30.0
    # Largest accepted request body, bytes.
    max_body_bytes: int = 1_000_000
    # Run the deadline watcher inside `kesu serve` (embedded mode).
    embedded_worker: bool = True
    # Extra regulation files (Markdown, same format as the packaged ones);
    # a file here with a packaged file's name replaces it. `kesu law reindex`.
    law_dir: Path = field(default_factory=default_law_dir)
    # How reply drafts sign off: the operator's name and service hotline.
    # Session cookies are Secure (HTTPS only) unless turned off for plain-HTTP use.
    cookie_secure: bool = True
    # Demo mode: demo users, one-time codes shown on the console.
    demo: bool = False
    company_name: str = "【公司名称】"
    hotline: str = "【客服热线】"
    # Messages out (channels.delivery). Email: smtp://user:pass@host:port, smtps://…,
    # ?starttls=true; SMS: a generic HTTP gateway signed with the secret. Unset: the
    # messages wait in the outbox (demo mode records them in its own sink instead).
    smtp_url: str | None = None
    mail_from: str = "kesu@localhost"
    sms_gateway_url: str | None = None
    sms_gateway_secret: str = ""
    # The operator's SMS signature, put in front of every text (counts toward its length).
    sms_signature: str = "【客诉】"
    # Retries: attempt n waits base·2^(n-1) seconds (capped, with jitter); after
    # max_attempts the message is dead and shown to admins. The defaults retry for
    # about three and a half hours, so an hour's gateway outage loses nothing.
    outbox_max_attempts: int = 16
    outbox_retry_seconds: float = 30.0
    outbox_retry_cap_seconds: float = 900.0
    # A claimed message is another worker's again if not marked within this lease.
    outbox_lease_seconds: float = 120.0
    gateway_timeout: float = 10.0
    # SMS to customers in these hours (Beijing time) wait until they end; "off": never.
    sms_quiet_hours: str = "21:00-08:00"
    # Where customers reach the portal (links in their messages).
    public_url: str = "http://localhost:8000"
    # How often the worker (or the embedded server) looks for messages to send.
    outbox_poll_seconds: float = 1.0
    # Mail in (channels.mail_*): an SMTP listener started by `kesu worker` (host:port), a
    # mailbox polled (imaps://user:pass@host/INBOX) every imap_interval seconds.
    smtp_inbound: str | None = None
    imap_url: str | None = None
    imap_interval: float = 60.0
    # Across channels (complaints.lookups.likely_duplicates; operator policy, no statute):
    # the same customer's complaints by two channels within this many days, of the same
    # category or texts at least this similar, are shown as likely duplicates.
    duplicate_window_days: int = 7
    duplicate_similarity: float = 0.5
    # Supervisors' daily digest (channels.digest) goes out after this hour, Beijing time.
    digest_hour: int = 8
    # What this installation is (KESU_MODE): an operator's complaint desk ("operator"),
    # a regulator's appeal centre ("centre"), or both in one. `kesu serve --demo` loads
    # the demo data of the sides it runs; the centre's pages and API exist in every mode
    # and are reached by the centre's roles only.
    mode: str = "operator"
    # A work-order file of at least this many bytes is read and checked in a second
    # process while the first writes (channels.import_pipeline): on a machine with two
    # free cores it imports 100,000 rows faster than bulk_import (bench/RESULTS.md, issue
    # 16). None: always one process (KESU_IMPORT_PIPELINE_BYTES=off; also the default on
    # a one-core machine).
    import_pipeline_bytes: int | None = field(default_factory=lambda: _pipeline_default())

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> Settings:
        values = _read_dotenv(Path.cwd() / ".env")
        values.update(os.environ if env is None else env)
        s = cls()
        if url := values.get("KESU_DATABASE_URL"):
            s = replace(s, database_url=url)
        if v := values.get("KESU_APPROVAL_THRESHOLD"):
            s = replace(s, approval_threshold=Decimal(v))
        if v := values.get("KESU_REOPEN_DAYS"):
            s = replace(s, reopen_days=int(v))
        if v := values.get("KESU_CALLBACK_MAX_ATTEMPTS"):
            s = replace(s, callback_max_attempts=int(v))
        if v := values.get("KESU_WATCH_INTERVAL"):
            s = replace(s, watch_interval=float(v))
        if v := values.get("KESU_EMBEDDED_WORKER"):
            s = replace(s, embedded_worker=v.lower() not in ("0", "false", "no"))
        if v := values.get("KESU_COOKIE_SECURE"):
            s = replace(s, cookie_secure=v.lower() not in ("0", "false", "no"))
        if v := values.get("KESU_DEMO"):
            s = replace(s, demo=v.lower() not in ("0", "false", "no"))
        if v := values.get("KESU_COMPANY_NAME"):
            s = replace(s, company_name=v)
        if v := values.get("KESU_HOTLINE"):
            s = replace(s, hotline=v)
        if v := values.get("KESU_LAW_DIR"):
            s = replace(s, law_dir=Path(v))
        if v := values.get("KESU_MODE"):
            s = replace(s, mode=_mode(v))
        return _delivery(s, values)


PIPELINE_BYTES = 4 * 1024 * 1024  # about 40,000 rows of a hotline export


def _pipeline_default() -> int | None:
    return PIPELINE_BYTES if (os.cpu_count() or 1) >= 2 else None


def _pipeline_bytes(value: str) -> int | None:
    said = value.strip().lower()
    if said in ("off", "none", "no", "0"):
        return None
    if not said.isdigit():
        raise ValueError(f"KESU_IMPORT_PIPELINE_BYTES={value!r}: expected a number of bytes or off")
    return int(said)


MODES = ("operator", "centre", "both")


def _mode(value: str) -> str:
    mode = value.strip().lower()
    if mode not in MODES:
        raise ValueError(f"KESU_MODE={value!r}: expected one of {', '.join(MODES)}")
    return mode


def _delivery(s: Settings, values: dict[str, str]) -> Settings:
    """The settings of messages out (KESU_SMTP_URL, KESU_SMS_GATEWAY_URL, retries …)."""
    text = {
        "KESU_SMTP_URL": "smtp_url",
        "KESU_MAIL_FROM": "mail_from",
        "KESU_SMS_GATEWAY_URL": "sms_gateway_url",
        "KESU_SMS_GATEWAY_SECRET": "sms_gateway_secret",
        "KESU_SMS_SIGNATURE": "sms_signature",
        "KESU_PUBLIC_URL": "public_url",
        "KESU_SMS_QUIET_HOURS": "sms_quiet_hours",
        "KESU_SMTP_INBOUND": "smtp_inbound",
        "KESU_IMAP_URL": "imap_url",
    }
    numbers = {
        "KESU_OUTBOX_RETRY_SECONDS": "outbox_retry_seconds",
        "KESU_OUTBOX_RETRY_CAP_SECONDS": "outbox_retry_cap_seconds",
        "KESU_OUTBOX_LEASE_SECONDS": "outbox_lease_seconds",
        "KESU_GATEWAY_TIMEOUT": "gateway_timeout",
        "KESU_OUTBOX_POLL_SECONDS": "outbox_poll_seconds",
        "KESU_IMAP_INTERVAL": "imap_interval",
    }
    for key, name in text.items():
        if v := values.get(key):
            s = replace(s, **{name: v})
    for key, name in numbers.items():
        if v := values.get(key):
            s = replace(s, **{name: float(v)})
    if v := values.get("KESU_OUTBOX_MAX_ATTEMPTS"):
        s = replace(s, outbox_max_attempts=int(v))
    if v := values.get("KESU_DUPLICATE_WINDOW_DAYS"):
        s = replace(s, duplicate_window_days=int(v))
    if v := values.get("KESU_DUPLICATE_SIMILARITY"):
        s = replace(s, duplicate_similarity=float(v))
    if v := values.get("KESU_DIGEST_HOUR"):
        s = replace(s, digest_hour=int(v))
    if v := values.get("KESU_IMPORT_PIPELINE_BYTES"):
        s = replace(s, import_pipeline_bytes=_pipeline_bytes(v))
    return s
