"""The operator's statistics for the regulator (管局月报、季报): one month or quarter, laid
out as the tables a communications administration asks an operator for
(data/reports/regulator.yaml: titles, channel levels, how many causes).

What it holds, each from one place so that it cannot disagree with the rest of kesu:
- complaints received, valid and invalid, by channel level (省级/集团渠道) and kind, with
  the population of the KPI complaints_per_10k (data/reports/kpis.yaml: the complaint
  kinds, merged and invalid left out); invalid ones counted apart;
- the valid ones by the ministry's category scheme in force on the period's last day
  (appeals.schemes: the same files the appeal centre's statistics use; a new scheme is a
  new file);
- the time-limit KPIs and satisfaction, and 万户投诉率 in total and by province, taken
  from the KPI report itself (reports.kpi_report.kpis) for the same period; 万户投诉率 by
  city counted with that KPI's population over the configured subscriber base;
- the regulator's referrals received and what became of them (channels.referral_figures);
- the top root causes of the complaints closed in the period (data/reference.yaml
  root_causes), each with its corrective actions (整改: corrective.views) not finished
  before the period began.

No article we hold prescribes this report's layout: it is operator reporting practice
(the seeds: 通信企业应定期对客户投诉数据进行统计分析), and the file says so.
"""

from __future__ import annotations

import re
from datetime import date, timedelta
from functools import cache
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, select

from kesu.accounts.audit import audit
from kesu.accounts.roles import Actor
from kesu.appeals import schemes
from kesu.channels import referral_figures, referral_sources
from kesu.clock import to_beijing
from kesu.complaints import vocabulary as vocab
from kesu.corrective import lifecycle as corrective_states
from kesu.corrective import views as corrective
from kesu.data_files import load_yaml
from kesu.problems import Problem
from kesu.reports import kpi_report, regulator_xlsx
from kesu.reports.catalog import definitions, subscribers
from kesu.reports.queries import C, all_of, bounds, iso, population, reader, reading, scope
from kesu.reports.subscribers import region_rows
from kesu.store.db import write

if TYPE_CHECKING:
    from kesu.runtime import Runtime

PER_10K = "complaints_per_10k"  # the KPI whose population and base the counts share
_MONTH = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")
_QUARTER = re.compile(r"^(\d{4})-?Q([1-4])$", re.I)


@cache
def layout() -> dict[str, Any]:
    return dict(load_yaml("reports/regulator.yaml"))


def period_of(month: str | None, quarter: str | None) -> tuple[date, date, str]:
    """(first day, last day, label) of `month` (YYYY-MM) or `quarter` (YYYY-Qn); 422 else."""
    if bool(month) == bool(quarter):
        raise Problem(
            422,
            "invalid_period",
            "Month or quarter",
            "请给出报表月份 month（YYYY-MM）或季度 quarter（YYYY-Q1…Q4），二者选一。",
        )
    if month:
        m = _MONTH.match(month)
        if not m:
            raise Problem(
                422, "invalid_period", "Invalid month", f"月份“{month[:20]}”不对，应为 YYYY-MM。"
            )
        year, first = int(m.group(1)), int(m.group(2))
        label = f"{year}年{first}月"
        last = first
    else:
        q = _QUARTER.match(str(quarter))
        if not q:
            raise Problem(
                422,
                "invalid_period",
                "Invalid quarter",
                f"季度“{str(quarter)[:20]}”不对，应为 YYYY-Q1 至 YYYY-Q4。",
            )
        year, n = int(q.group(1)), int(q.group(2))
        first, last = 3 * n - 2, 3 * n
        label = f"{year}年第{n}季度"
    if not 2000 <= year <= 2100:
        raise Problem(422, "invalid_period", "Year out of range", "年份应在2000至2100之间。")
    start = date(year, first, 1)
    end = (date(year + (last == 12), last % 12 + 1, 1)) - timedelta(days=1)
    return start, end, label


def _received(conn, p, start: date, end: date) -> tuple[dict[str, Any], dict[str, int]]:
    """Valid complaints by channel level × kind × category, and the invalid ones."""
    pop = definitions()[PER_10K].population
    lo, hi = bounds(start, end)
    in_period = [C.received_at >= lo, C.received_at < hi, *scope(p)]
    rows = conn.execute(
        select(C.channel_level, C.kind, C.category, func.count())
        .where(*in_period, all_of(population(C, pop)))
        .group_by(C.channel_level, C.kind, C.category)
    ).all()
    invalid = conn.execute(
        select(func.count()).where(*in_period, C.kind.in_(sorted(pop.kinds)), C.status == "invalid")
    ).scalar_one()
    levels: dict[str, dict[str, int]] = {}
    categories: dict[str, int] = {}
    for level, kind, category, n in rows:
        cell = levels.setdefault(level, {})
        cell[kind] = cell.get(kind, 0) + n
        categories[category or ""] = categories.get(category or "", 0) + n
    names = layout()["channel_levels"]
    kinds = [k for k in vocab.KINDS if k in pop.kinds]
    by_level = [
        {
            "level": level,
            "name": names.get(level, level),
            "kinds": {k: levels.get(level, {}).get(k, 0) for k in kinds},
            "total": sum(levels.get(level, {}).values()),
        }
        for level in [*names, *sorted(set(levels) - set(names))]
    ]
    valid = sum(r["total"] for r in by_level)
    out = {
        "valid": valid,
        "invalid": invalid,
        "total": valid + invalid,
        "kinds": [{"kind": k, "name": vocab.KINDS[k]["name"]} for k in kinds],
        "by_level": by_level,
        "by_kind": {k: sum(r["kinds"][k] for r in by_level) for k in kinds},
    }
    return out, categories


