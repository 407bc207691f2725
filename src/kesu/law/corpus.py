"""The regulation texts shipped under data/regulations/ (minimal reader).

The law slice builds the full article/paragraph/item index on top of this;
here we only need an article's text to check that a cited article is held.
"""

from __future__ import annotations

import re
from functools import lru_cache

from kesu.data_files import DATA_DIR

REGULATIONS_DIR = DATA_DIR / "regulations"
_ARTICLE_START = re.compile(r"^(第[一二三四五六七八九十百零〇]+条)[\s　]")


@lru_cache(maxsize=32)
def articles(filename: str) -> dict[str, str]:
    """Map 第N条 → its full text, for one regulation file."""
    text = (REGULATIONS_DIR / filename).read_text(encoding="utf-8")
    out: dict[str, list[str]] = {}
    current: str | None = None
    for line in text.splitlines():
        m = _ARTICLE_START.match(line)
        if m:
            current = m.group(1)
            out.setdefault(current, []).append(line)
        elif line.startswith("#"):
            current = None
        elif current and line.strip():
            out[current].append(line)
    return {k: "\n".join(v) for k, v in out.items()}


def article_text(filename: str, article: str) -> str | None:
    try:
        return articles(filename).get(article)
    except FileNotFoundError:
        return None
