"""Chinese numerals, read in one place for the law and triage slices.

Article numbers (第一百零一条) are read and written here for the corpus and the
citations; the numbers in complaint text (一千二百元、两万、3.5个小时) are read
here for triage's extraction. Pure.
"""

from __future__ import annotations

import re

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
_MYRIAD = "万"
_NAMES = "零一二三四五六七八九"
_DECIMAL = re.compile(r"\d+(?:\.\d+)?")


def _read(text: str) -> int | None:
    """The value of a run of Chinese numeral characters; None when one is not a numeral."""
    total, section = 0, 0
    digit: int | None = None
    for ch in text:
        if ch in _DIGITS:
            digit = _DIGITS[ch]
        elif ch in _UNITS:
            section += (1 if digit is None else digit) * _UNITS[ch]
            digit = None
        elif ch == _MYRIAD:
            total += (section + (digit or 0)) * 10000
            section, digit = 0, None
        else:
            return None
    return total + section + (digit or 0)


def cn_to_int(text: str) -> int:
    """一百零一 → 101; 十二 → 12; Arabic digits pass through. ValueError when not a number."""
    text = text.strip()
    if not text:
        raise ValueError("empty numeral")
    if text.isascii() and text.isdigit():
        return int(text)
    value = _read(text)
    if value is None:
        raise ValueError(f"not a Chinese numeral: {text}")
    return value


def cn_number(text: str) -> float | None:
    """A number as written in complaint text: '39' → 39, '一千二百' → 1200, '十五' → 15,
    '两' → 2, '3.5' → 3.5, '两万' → 20000. None when it is not a number."""
    text = text.strip()
    if not text:
        return None
    if _DECIMAL.fullmatch(text):
        return float(text)
    value = _read(text)
    return None if value is None else float(value)


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
