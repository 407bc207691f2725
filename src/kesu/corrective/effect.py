"""The effect of a closed corrective action (pure): the complaints of its group received
in each of the N weeks before it was opened and each of the N weeks after it was closed
(N is `effect_weeks` in data/corrective/config.yaml), and a plain statement: fell or did
not fall, with the two totals. No statistics beyond that comparison.

The weeks are 7-day spans counted from the instants themselves (the opening going back,
the closing going forward), so both sides cover the same length of time. Until N weeks
have passed since the closing, the after-side is incomplete and nothing is concluded.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any

from kesu.clock import BEIJING
from kesu.complaints import vocabulary as vocab
from kesu.data_files import load_yaml

WEEK = timedelta(days=7)
GROUP_KEYS = ("root_cause", "category", "province", "city")


@lru_cache(maxsize=1)
def config() -> dict[str, int]:
    data = load_yaml("corrective/config.yaml")
    out = {}
    for key in ("effect_weeks", "group_window_weeks", "max_linked", "recent_closed"):
        value = data.get(key)
        if not isinstance(value, int) or value < 1:
            raise ValueError(f"data/corrective/config.yaml: {key} must be a whole number ≥ 1")
        out[key] = value
    return out


def spans(
    opened_at: datetime, closed_at: datetime, weeks: int
) -> tuple[list[tuple[datetime, datetime]], list[tuple[datetime, datetime]]]:
    """The N week-long spans before the opening (oldest first) and after the closing."""
    before = [
        (opened_at - (weeks - i) * WEEK, opened_at - (weeks - i - 1) * WEEK) for i in range(weeks)
    ]
    after = [(closed_at + i * WEEK, closed_at + (i + 1) * WEEK) for i in range(weeks)]
    return before, after


def describe(match: Mapping[str, Any]) -> str:
    """The group in words: 原因“系统故障”、分类“资费计费”、广东省 广州市."""
    parts = []
    if match.get("root_cause"):
        cause = match["root_cause"]
        parts.append(f"原因“{vocab.ROOT_CAUSES.get(cause, {}).get('name', cause)}”")
    if match.get("category"):
        cat = match["category"]
        parts.append(f"分类“{vocab.CATEGORIES.get(cat, {}).get('name', cat)}”")
    place = " ".join(x for x in (match.get("province"), match.get("city")) if x)
    if place:
        parts.append(place)
    return "、".join(parts) or "全部投诉"


def judge(
    match: Mapping[str, Any],
    before_spans: Sequence[tuple[datetime, datetime]],
    before: Sequence[int],
    after_spans: Sequence[tuple[datetime, datetime]],
    after: Sequence[int],
    now: datetime,
) -> dict[str, Any]:
    """The effect: each week's count, the totals, and the statement (fell: True / False,
    or None while the weeks after the closing have not all passed)."""
    weeks = len(before)
    complete = now >= after_spans[-1][1]

    def rows(ss, counts) -> list[dict[str, Any]]:
        return [
            {
                "from": lo.astimezone(BEIJING).date().isoformat(),
                "to": (hi.astimezone(BEIJING) - timedelta(microseconds=1)).date().isoformat(),
                "complaints": n,
                "complete": now >= hi,
            }
            for (lo, hi), n in zip(ss, counts, strict=True)
        ]

    b, a = sum(before), sum(after)
    group = describe(match)
    if not complete:
        fell = None
        passed = sum(1 for _lo, hi in after_spans if now >= hi)
        statement = (
            f"{group}：整改完成后尚未满{weeks}周（已满{passed}周），暂不判断；"
            f"整改前{weeks}周{b}件，整改后至今{a}件。"
        )
    else:
        fell = a < b
        verdict = "下降了" if fell else "没有下降"
        statement = f"{group}：整改前{weeks}周{b}件，整改后{weeks}周{a}件，{verdict}。"
    return {
        "weeks": weeks,
        "group": group,
        "before": rows(before_spans, before),
        "after": rows(after_spans, after),
        "before_total": b,
        "after_total": a,
        "complete": complete,
        "fell": fell,
        "statement": statement,
    }
