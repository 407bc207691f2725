"""The quality scorecard (pure): the card's versions from data/quality/scorecard.yaml and
the arithmetic of one review's score.

Score = round(100 × Σ weight × fraction / Σ weight, 1), rounded half up, where an item's
fraction is 1 or 0 (pass_fail) or mark / max (points); 0 when any critical item failed.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from kesu.data_files import load_yaml

KINDS = ("pass_fail", "points")


class CardError(ValueError):
    """A scorecard file that cannot be used (checked at load)."""


class MarkError(ValueError):
    """Marks that do not fit the card: `code` is the stable error code."""

    def __init__(self, code: str, detail: str) -> None:
        super().__init__(detail)
        self.code = code
        self.detail = detail


@dataclass(frozen=True)
class Item:
    code: str
    name: str
    weight: Decimal
    kind: str = "pass_fail"
    max: int = 1
    critical: bool = False
    hint: str = ""


@dataclass(frozen=True)
class Card:
    version: int
    name: str
    items: tuple[Item, ...]

    def item(self, code: str) -> Item | None:
        return next((i for i in self.items if i.code == code), None)


@dataclass(frozen=True)
class Result:
    score: float
    critical_failed: tuple[str, ...]
    # code → (mark as given, points earned out of the item's weight)
    earned: dict[str, tuple[bool | int, float]]


def _item(raw: Mapping[str, Any], where: str) -> Item:
    code = str(raw.get("code") or "")
    if not code:
        raise CardError(f"{where}: an item without code")
    kind = str(raw.get("kind") or "pass_fail")
    if kind not in KINDS:
        raise CardError(f"{where}: {code}: unknown kind {kind!r}")
    try:
        weight = Decimal(str(raw.get("weight")))
    except ArithmeticError:
        raise CardError(f"{where}: {code}: weight is not a number") from None
    if not weight.is_finite() or weight <= 0:
        raise CardError(f"{where}: {code}: weight must be positive")
    critical = bool(raw.get("critical", False))
    if critical and kind != "pass_fail":
        raise CardError(f"{where}: {code}: only a pass_fail item can be critical")
    top = int(raw.get("max") or 1)
    if kind == "points" and top < 1:
        raise CardError(f"{where}: {code}: max must be at least 1")
    name = str(raw.get("name") or "").strip()
    if not name:
        raise CardError(f"{where}: {code}: missing name")
    return Item(code, name, weight, kind, top if kind == "points" else 1, critical,
                str(raw.get("hint") or "").strip())  # fmt: skip


def parse(data: Mapping[str, Any]) -> dict[int, Card]:
    """The card's versions, by number; each checked (codes unique, weights positive)."""
    out: dict[int, Card] = {}
    for raw in data.get("versions") or []:
        version = int(raw.get("version") or 0)
        where = f"scorecard version {version}"
        if version < 1 or version in out:
            raise CardError(f"{where}: missing or repeated version number")
        items = tuple(_item(i, where) for i in raw.get("items") or [])
        if not items:
            raise CardError(f"{where}: no items")
        if len({i.code for i in items}) != len(items):
            raise CardError(f"{where}: repeated item code")
        out[version] = Card(version, str(raw.get("name") or f"v{version}"), items)
    if not out:
        raise CardError("scorecard: no version")
    return out


def cards() -> dict[int, Card]:
    return parse(load_yaml("quality/scorecard.yaml"))


def current() -> Card:
    every = cards()
    return every[max(every)]


def card(version: int) -> Card:
    every = cards()
    if version not in every:
        raise CardError(f"scorecard version {version} is not in data/quality/scorecard.yaml")
    return every[version]


def _mark(item: Item, value: object) -> bool | int:
    if item.kind == "pass_fail":
        if not isinstance(value, bool):
            raise MarkError("invalid_mark", f"“{item.name}”只能评为通过或不通过。")
        return value
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= item.max:
        raise MarkError("invalid_mark", f"“{item.name}”的得分应为 0 到 {item.max} 的整数。")
    return value


def round_half_up(value: Decimal, places: int = 1) -> float:
    return float(value.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP))


def score(c: Card, marks: Mapping[str, object]) -> Result:
    """The score of these marks on card `c` (every item marked, nothing else)."""
    unknown = sorted(set(marks) - {i.code for i in c.items})
    if unknown:
        raise MarkError(
            "unknown_mark", f"评分表（第{c.version}版）没有这些项目：{'、'.join(unknown)}。"
        )
    missing = [i.name for i in c.items if i.code not in marks]
    if missing:
        raise MarkError("marks_incomplete", f"以下项目尚未评分：{'、'.join(missing)}。")
    total = sum((i.weight for i in c.items), Decimal(0))
    got = Decimal(0)
    earned: dict[str, tuple[bool | int, float]] = {}
    failed: list[str] = []
    for i in c.items:
        m = _mark(i, marks[i.code])
        part = i.weight * (Decimal(int(m)) / Decimal(i.max))
        got += part
        earned[i.code] = (m, round_half_up(part, 2))
        if i.critical and m is False:
            failed.append(i.code)
    value = Decimal(0) if failed else Decimal(100) * got / total
    return Result(round_half_up(value), tuple(failed), earned)


def describe(c: Card, marks: Mapping[str, object] | None = None) -> list[dict[str, Any]]:
    """The card's items as shown (with the marks and points earned when given)."""
    result = score(c, marks) if marks is not None else None
    out = []
    for i in c.items:
        row: dict[str, Any] = {
            "code": i.code,
            "name": i.name,
            "weight": float(i.weight),
            "kind": i.kind,
            "max": i.max,
            "critical": i.critical,
            "hint": i.hint,
        }
        if result is not None:
            row["mark"], row["earned"] = result.earned[i.code]
        out.append(row)
    return out


def round_half_up_float(value: float | None) -> float:
    """A score someone typed, kept to one decimal (half up)."""
    return round_half_up(Decimal(str(value or 0)))
