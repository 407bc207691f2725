"""Masking personal data, in one place (pure).

Every output that carries personal data passes through here: API answers,
pages, exports, triage evidence, case library, logs. Nobody sees a full value
by default; a role with `pii.show` sees it only through the explicit, audited
"show" action.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

_PHONE = re.compile(r"(?<!\d)(?:\+?86[- ]?)?(1[3-9]\d)[- ]?(\d{4})[- ]?(\d{4})(?!\d)")
_LANDLINE = re.compile(r"(?<![\dA-Za-z])(0\d{2,3})-?(\d{3,4})(\d{4})(?!\d)")
_ID_CARD = re.compile(r"(?<![0-9A-Za-z])(\d{6})\d{8}(\d{3}[\dXx])(?![0-9A-Za-z])")
_LONG_NUMBER = re.compile(r"(?<![\dA-Za-z*])(\d{4})\d{4,}(\d{4})(?![\d*])")
# Account-like codes: letters then 8+ digits (KD0755123456, GZKD88006666); not complaint
# numbers (TS + 14 digits), which are references, not personal data.
_ALNUM_ACCOUNT = re.compile(r"(?<![A-Za-z0-9])([A-Za-z]{1,6})(\d{4,})(\d{4})(?![0-9])")
_EMAIL = re.compile(r"([\w.+-])[\w.+-]*(@[\w-]+\.[\w.]+)")
# ISO dates and times (event data: due times, expected dates) are not house numbers.
_ISO_DATE = re.compile(
    r"(?<!\d)(\d{4}-\d{2}-\d{2}"
    r"(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:\d{2})?)?)(?!\d)"
)
_ADDRESS_TAIL = re.compile(r"(\d+(?:号楼|栋|幢|单元|室|号|层|楼|弄|-\d+))")


def phone(value: str | None) -> str | None:
    """13812341234 → 138****1234; short numbers keep only their last 4 digits."""
    if not value:
        return value
    digits = re.sub(r"\D", "", value)
    if len(digits) >= 11:
        return digits[:3] + "****" + digits[-4:]
    if len(digits) > 4:
        return "*" * (len(digits) - 4) + digits[-4:]
    return "*" * len(digits)


def name(value: str | None) -> str | None:
    """张三 → 张*; 欧阳娜娜 → 欧***; Li Lei → L*****."""
    if not value:
        return value
    value = value.strip()
    return value[0] + "*" * max(1, len(value) - 1)


def id_number(value: str | None) -> str | None:
    if not value:
        return value
    return value[:6] + "********" + value[-4:] if len(value) >= 15 else "*" * len(value)


def account(value: str | None) -> str | None:
    """Account and broadband numbers: the last 4 characters only."""
    if not value:
        return value
    return "*" * max(4, len(value) - 4) + value[-4:] if len(value) > 4 else "*" * len(value)


def email(value: str | None) -> str | None:
    """li.lei@example.com → l***@example.com (the domain stays: where it goes)."""
    if not value or "@" not in value:
        return value
    local, _, domain = value.rpartition("@")
    return f"{local[:1]}***@{domain}"


def address(value: str | None) -> str | None:
    """Keep the place name, hide the house numbers: 幸福路12号3栋 → 幸福路**号*栋."""
    if not value:
        return value
    return re.sub(r"\d", "*", value)


def text(value: str | None) -> str | None:
    """Free text with the personal numbers in it masked (phones, IDs, accounts, e-mails);
    ISO dates and times in it are left as they are."""
    if not value:
        return value
    if _ISO_DATE.search(value):
        parts = _ISO_DATE.split(value)  # the dates at odd positions
        return "".join(p if i % 2 else (_text(p) or "") for i, p in enumerate(parts))
    return _text(value)


def _text(value: str) -> str:
    if not value:
        return value
    out = _ID_CARD.sub(lambda m: m.group(1) + "********" + m.group(2), value)
    out = _ALNUM_ACCOUNT.sub(_account_in_text, out)
    out = _PHONE.sub(lambda m: m.group(1) + "****" + m.group(3), out)
    out = _LANDLINE.sub(lambda m: m.group(1) + "-****" + m.group(3), out)
    out = _LONG_NUMBER.sub(lambda m: m.group(1) + "****" + m.group(2), out)
    out = _EMAIL.sub(lambda m: m.group(1) + "***" + m.group(2), out)
    out = _ADDRESS_TAIL.sub(lambda m: re.sub(r"\d", "*", m.group(1)), out)
    return out


def _account_in_text(m: re.Match[str]) -> str:
    letters, middle, last = m.group(1), m.group(2), m.group(3)
    if letters.upper() == "TS" and len(middle) + len(last) == 14:
        return m.group(0)  # a complaint number
    return letters + "*" * len(middle) + last


def customer(c: Mapping[str, Any]) -> dict[str, Any]:
    out = dict(c)
    out["phone"] = phone(c.get("phone"))
    out["name"] = name(c.get("name"))
    out["account"] = account(c.get("account"))
    out["masked"] = True
    return out


# Fields of a complaint view that are free text written by or about the customer.
TEXT_FIELDS = ("title", "description", "demands", "resolution")


def complaint_view(view: Mapping[str, Any]) -> dict[str, Any]:
    """A complaint as the API shows it: customer masked; in its texts, the numbers and
    the customer's own name masked too."""
    out = dict(view)
    full_name = None
    if isinstance(out.get("customer"), Mapping):
        full_name = out["customer"].get("name")
        out["customer"] = customer(out["customer"])
    for key in TEXT_FIELDS:
        if isinstance(out.get(key), str):
            value = text(out[key]) or ""
            if full_name and len(full_name) >= 2:
                value = value.replace(full_name, name(full_name) or "")
            out[key] = value
    return out


def deep_text(value: Any) -> Any:
    """Every string inside a JSON-like value, masked (event data, triage evidence)."""
    if isinstance(value, str):
        return text(value)
    if isinstance(value, list):
        return [deep_text(v) for v in value]
    if isinstance(value, dict):
        return {k: deep_text(v) for k, v in value.items()}
    return value
