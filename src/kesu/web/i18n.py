"""Page language: Simplified Chinese by default, English selectable.

Messages live in data/web/messages.yaml as `key: {zh: ..., en: ...}`; vocabulary
names (statuses, categories ...) come from data/reference.yaml, which carries both.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from functools import lru_cache
from typing import Any

from kesu.data_files import DATA_DIR, load_yaml

LANGS = ("zh", "en")
DEFAULT = "zh"
COOKIE = "kesu_lang"


@lru_cache(maxsize=1)
def messages() -> dict[str, dict[str, str]]:
    # messages.yaml plus one file per part of the site (messages_portal.yaml ...).
    data: dict[str, dict[str, str]] = {}
    for path in sorted((DATA_DIR / "web").glob("messages*.yaml")):
        part = load_yaml(f"web/{path.name}") or {}
        clash = set(part) & set(data)
        if clash:
            raise ValueError(f"web/{path.name}: keys defined twice: {sorted(clash)[:5]}")
        data.update(part)
    for key, value in data.items():
        if not isinstance(value, dict) or "zh" not in value:
            raise ValueError(f"web/messages.yaml: {key} needs at least a zh text")
    return data


def pick(lang: str | None) -> str:
    return lang if lang in LANGS else DEFAULT


def translator(lang: str) -> Callable[..., str]:
    table = messages()

    def t(key: str, **kw: Any) -> str:
        entry = table.get(key)
        if entry is None:
            return key
        text = entry.get(lang) or entry["zh"]
        return text.format(**kw) if kw else text

    return t


def namer(lang: str) -> Callable[[Mapping[str, Mapping[str, Any]], str | None], str]:
    """name(vocab.STATUSES, "replied") → 已答复 / Replied; unknown codes show as they are."""

    def name(table: Mapping[str, Mapping[str, Any]], code: str | None) -> str:
        if code is None:
            return "—"
        entry = table.get(code)
        if entry is None:
            return code
        if lang == "en" and entry.get("en"):
            return str(entry["en"])
        return str(entry.get("name", code))

    return name