def _categories(categories: dict[str, int], end: date) -> dict[str, Any]:
    scheme = schemes.for_day(end)
    counts: dict[str, int] = {c.code: 0 for c in scheme.categories}
    for category, n in categories.items():
        code = scheme.category_of(category or None)
        counts[code] = counts.get(code, 0) + n
    total = sum(counts.values())
    return {
        "scheme": {"id": scheme.id, "name": scheme.name, "source": scheme.source},
        "rows": [
            {
                "code": c.code,
                "name": c.name,
                "count": counts[c.code],
                "share": round(counts[c.code] / total, 6) if total else None,
            }
            for c in scheme.categories
        ],
        "total": total,
    }


def _cities(conn, p, start: date, end: date) -> list[dict[str, Any]]:
    """万户投诉率 of every configured city (with its province's line first)."""
    pop = definitions()[PER_10K].population
    per = int(definitions()[PER_10K].params["per"])
    subs = subscribers()
    lo, hi = bounds(start, end)
    rows = conn.execute(
        select(C.customer_province, C.customer_city, func.count())
        .where(C.received_at >= lo, C.received_at < hi, *scope(p), all_of(population(C, pop)))
        .group_by(C.customer_province, C.customer_city)
    ).all()
    out: list[dict[str, Any]] = []
    for province, region in subs.provinces.items():
        if not region.cities:
            continue
        counts: dict[tuple[str | None, str | None], int] = {}
        for prov, city, n in rows:
            if prov == province:
                counts[(prov, None)] = counts.get((prov, None), 0) + n
                if city in region.cities:
                    counts[(prov, city)] = n
        out += [r for r in region_rows(subs, counts, start, end, province, per) if r["city"]]
    return out


def _causes(conn, p, start: date, end: date) -> dict[str, Any]:
    """The root causes of the complaints closed in the period, most frequent first."""
    pop = definitions()[PER_10K].population
    lo, hi = bounds(start, end)
    rows = conn.execute(
        select(C.root_cause, func.count())
        .where(
            C.closed_at >= lo,
            C.closed_at < hi,
            *scope(p),
            C.kind.in_(sorted(pop.kinds)),
            C.status.not_in(["merged", "invalid"]),
        )
        .group_by(C.root_cause)
    ).all()
    closed = sum(n for _cause, n in rows)
    ranked = sorted(((c, n) for c, n in rows if c), key=lambda cn: (-cn[1], cn[0]))
    top = int(layout()["top_causes"])
    actions = {
        row["root_cause"]: [
            {
                **a,
                "state_name": corrective_states.STATES.get(a["state"], {}).get("name", a["state"]),
            }
            for a in row["actions"]
        ]
        for row in corrective.top_causes_with_actions(conn, start, end, limit=len(ranked) or 1)
    }
    return {
        "closed": closed,
        "without_cause": sum(n for c, n in rows if not c),
        "top": [
            {
                "cause": cause,
                "name": vocab.ROOT_CAUSES.get(cause, {}).get("name", cause),
                "count": n,
                "share": round(n / closed, 6) if closed else None,
                "actions": actions.get(cause, []),  # 整改 of this cause (corrective.views)
            }
            for cause, n in ranked[:top]
        ],
    }


def report(
    rt: Runtime, actor: Actor, month: str | None = None, quarter: str | None = None
) -> dict[str, Any]:
    """The regulator's report for a month or a quarter (see the module doc)."""
    p = reader(actor)
    if p.scope != "all":
        raise Problem(
            403, "forbidden", "Forbidden", "管局报表是全公司的统计，仅限全公司范围的用户查看。"
        )
    start, end, label = period_of(month, quarter)
    now = rt.clock()
    kpi = kpi_report.kpis(rt, p, start, end)
    wanted = layout()["kpis"]
    lo, hi = bounds(start, end)
    with reading(rt) as conn:
        received, categories = _received(conn, p, start, end)
        cities = _cities(conn, p, start, end)
        causes = _causes(conn, p, start, end)
        referrals = referral_figures.figures(conn, lo, hi, to_beijing(now).date())
        names = {s["code"]: s["name"] for s in referral_sources.listing(conn)}
    for row in referrals["by_source"]:
        row["name"] = names.get(row["source"] or "", row["source"] or "（未登记来源）")
    per_10k = next(k for k in kpi["kpis"] if k["id"] == PER_10K)
    return {
        "title": layout()["title"],
        "label": label,
        "period": {"from": start.isoformat(), "to": end.isoformat()},
        "received": received,
        "categories": _categories(categories, end),
        "kpis": [k for k in kpi["kpis"] if k["id"] in wanted],
        "per_10k": {
            "value": per_10k["value"],
            "complaints": per_10k["numerator"],
            "subscribers": per_10k["denominator"],
            "provinces": kpi["by_region"],
            "cities": cities,
            "source": kpi["subscribers_source"],
        },
        "referrals": referrals,
        "causes": causes,
        "basis": layout()["basis"],
        "generated_at": iso(now),
    }


def report_xlsx(
    rt: Runtime, actor: Actor, month: str | None = None, quarter: str | None = None
) -> tuple[bytes, str]:
    """The report as an xlsx workbook and its file name; the export is audited."""
    p = reader(actor)
    data = report(rt, p, month, quarter)
    content = regulator_xlsx.workbook(data)
    with write(rt.engine) as conn:
        detail = {"format": "xlsx", "from": data["period"]["from"], "to": data["period"]["to"]}
        audit(conn, p, rt.clock(), "report.export", "report", "regulator", detail)
    return content, regulator_xlsx.filename(data)
