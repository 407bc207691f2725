"""Checking one row of a work-order file (pure): the row as a complaint, or its problems.

`Checker(mapping, columns, now).check(row_number, values)` gives a `Good` (the validated
`ComplaintIn`, the idempotency key `import:<source>:<工单号>`, the historical closing if the
row has 办结时间, the intake record) or a list of `RowError` (row, column, what is wrong,
in Chinese). Nothing here touches the database: every row of a file is checked before
anything is written.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from functools import lru_cache
from typing import Any

from pydantic import ValidationError

from kesu.channels.file_mapping import FIELDS, ColumnPlan, Mapping
from kesu.channels.workorder_file import Cell
from kesu.clock import BEIJING, OUT_OF_RANGE, in_supported_range
from kesu.complaints import vocabulary as vocab
from kesu.complaints.schemas import ComplaintIn
from kesu.problems import field_error, has_control_characters

MAX_WORK_ORDER = 100
# A clock slightly ahead on the exporting side is tolerated (as registration does).
FUTURE_TOLERANCE = timedelta(minutes=5)


@dataclass(frozen=True)
class RowError:
    row: int
    column: str
    detail: str

    def text(self) -> str:
        return f"第 {self.row} 行，列“{self.column}”：{self.detail}"


@dataclass(frozen=True)
class Closed:
    """A historical work order that arrived finished: when, and what was done."""

    closed_at: datetime
    resolution: str | None
    root_cause: str | None = None  # as the file says it (a code or a name); else 未记录


@dataclass(frozen=True)
class Good:
    row: int
    complaint: ComplaintIn
    key: str
    closed: Closed | None
    intake: dict[str, Any]


@dataclass
class BadRow:
    row: int
    values: list[Cell]
    errors: list[RowError]


def item_of(g: Good) -> dict[str, Any]:
    """A checked row as registration's bulk import takes it."""
    return {**g.complaint.model_dump(), **extra_of(g)}


def extra_of(g: Good) -> dict[str, Any]:
    closed = None
    if g.closed is not None:
        closed = {
            "closed_at": g.closed.closed_at,
            "resolution": g.closed.resolution,
            "root_cause": _cause(g.closed.root_cause),
        }
    return {"idempotency_key": g.key, "closed": closed, "intake": g.intake}


# Chinese names (and the usual words of hotline exports) → codes.
_KIND_WORDS = {
    **{v["name"]: k for k, v in vocab.KINDS.items()},
    "故障": "fault",
    "障碍": "fault",
    "故障申告": "fault",
    "咨询类": "consultation",
    "投诉类": "complaint",
    "查询类": "inquiry",
}
_CATEGORY_WORDS = {v["name"]: k for k, v in vocab.CATEGORIES.items()}
_CHANNEL_WORDS = {
    **{v["name"]: k for k, v in vocab.CHANNELS.items()},
    "10000号": "hotline",
    "热线": "hotline",
    "电话": "hotline",
    "App": "app",
    "APP": "app",
    "掌厅": "app",
    "网厅": "web",
    "邮件": "email",
}
_CAUSE_WORDS = {
    **{v["name"]: k for k, v in vocab.CLOSING_CAUSES.items()},
    **{v["en"].lower(): k for k, v in vocab.CLOSING_CAUSES.items()},
    **{k: k for k in vocab.CLOSING_CAUSES},
}


def _cause(text: str | None) -> str | None:
    """A historical row's cause: a code, a Chinese or English name; anything else (or
    nothing) is recorded as 未记录 by the import (complaints.import_history), not refused."""
    return None if not text else _CAUSE_WORDS.get(text.strip().lower())


_AREA_WORDS = {
    "城市": "urban",
    "城镇": "urban",
    "urban": "urban",
    "农村": "rural",
    "rural": "rural",
}

_FORMATS = (
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%d %H:%M",
    "%Y/%m/%d %H:%M:%S",
    "%Y/%m/%d %H:%M",
    "%Y年%m月%d日 %H:%M:%S",
    "%Y年%m月%d日 %H:%M",
    "%Y年%m月%d日%H时%M分%S秒",
    "%Y年%m月%d日%H时%M分",
    "%Y%m%d%H%M%S",
    "%Y%m%d %H:%M:%S",
    "%Y-%m-%dT%H:%M:%S",
    "%Y-%m-%d %H:%M:%S.%f",
)
_DATES = ("%Y-%m-%d", "%Y/%m/%d", "%Y年%m月%d日", "%Y%m%d", "%Y.%m.%d")


