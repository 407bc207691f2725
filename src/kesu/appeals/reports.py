"""The appeal statistics of a period (GET /api/v1/reports/appeals, its xlsx and the page
/appeals/statistics): the appeals RECEIVED in the period's Beijing days, as their rows
stand now, counted by appeals.statistics with the ministry's category scheme in force on
the period's first day (appeals.schemes.for_day) unless another is asked for.

The period: both days included (Beijing dates), at most reports.periods.MAX_PERIOD_DAYS
days; by default the current quarter (the ministry publishes quarterly). `quarters`
lists the quarters the page's picker offers."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from kesu.accounts.roles import Actor, as_principal, require
from kesu.appeals import records, schemes, statistics
from kesu.clock import BEIJING, supported_date, to_beijing
from kesu.problems import Problem
from kesu.reports.periods import PeriodError, check_period
from kesu.store.db import read

if TYPE_CHECKING:
    from kesu.runtime import Runtime


# ---- periods ---------------------------------------------------------------------------


def quarter_of(day: date) -> tuple[date, date]:
    """The quarter `day` falls in: its first and last day."""
    first = date(day.year, 3 * ((day.month - 1) // 3) + 1, 1)
    following = date(first.year + (first.month + 3 > 12), (first.month + 2) % 12 + 1, 1)
    return first, following - timedelta(days=1)


def quarters(today: date, count: int = 8) -> list[dict[str, str]]:
    """The current quarter and the `count - 1` before it, newest first: from, to, name."""
    out = []
    start, end = quarter_of(today)
    for _ in range(count):
        out.append(
            {
                "from": start.isoformat(),
                "to": end.isoformat(),
                "name": statistics.period_name(start, end),
            }
        )
        start, end = quarter_of(start - timedelta(days=1))
    return out


def _day(value: str, field: str) -> date:
    text = value.strip()
    try:
        if len(text) != 10:
            raise ValueError
        day = date.fromisoformat(text)
    except ValueError:
        raise Problem(
            422, "invalid_date", "Invalid date", f"“{field}”不是合法的日期，应为 YYYY-MM-DD。"
        ) from None
    return supported_date(day, field)


def period(today: date, from_: str | None, to: str | None) -> tuple[date, date]:
    """The period asked for (either end may be left out: the current quarter's is used),
    checked like the reports' periods (422 invalid_period, period_too_long)."""
    q_start, q_end = quarter_of(today)
    start = _day(from_, "from") if from_ else None
    end = _day(to, "to") if to else None
    if start is None and end is None:
        start, end = q_start, q_end
    elif start is None:
        assert end is not None
        start = quarter_of(end)[0]
    elif end is None:
        end = quarter_of(start)[1]
    try:
        check_period(start, end)
    except PeriodError as err:
        raise Problem(422, err.code, "Invalid period", err.detail) from None
    return start, end


def scheme_for(start: date, ident: str | None) -> schemes.Scheme:
    if not ident:
        return schemes.for_day(start)
    try:
        return schemes.by_id(ident)
    except KeyError:
        known = "、".join(s.id for s in schemes.load_all())
        raise Problem(
            422,
            "unknown_scheme",
            "Unknown category scheme",
            f"未知的分类口径“{ident}”，可选：{known}。",
        ) from None


# ---- figures ---------------------------------------------------------------------------


def _bj_day(at: datetime | None) -> date | None:
    return to_beijing(at).date() if at is not None else None


def row_of(r: Any) -> dict[str, Any]:
    """An appeal row as appeals.statistics counts it (Beijing dates)."""
    return {
        "number": r.number,
        "operator": r.operator,
        "category": r.category,
        "received_at": _bj_day(r.received_at),
        "status": r.status,
        "decision": r.decision,
        "replied_at": _bj_day(r.replied_at),
        "reply_due_at": _bj_day(r.reply_due_at),
        "outcome": r.outcome,
        "mediated": bool(r.mediated),
    }


def rows(
    rt: Runtime, start: date, end: date
) -> tuple[list[dict[str, Any]], dict[str, str], dict[str, int]]:
    """Every appeal received in [start, end] (Beijing days); the operators' names and
    user bases."""
    lo = datetime.combine(start, time(0), tzinfo=BEIJING)
    hi = datetime.combine(end + timedelta(days=1), time(0), tzinfo=BEIJING)
    with read(rt.engine) as conn:
        found = records.in_period(conn, lo, hi)
        operators = records.operators(conn)
    names = {o["code"]: o["name"] for o in operators}
    users = {o["code"]: int(o["users"]) for o in operators if o["users"]}
    return [row_of(r) for r in found], names, users


def figures(
    rt: Runtime, actor: Actor, start: date, end: date, scheme: str | None = None
) -> dict[str, Any]:
    """appeals.statistics.figures of the appeals received in [start, end]."""
    p = as_principal(actor)
    require(p, "appeal.report")
    chosen = scheme_for(start, scheme)
    found, names, users = rows(rt, start, end)
    # A period not over yet is counted as it stands today: an unanswered appeal whose
    # reply date is still ahead is running, not late (statistics' `end`).
    as_of = min(end, today(rt))
    fig = statistics.figures(found, start, max(start, as_of), users, chosen, names)
    fig["period"] = {
        "from": start.isoformat(),
        "to": end.isoformat(),
        "name": statistics.period_name(start, end),
        "as_of": as_of.isoformat() if as_of < end else None,
    }
    fig["scheme"]["categories"] = [
        {"code": c.code, "name": c.name, "en": c.en} for c in chosen.categories
    ]
    return fig


def workbook(
    rt: Runtime, actor: Actor, start: date, end: date, scheme: str | None = None
) -> tuple[bytes, str]:
    """The figures as the ministry-style xlsx, and its (Chinese) file name."""
    fig = figures(rt, actor, start, end, scheme)
    return statistics.workbook(fig), filename(fig)


def filename(fig: dict[str, Any]) -> str:
    return f"电信用户申诉统计（{fig['period']['name']}）.xlsx"


def disposition(name: str, start: date, end: date) -> str:
    """Content-Disposition: an ASCII fallback and the Chinese name (RFC 6266/5987)."""
    fallback = f"kesu-appeals-{start.isoformat()}-{end.isoformat()}.xlsx"
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(name, safe='')}"


def today(rt: Runtime) -> date:
    return to_beijing(rt.clock()).date()
