"""Chinese numerals as they appear in article numbers (第一百零一条) and back."""

from __future__ import annotations

_DIGITS = {
    "零": 0,
    "〇": 0,
    "一": 1,
    "二": 2,
    "两": 2,
    "三": 3,
    "四": 4,
    "五": 5,
    "六": 6,
    "七": 7,
    "八": 8,
    "九": 9,
}
_UNITS = {"十": 10, "百": 100, "千": 1000}
_NAMES = "零一二三四五六七八九"


def cn_to_int(text: str) -> int:
    """一百零一 → 101; 十二 → 12; Arabic digits pass through. ValueError when not a number."""
    text = text.strip()
    if not text:
        raise ValueError("empty numeral")
    if text.isascii() and text.isdigit():
        return int(text)
    total = 0
    digit: int | None = None
    for ch in text:
        if ch in _DIGITS:
            digit = _DIGITS[ch]
        elif ch in _UNITS:
            total += (1 if digit is None else digit) * _UNITS[ch]
            digit = None
        else:
            raise ValueError(f"not a Chinese numeral: {text}")
    if digit is not None:
        total += digit
    return total


def int_to_cn(n: int) -> str:
    """101 → 一百零一; 12 → 十二; 110 → 一百一十 (numbering style of Chinese statutes)."""
    if n < 0 or n >= 10000:
        raise ValueError(f"out of range: {n}")
    if n < 10:
        return _NAMES[n]
    if n < 20:
        return "十" + (_NAMES[n - 10] if n > 10 else "")
    parts: list[str] = []
    zero = False
    for value, unit in ((1000, "千"), (100, "百"), (10, "十"), (1, "")):
        d = (n // value) % 10
        if d == 0:
            if parts:
                zero = True
            continue
        if zero:
            parts.append("零")
            zero = False
        parts.append(_NAMES[d] + unit)
    return "".join(parts)
