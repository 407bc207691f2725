"""Phone numbers as customers and agents type them: the one normaliser (pure).

Spaces, dashes and brackets are dropped and a leading +86 is removed, so
"+86 139-1234-5678", "13912345678" and "(139)1234 5678" are the same number,
for registration, the queue's phone search and the portal's sign-in alike.

Two readings of a normalised number: `is_phone` (any 5–20 digits: what a complaint
from any channel may carry) and `is_mainland` (a mainland mobile, or a landline with
its area code: what an agent must type on the hotline form). `area_province` tells
the province of a landline from its area code, for the capitals and major cities in
data/phone_areas.yaml; it never guesses from a mobile number (kesu holds no table
of mobile number segments).
"""

from __future__ import annotations

import re
from functools import lru_cache

from kesu.data_files import load_yaml

_SEPARATORS = re.compile(r"[\s\-()]")
_MOBILE = re.compile(r"1[3-9]\d{9}")
_ANY = re.compile(r"\d{5,20}")
# 010 and 02x: 3-digit area codes with 8-digit local numbers; others: 4-digit codes
# (0 + three digits) with 7- or 8-digit local numbers. Local numbers start with 2–9.
_LANDLINE = re.compile(r"0(?:10|2\d)[2-9]\d{7}|0[3-9]\d{2}[2-9]\d{6,7}")


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


def is_landline(value: str) -> bool:
    """A normalised mainland landline number with its area code (e.g. 037112345678)."""
    return bool(_LANDLINE.fullmatch(value))


def is_mainland(value: str) -> bool:
    """A mainland mobile, or a landline with its area code."""
    return is_mobile(value) or is_landline(value)


@lru_cache(maxsize=1)
def _areas() -> dict[str, str]:
    return {
        code: province
        for province, codes in load_yaml("phone_areas.yaml").items()
        for code in codes
    }


def area_province(value: str) -> str | None:
    """The province of a landline's area code, when kesu knows it; None for mobiles."""
    if not is_landline(value):
        return None
    code = value[:3] if value[1] in "12" else value[:4]
    return _areas().get(code)
