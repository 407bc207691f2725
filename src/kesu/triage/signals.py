"""Risk signals in complaint text (pure): which flags the words raise, with evidence."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

from kesu.data_files import load_yaml


@dataclass(frozen=True)
class Signal:
    code: str
    evidence: tuple[str, ...]


@lru_cache(maxsize=1)
def _compiled() -> dict[str, re.Pattern[str]]:
    out = {}
    for code, spec in load_yaml("triage/signals.yaml")["flags"].items():
        parts = [_word(unicodedata.normalize("NFKC", str(w))) for w in spec.get("words", [])]
        parts += spec.get("patterns", [])
        # Longest alternatives first, so "老年人" wins over "老人".
        parts.sort(key=len, reverse=True)
        out[code] = re.compile("|".join(parts), re.IGNORECASE)
    return out


def _word(w: str) -> str:
    """A listed word; a number (12345, 315) only when it is not part of a longer number."""
    escaped = re.escape(w)
    if w[:1].isdigit():
        escaped = r"(?<!\d)" + escaped
    if w[-1:].isdigit():
        escaped += r"(?!\d)"
    return escaped


def detect(text: str) -> list[Signal]:
    """The flags the text raises, each with the distinct words or phrases that raised it."""
    norm = unicodedata.normalize("NFKC", text)
    found = []
    for code, pattern in _compiled().items():
        hits = list(dict.fromkeys(m.group(0) for m in pattern.finditer(norm)))
        if hits:
            found.append(Signal(code, tuple(hits)))
    return found