def parse_time(value: Cell) -> datetime:
    """A time cell (Beijing time unless it says otherwise); ValueError in Chinese."""
    if isinstance(value, datetime):
        parsed = value
    elif isinstance(value, date):
        parsed = datetime.combine(value, time())
    elif isinstance(value, time) or value is None:
        raise ValueError("只有时刻没有日期，应为“2026-11-20 09:30:00”这样的日期时间。")
    else:
        parsed = _parse_text(value)
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=BEIJING)
    if not in_supported_range(parsed):
        raise ValueError(f"时间“{value}”超出范围：{OUT_OF_RANGE}")
    return parsed


# The usual shapes, read without strptime: 2026-11-20 09:30[:00], 2026/11/20 9:30,
# 2026年11月20日 9时30分, 2026.11.20, a date alone.
_QUICK = re.compile(
    r"(\d{4})[-/.年](\d{1,2})[-/.月](\d{1,2})日?"
    r"(?:[ T]?(\d{1,2})[:时](\d{1,2})(?:[:分](\d{1,2})(?:\.\d+)?秒?)?分?)?"
)


def _parse_text(text: str) -> datetime:
    raw = " ".join(text.split())
    quick = _QUICK.fullmatch(raw)
    if quick is not None:
        try:
            y, mo, d, h, mi, sec = (int(g) if g is not None else 0 for g in quick.groups())
            return datetime(y, mo, d, h, mi, sec)
        except ValueError:
            raise ValueError(
                f"时间“{text}”不是有效的日期时间（月、日或时、分超出范围）。"
            ) from None
    for fmt in (*_FORMATS, *_DATES):
        try:
            return datetime.strptime(raw, fmt)
        except ValueError:
            continue
    try:
        return datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        pass
    if re.fullmatch(r"\d{5}(\.\d+)?", raw):  # an Excel serial date saved as a number
        serial = float(raw)
        if 20000 < serial < 80000:
            return datetime(1899, 12, 30) + timedelta(days=serial)
    raise ValueError(
        f"时间“{text}”格式不对，应为“2026-11-20 09:30:00”或“2026/11/20 9:30”这样的日期时间。"
    )


@lru_cache(maxsize=4096)
def split_location(value: str) -> tuple[str | None, str | None]:
    """归属地 → (province, city): "河南省郑州市", "河南郑州", "河南", "郑州市" (city only)."""
    text = re.sub(r"[\s\-—/|·，,]+", "", value)
    full = vocab.normalize_province(text)
    if full is not None:
        return full, None
    for n in range(min(len(text) - 1, 8), 1, -1):
        province = vocab.normalize_province(text[:n])
        if province is not None:
            rest = text[n:]
            return province, (rest if rest not in ("", "市") else text)[:50]
    return None, text[:50]


def _text(value: Cell) -> str | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, (date, time)):
        return value.isoformat()
    return value


def _word(table: dict[str, str], codes: dict[str, dict], value: str) -> str | None:
    if value in codes:
        return value
    return table.get(value) or table.get(value.strip("类"))


# ComplaintIn's fields → the mapping's field they came from (for the report's column).
_SOURCE_OF = {
    "customer.phone": "phone",
    "customer.name": "name",
    "customer.account": "account",
    "customer.province": "location",
    "customer.city": "location",
    "customer.area": "area",
    "received_at": "received_at",
    "description": "description",
    "title": "title",
    "demands": "demands",
    "kind": "kind",
    "category": "category",
    "channel": "channel",
}


