"""A reviewer's sample of closed complaints for a period of Beijing dates (the rule is
quality.sampling; the complaints come through complaints.lookups)."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import TYPE_CHECKING, Any

from kesu.accounts.roles import Actor, as_principal, require
from kesu.clock import BEIJING
from kesu.complaints import lookups
from kesu.complaints import vocabulary as vocab
from kesu.complaints.views import iso
from kesu.problems import Problem
from kesu.quality import reviews, sampling
from kesu.store.db import read

if TYPE_CHECKING:
    from kesu.runtime import Runtime


def period(start: date, end: date) -> tuple[datetime, datetime]:
    """[start 00:00, the day after `end` 00:00) in Beijing time; checked."""
    longest = int(sampling.config()["sample"]["max_days"])
    if end < start or (end - start).days + 1 > longest:
        raise Problem(
            422,
            "invalid_period",
            "Invalid period",
            f"期间无效：结束日期不能早于开始日期，且不超过 {longest} 天。",
        )
    lo = datetime.combine(start, time(0), BEIJING)
    return lo, datetime.combine(end + timedelta(days=1), time(0), BEIJING)


def parse_period(today: date, from_: str | None, to: str | None) -> tuple[date, date]:
    """The Beijing dates asked for (from/to as YYYY-MM-DD); by default the month of `to`
    (or this month) from its first day."""

    def day(value: str, name: str) -> date:
        try:
            return date.fromisoformat(value)
        except ValueError:
            raise Problem(
                422, "invalid_period", "Invalid period", f"{name} 应为日期 YYYY-MM-DD。"
            ) from None

    end_asked = day(to, "to") if to else None
    start = day(from_, "from") if from_ else (end_asked or today).replace(day=1)
    end = end_asked or max(today, start)
    period(start, end)
    return start, end


def reasons_of(c) -> tuple[str, ...]:
    return tuple(
        r
        for r, yes in (
            ("reopened", (c.reopen_count or 0) > 0),
            ("escalated", (c.escalation_level or 0) > 0),
            ("breached", bool(c.breached)),
            ("dissatisfied", c.callback_result == "dissatisfied"),
        )
        if yes
    )


def sample(
    rt: Runtime, actor: Actor, start: date, end: date, seed: str | None = None
) -> dict[str, Any]:
    """The sample for [start, end] (Beijing dates): always-in complaints and N random
    per handler; the same period and seed give the same sample."""
    p = as_principal(actor)
    require(p, "quality.review")
    lo, hi = period(start, end)
    seed = seed or sampling.default_seed(start, end)
    n = sampling.per_handler()
    with read(rt.engine) as conn:
        rows = lookups.closed_between(conn, p, lo, hi)
        by_number = {r.number: r for r in rows}
        closed = [sampling.Closed(r.number, r.handler, reasons_of(r)) for r in rows]
        picked = sampling.draw(closed, n, seed)
        done = reviews.reviewed_numbers(conn, [x.number for x in picked])
    names = sampling.reason_names()
    items = []
    for x in picked:
        r = by_number[x.number]
        items.append(
            {
                "number": x.number,
                "handler": x.handler,
                "category": r.category,
                "category_name": vocab.CATEGORIES.get(r.category or "", {}).get("name"),
                "closed_at": iso(r.closed_at),
                "reasons": list(x.reasons),
                "reason_names": [names.get(k, k) for k in x.reasons],
                "review": done.get(x.number),
            }
        )
    return {
        "from": start.isoformat(),
        "to": end.isoformat(),
        "seed": seed,
        "per_handler": n,
        "closed": len(rows),
        "items": items,
    }
