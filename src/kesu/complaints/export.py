"""The complaint list exported as CSV or xlsx: the list's filters, masked as lists are,
streamed in batches (a hundred thousand rows never sit in memory), audited.

Who may export: whoever may read complaints and reports (`complaint.read` and
`report.read`: supervisors, quality, legal, auditors, administrators). Agents, handlers
and resellers work one complaint at a time and do not take the list away in bulk
(docs/security.md). Each row is the masked list row (`queries.scan` →
`views.present(summary)`), so a file shows exactly what the caller's queue shows.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from kesu.accounts.audit import audit
from kesu.accounts.roles import Actor, as_principal, require
from kesu.clock import to_beijing
from kesu.complaints import queries, xlsx_stream
from kesu.complaints import vocabulary as vocab
from kesu.store.db import write

if TYPE_CHECKING:
    from kesu.runtime import Runtime

CSV = "text/csv; charset=utf-8"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
FORMATS = ("csv", "xlsx")
BATCH = 1000


def _name(table: Mapping[str, Mapping[str, Any]], code: str | None) -> str:
    if not code:
        return ""
    return str(table.get(code, {}).get("name", code))


def _time(value: str | None) -> str:
    if not value:
        return ""
    if value.endswith("+08:00"):  # views.iso gives Beijing time already
        return value[:19].replace("T", " ")
    return to_beijing(datetime.fromisoformat(value)).strftime("%Y-%m-%d %H:%M:%S")


# (header, width in the workbook, value of a masked list row)
COLUMNS: list[tuple[str, int, Any]] = [
    ("单号", 18, lambda s: s["number"]),
    ("登记时间", 19, lambda s: _time(s["received_at"])),
    ("渠道", 10, lambda s: _name(vocab.CHANNELS, s["channel"])),
    ("类型", 8, lambda s: _name(vocab.KINDS, s["kind"])),
    ("分类", 14, lambda s: _name(vocab.CATEGORIES, s["category"])),
    ("状态", 8, lambda s: s["status_name"]),
    ("优先级", 8, lambda s: _name(vocab.PRIORITIES, s["priority"])),
    # The teams admins added live in the database: their names come with the batch.
    ("班组", 12, lambda s: s.get("team_name") or _name(vocab.TEAMS, s["team"])),
    ("处理人", 12, lambda s: s["assignee"] or ""),
    ("客户号码", 14, lambda s: s["customer"]["phone"] or ""),
    ("客户姓名", 10, lambda s: s["customer"]["name"] or ""),
    ("省份", 10, lambda s: s["customer"]["province"] or ""),
    ("城市", 10, lambda s: s["customer"]["city"] or ""),
    ("标题", 40, lambda s: s["title"] or ""),
    ("最近期限", 19, lambda s: _time(s["next_due_at"])),
    ("是否超期", 8, lambda s: "是" if s["overdue"] else "否"),
    ("风险标记", 16, lambda s: "、".join(_name(vocab.RISK_FLAGS, f) for f in s["risk_flags"])),
    ("重开次数", 8, lambda s: s["reopen_count"] or 0),
    ("合并到", 18, lambda s: s["merged_into"] or ""),
]
HEADERS = [c[0] for c in COLUMNS]


def _cell(value: Any) -> Any:
    """A text that a spreadsheet would run as a formula is kept as text (a leading ')."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


def row_of(item: Mapping[str, Any]) -> list[Any]:
    return [_cell(get(item)) for _, _, get in COLUMNS]


def csv_chunks(batches: Iterable[list[dict[str, Any]]]) -> Iterator[bytes]:
    """UTF-8 with a byte-order mark (so Excel reads the Chinese), one chunk per batch."""
    buf = io.StringIO()
    out = csv.writer(buf)
    out.writerow(HEADERS)
    yield ("\ufeff" + buf.getvalue()).encode("utf-8")
    for batch in batches:
        buf.seek(0)
        buf.truncate()
        out.writerows(row_of(item) for item in batch)
        yield buf.getvalue().encode("utf-8")


def xlsx_chunks(batches: Iterable[list[dict[str, Any]]]) -> Iterator[bytes]:
    """One sheet 投诉单, written and sent batch by batch (xlsx_stream: inline strings,
    no shared-strings table, no temporary file)."""
    widths = [c[1] for c in COLUMNS]
    rows = ([row_of(item) for item in batch] for batch in batches)
    return xlsx_stream.workbook("投诉单", HEADERS, widths, rows)


def _plain(value: Any) -> Any:
    if isinstance(value, datetime):
        return to_beijing(value).isoformat()
    if isinstance(value, timedelta):
        return int(value.total_seconds())
    if isinstance(value, (list, tuple)):
        return list(value)
    return value


@dataclass
class Export:
    rows: int
    media_type: str
    filename: str
    chunks: Iterator[bytes]


def export(rt: Runtime, f: Mapping[str, Any], fmt: str, actor: Actor) -> Export:
    """Check who asks, count and audit (the filters and the row count), then the file's
    bytes as an iterator that reads the rows batch by batch while it is consumed."""
    p = as_principal(actor)
    require(p, "complaint.read")
    require(p, "report.read")
    if fmt not in FORMATS:
        raise ValueError(fmt)
    now = rt.clock()
    total = queries.count(rt, f, p)
    shown = {
        k: _plain(v)
        for k, v in f.items()
        if v not in (None, False, [], "") and k not in ("limit", "cursor", "sort")
    }
    with write(rt.engine) as conn:
        audit(
            conn,
            p,
            now,
            "complaint.export",
            "complaint",
            None,
            {"format": fmt, "filters": shown, "rows": total},
        )
    teams = rt.team_names()
    batches = (
        [{**s, "team_name": teams.get(s["team"] or "", {}).get("name")} for s in batch]
        for batch in queries.scan(rt, f, p, batch=BATCH)
    )
    stamp = to_beijing(now).strftime("%Y%m%d-%H%M")
    if fmt == "csv":
        return Export(total, CSV, f"kesu-complaints-{stamp}.csv", csv_chunks(batches))
    return Export(total, XLSX, f"kesu-complaints-{stamp}.xlsx", xlsx_chunks(batches))
