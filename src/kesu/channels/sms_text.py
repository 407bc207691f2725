"""Pure: an SMS as the gateway counts it: the operator's signature 【…】 in front, and
the number of parts (70 characters in one message, 67 per part once it is split, the
UCS-2 rule Chinese texts are sent under)."""

from __future__ import annotations

import math

SINGLE = 70
PART = 67


def signed(text: str, signature: str) -> str:
    """The text as sent: the signature first, once (a text that already carries it, such
    as the portal's sign-in code, is not signed twice)."""
    text = text.strip()
    if not signature or text.startswith(signature):
        return text
    return f"{signature}{text}"


def parts(text: str) -> int:
    """How many messages the gateway bills for `text` (every character counts as one)."""
    n = len(text)
    if n <= SINGLE:
        return 1
    return math.ceil(n / PART)
