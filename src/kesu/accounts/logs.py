"""Logs carry no personal data and no secrets: a filter masks every record."""

from __future__ import annotations

import logging
import re

from kesu.accounts import masking

# Most lines hold nothing to mask: one quick look decides whether to do the full work.
_SUSPECT = re.compile(r"\d{7}|kesu_|password=|token=|code=|@|[\u4e00-\u9fff]")
_SECRETS = re.compile(r"(kesu_[A-Za-z0-9_-]{8})[A-Za-z0-9_-]+|((?:password|token|code)=)[^&\s]+")


def _clean(value: str) -> str:
    if not _SUSPECT.search(value):
        return value
    value = _SECRETS.sub(lambda m: (m.group(1) or m.group(2)) + "***", value)
    return masking.text(value) or value


class MaskingFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a broken format string: leave the record as it is
            return True
        if not _SUSPECT.search(message):
            return True
        if isinstance(record.args, tuple) and record.args:
            # Mask each argument and keep the shape: formatters such as uvicorn's
            # access log read record.args themselves.
            record.args = tuple(_clean(a) if isinstance(a, str) else a for a in record.args)
            if isinstance(record.msg, str):
                record.msg = _clean(record.msg)
            return True
        record.msg = _clean(message)
        record.args = ()
        return True


_installed = False


def install() -> None:
    """On kesu's and the server's loggers (idempotent)."""
    global _installed
    if _installed:
        return
    for name in ("kesu", "uvicorn.access", "uvicorn.error", "sqlalchemy.engine"):
        logging.getLogger(name).addFilter(MaskingFilter())
    _installed = True
