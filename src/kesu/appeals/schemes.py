"""The ministry's category schemes for appeal statistics, as data (pure).

One file per scheme in data/appeals/schemes/ (or the directory $KESU_APPEAL_SCHEMES_DIR
names): id, name, valid_from (a quarter's first day), valid_to (optional, a quarter's last
day), source, categories [{code, name, en}], remainder (the code what maps nowhere counts
as), and map: each kesu complaint category (data/reference.yaml `categories`) → a code.
A new scheme of the ministry is a new file. Every file is checked when loaded (fields,
dates, every kesu category mapped, every code named exists, no two schemes in force on
one day); a bad one raises SchemeError naming the file and what is wrong.

`for_day(day)`: the scheme in force that day. A scheme without valid_to runs until the
next one begins; a day no scheme covers (a gap such as 2022Q1–Q3, which no notice held
tells) keeps the scheme last begun before it; a day before the first scheme takes the
first.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import yaml

from kesu.complaints.vocabulary import CATEGORIES
from kesu.data_files import DATA_DIR

SCHEMES_ENV = "KESU_APPEAL_SCHEMES_DIR"
DEFAULT_DIR = DATA_DIR / "appeals" / "schemes"
FIELDS = frozenset(
    {"id", "name", "valid_from", "valid_to", "source", "categories", "remainder", "map"}
)


class SchemeError(ValueError):
    """A scheme file is wrong; kesu refuses to use it."""


@dataclass(frozen=True)
class Category:
    code: str
    name: str
    en: str


@dataclass(frozen=True)
class Scheme:
    id: str
    name: str
    valid_from: date
    valid_to: date | None
    categories: tuple[Category, ...]
    map: Mapping[str, str]
    remainder: str
    source: str | None = None

    def category_of(self, kesu_category: str | None) -> str:
        """The scheme's code for a kesu category; unmapped or None → the remainder."""
        return self.map.get(kesu_category or "", self.remainder)

    def category(self, code: str) -> Category:
        for c in self.categories:
            if c.code == code:
                return c
        raise KeyError(code)

    @property
    def codes(self) -> tuple[str, ...]:
        return tuple(c.code for c in self.categories)


def _text(raw: Mapping[str, Any], key: str, where: str) -> str:
    value = raw.get(key)
    if not isinstance(value, str) or not value.strip():
        raise SchemeError(f"{where}: `{key}` must be a non-empty text")
    return value.strip()


def _day(value: Any, key: str, where: str) -> date:
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        raise SchemeError(f"{where}: `{key}` must be a date (YYYY-MM-DD), not {value!r}") from None


def parse(raw: Any, where: str, kesu_categories: Sequence[str] = tuple(CATEGORIES)) -> Scheme:
    """One scheme file's content, checked."""
    if not isinstance(raw, Mapping):
        raise SchemeError(f"{where}: expected a mapping of {', '.join(sorted(FIELDS))}")
    unknown = set(raw) - FIELDS
    if unknown:
        raise SchemeError(f"{where}: unknown fields {sorted(unknown)}")
    ident, name = _text(raw, "id", where), _text(raw, "name", where)
    start = _day(raw.get("valid_from"), "valid_from", where)
    if start.day != 1 or start.month not in (1, 4, 7, 10):
        raise SchemeError(f"{where}: valid_from {start} is not the first day of a quarter")
    end = None
    if raw.get("valid_to") is not None:
        end = _day(raw["valid_to"], "valid_to", where)
        if (end.month, end.day) not in ((3, 31), (6, 30), (9, 30), (12, 31)):
            raise SchemeError(f"{where}: valid_to {end} is not the last day of a quarter")
        if end < start:
            raise SchemeError(f"{where}: valid_to {end} is before valid_from {start}")
    items = raw.get("categories")
    if not isinstance(items, list) or not items:
        raise SchemeError(f"{where}: `categories` must be a non-empty list")
    categories = []
    for i, item in enumerate(items, start=1):
        if not isinstance(item, Mapping) or set(item) != {"code", "name", "en"}:
            raise SchemeError(f"{where}: category {i} needs exactly code, name and en")
        categories.append(
            Category(*(_text(item, k, f"{where} category {i}") for k in ("code", "name", "en")))
        )
    codes = [c.code for c in categories]
    if len(set(codes)) != len(codes):
        raise SchemeError(f"{where}: a category code is listed twice: {codes}")
    remainder = _text(raw, "remainder", where)
    if remainder not in codes:
        raise SchemeError(f"{where}: remainder {remainder!r} is not one of {codes}")
    mapping = raw.get("map")
    if not isinstance(mapping, Mapping):
        raise SchemeError(f"{where}: `map` must map each kesu category to a code")
    extra = sorted(set(mapping) - set(kesu_categories))
    if extra:
        raise SchemeError(f"{where}: map names unknown kesu categories {extra}")
    unmapped = [k for k in kesu_categories if k not in mapping]
    if unmapped:
        raise SchemeError(f"{where}: kesu categories not mapped: {unmapped}")
    wrong = {k: v for k, v in mapping.items() if v not in codes}
    if wrong:
        raise SchemeError(f"{where}: map names codes the scheme does not have: {wrong}")
    source = raw.get("source")
    return Scheme(
        id=ident,
        name=name,
        valid_from=start,
        valid_to=end,
        categories=tuple(categories),
        map={str(k): str(v) for k, v in mapping.items()},
        remainder=remainder,
        source=str(source) if source is not None else None,
    )