class Checker:
    """The checks of one file: its mapping, its columns, the time of the import."""

    def __init__(self, mapping: Mapping, columns: ColumnPlan, now: datetime, file_name: str):
        self.mapping, self.columns, self.now, self.file_name = mapping, columns, now, file_name
        self.seen: dict[str, int] = {}  # work order number → the row it was first on
        self._index = list(columns.index.items())

    def column(self, name: str) -> str:
        if name == "location" and "location" not in self.columns.index:
            name = "province" if "province" in self.columns.index else "city"
        return self.columns.column_name(name)

    def check(self, row: int, values: list[Cell]) -> Good | list[RowError]:
        got: dict[str, Cell] = {}
        width = len(values)
        for name, i in self._index:
            got[name] = values[i] if i < width else None
        errors: list[RowError] = []

        def bad(name: str, detail: str) -> None:
            errors.append(RowError(row, self.column(name), detail))

        for name in self.mapping.required:
            if got.get(name) is None:
                bad(name, f"{FIELDS[name]}为空。")
        texts: dict[str, str | None] = {}
        for name, value in got.items():
            if name in ("received_at", "closed_at"):
                continue
            text = _text(value)
            if text is not None and has_control_characters(text):
                bad(name, "含有不可见的控制字符，请删除后再导入。")
                text = None
            texts[name] = text
        received = closed_at = None
        for name in ("received_at", "closed_at"):
            if got.get(name) is None:
                continue
            try:
                when = parse_time(got[name])
            except ValueError as err:
                bad(name, str(err))
                continue
            if when - self.now > FUTURE_TOLERANCE:
                bad(name, f"{FIELDS[name]}“{_text(got[name])}”晚于当前时间。")
                continue
            if name == "received_at":
                received = when
            else:
                closed_at = when
        if received is not None and closed_at is not None and closed_at < received:
            bad("closed_at", "办结时间早于受理时间。")
        if texts.get("resolution") and got.get("closed_at") is None:
            bad(
                "closed_at",
                "有处理结果但没有办结时间：已办结的工单请填写办结时间，未办结的请清空处理结果。",
            )
        work_order = texts.get("work_order")
        if work_order is not None:
            if len(work_order) > MAX_WORK_ORDER:
                bad("work_order", f"工单号过长（最多 {MAX_WORK_ORDER} 个字符）。")
            elif work_order in self.seen:
                bad("work_order", f"工单号“{work_order}”与第 {self.seen[work_order]} 行重复。")
            else:
                self.seen[work_order] = row
        body = self._body(texts, received, bad)
        if errors:
            return errors
        try:
            complaint = ComplaintIn.model_validate(body)
        except ValidationError as err:
            for e in err.errors():
                found = field_error(e)  # type: ignore[arg-type]
                name = _SOURCE_OF.get(found["field"], "description")
                detail = found["detail"].replace(f"“{found['field']}”", f"“{self.column(name)}”")
                bad(name, detail)
            return errors
        assert work_order is not None
        closed = None
        if closed_at is not None:
            closed = Closed(closed_at, texts.get("resolution") or None, texts.get("root_cause"))
        intake = {
            "source": "import",
            "ref": f"{self.mapping.source}:{work_order}",
            "file": self.file_name[:200],
            "row": row,
            "mapping": self.mapping.name,
        }
        return Good(row, complaint, f"import:{self.mapping.source}:{work_order}", closed, intake)

    def _body(self, texts: dict[str, str | None], received: datetime | None, bad) -> dict:
        customer: dict[str, Any] = {"phone": texts.get("phone") or ""}
        for name in ("name", "account"):
            if texts.get(name):
                customer[name] = texts[name]
        province, city = self.mapping.province, texts.get("city")
        if texts.get("province"):
            province = vocab.normalize_province(texts["province"] or "") or texts["province"]
        if texts.get("location"):
            found, place = split_location(texts["location"] or "")
            if found is None and province is None:
                bad(
                    "location",
                    f"无法从归属地“{texts['location']}”识别省份：请写明省份（如“河南省郑州市”），"
                    "或在映射中设置默认省份（province）。",
                )
            province = found or province
            city = city or place
        if province:
            customer["province"] = province
        if city:
            customer["city"] = city
        if texts.get("area"):
            area = _AREA_WORDS.get(texts["area"] or "")
            if area is None:
                bad("area", f"城乡“{texts['area']}”无法识别，应为“城市”或“农村”。")
            customer["area"] = area or "urban"
        body: dict[str, Any] = {
            "channel": self.mapping.channel,
            "customer": customer,
            "description": texts.get("description") or "",
            "received_at": received,
        }
        for name in ("title", "demands"):
            if texts.get(name):
                body[name] = texts[name]
        for name, table, codes in (
            ("kind", _KIND_WORDS, vocab.KINDS),
            ("category", _CATEGORY_WORDS, vocab.CATEGORIES),
            ("channel", _CHANNEL_WORDS, vocab.CHANNELS),
        ):
            value = texts.get(name)
            if not value:
                continue
            code = _word(table, codes, value)
            if code is None:
                names = "、".join(v["name"] for v in codes.values())
                bad(name, f"{FIELDS[name]}“{value}”无法识别，可选：{names}。")
            else:
                body[name] = code
        return body
