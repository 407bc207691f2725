"""Logs carry no personal data and no secrets: a filter masks every record."""

from __future__ import annotations

import logging
import re

from kesu.accounts import masking

# Most lines hold nothing to mask: one quick look decides whether to do the full work.
_SUSPECT = re.compile(r"\d{7}|kesu_|password=|token=|code=|@|[\u4e00-\u9fff]")
_SECRETS = re.compile(r"(kesu_[A-Za-z0-9_-]{8})[A-Za-z0-9_-]+|((?:password|token|code)=)[^&\s]+")


class MaskingFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a broken format string: leave the record as it is
            return True
        if not _SUSPECT.search(message):
            return True
        message = _SECRETS.sub(lambda m: (m.group(1) or m.group(2)) + "***", message)
        record.msg = masking.text(message)
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