def check_together(schemes: Sequence[Scheme]) -> list[Scheme]:
    """The schemes by valid_from; ids unique, no day with two schemes in force."""
    if not schemes:
        raise SchemeError("no appeal category scheme: at least one file is needed")
    ordered = sorted(schemes, key=lambda s: s.valid_from)
    ids = [s.id for s in ordered]
    if len(set(ids)) != len(ids):
        raise SchemeError(f"scheme ids must be unique: {ids}")
    for before, after in zip(ordered, ordered[1:], strict=False):
        if before.valid_from == after.valid_from or (
            before.valid_to is not None and before.valid_to >= after.valid_from
        ):
            raise SchemeError(
                f"schemes {before.id} and {after.id} are both in force on {after.valid_from}"
            )
    return ordered


def schemes_dir() -> Path:
    """$KESU_APPEAL_SCHEMES_DIR, or the packaged data/appeals/schemes."""
    return Path(os.environ.get(SCHEMES_ENV) or DEFAULT_DIR)


_cache: dict[str, Any] = {}


def load_all(directory: Path | None = None) -> list[Scheme]:
    """Every *.yaml in the directory, checked, by valid_from; re-read when a file changes."""
    directory = Path(directory or schemes_dir())
    if not directory.is_dir():
        raise SchemeError(f"{directory}: no such directory of appeal category schemes")
    files = sorted(directory.glob("*.yaml"))
    key = (str(directory), tuple((p.name, p.stat().st_mtime_ns, p.stat().st_size) for p in files))
    if _cache.get("key") == key:
        return list(_cache["value"])
    parsed = []
    for path in files:
        try:
            raw = yaml.safe_load(path.read_text(encoding="utf-8"))
        except yaml.YAMLError as exc:
            raise SchemeError(f"{path.name}: not readable YAML: {exc}") from None
        parsed.append(parse(raw, path.name))
    value = check_together(parsed)
    _cache.update(key=key, value=value)
    return list(value)


def for_day(day: date, schemes: Sequence[Scheme] | None = None) -> Scheme:
    """The scheme in force on `day` (see the module doc for gaps and days outside)."""
    ordered = check_together(schemes) if schemes is not None else load_all()
    begun = [s for s in ordered if s.valid_from <= day]
    if not begun:
        return ordered[0]
    covering = [s for s in begun if s.valid_to is None or day <= s.valid_to]
    return covering[-1] if covering else begun[-1]


def by_id(ident: str, schemes: Sequence[Scheme] | None = None) -> Scheme:
    for s in schemes if schemes is not None else load_all():
        if s.id == ident:
            return s
    raise KeyError(ident)
