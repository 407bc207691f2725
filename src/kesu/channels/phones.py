"""Phone numbers as customers and agents type them: the one normaliser (pure).

Spaces, dashes and brackets are dropped and a leading +86 is removed, so
"+86 139-1234-5678", "13912345678" and "(139)1234 5678" are the same number,
for registration, the queue's phone search and the portal's sign-in alike.
"""

from __future__ import annotations

import re

_SEPARATORS = re.compile(r"[\s\-()]")
_MOBILE = re.compile(r"1[3-9]\d{9}")
_ANY = re.compile(r"\d{5,20}")


def digits(value: str | None) -> str:
    """The number without separators and without the +86 country code."""
    out = _SEPARATORS.sub("", value or "")
    return out[3:] if out.startswith("+86") else out


def is_phone(value: str) -> bool:
    """A normalised number kesu accepts on a complaint (5–20 digits: fixed lines too)."""
    return bool(_ANY.fullmatch(value))


def is_mobile(value: str) -> bool:
    """A normalised mainland mobile number (11 digits, 13x–19x)."""
    return bool(_MOBILE.fullmatch(value))
