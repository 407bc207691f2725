"""The ministry platform's appeal file, row by row (pure): which Chinese header carries
which field of an appeal, and one row checked and turned into an AppealIn's fields, or
the problems found in it, each naming the column.

The file's own appeal number (申诉编号 / 外部编号) is required in every row: it is the
appeal's external_ref, what makes a second import of the same file register nothing
twice. Everything else may be empty: an appeal missing some of 第十二条's items is still
received and its appellant told what to add (appeals.materials)."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time
from typing import Any

from pydantic import ValidationError

from kesu.appeals.schemas import AppealIn
from kesu.channels.file_mapping import normalise
from kesu.clock import BEIJING
from kesu.complaints import vocabulary as vocab

# field → (the name the report uses, the headers that carry it)
COLUMNS: dict[str, tuple[str, tuple[str, ...]]] = {
    "external_ref": ("申诉编号", ("申诉编号", "外部编号", "部平台编号", "申诉单号", "编号")),
    "appellant.name": ("申诉人", ("申诉人", "申诉人姓名", "姓名")),
    "appellant.phone": ("联系电话", ("联系电话", "申诉人电话", "电话", "手机号码")),
    "appellant.address": ("地址", ("地址", "联系地址", "通信地址", "申诉人地址")),
    "appellant.postcode": ("邮编", ("邮编", "邮政编码")),
    "operator": ("被申诉企业", ("被申诉企业", "被申诉人", "被申诉单位")),
    "request": ("申诉要求", ("申诉要求", "申诉请求")),
    "reasons": ("申诉理由", ("申诉理由",)),
    "facts": ("事实根据", ("事实根据", "事实依据")),
    "dispute": ("争议类型", ("争议类型",)),
    "category": ("问题分类", ("问题分类", "申诉分类", "投诉分类")),
    "occurred_at": ("争议发生日期", ("争议发生日期", "争议事项发生日期")),
    "complained_at": ("投诉企业日期", ("投诉企业日期", "向企业投诉日期")),
    "operator_answered_at": ("企业答复日期", ("企业答复日期",)),
    "appeal_date": ("申诉日期", ("申诉日期",)),
    "received_at": ("收到日期", ("收到日期", "收到申诉日期", "收到时间")),
}
REQUIRED = ("external_ref",)
DATES = ("occurred_at", "complained_at", "operator_answered_at", "appeal_date")
DISPUTES = {"收费": "fee", "资费": "fee", "收费争议": "fee", "fee": "fee",
            "其他": "other", "非收费": "other", "其他争议": "other", "other": "other"}  # fmt: skip
_DAY = re.compile(r"^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?")
_TIME = re.compile(r"(\d{1,2}):(\d{2})(?::(\d{2}))?$")


@dataclass
class Plan:
    columns: dict[str, int]  # field → column index
    missing: list[str]  # required fields without a column (their report names)
    unknown: list[str]  # headers left over


@dataclass
class Row:
    number: int  # as Excel shows it
    values: dict[str, Any] = field(default_factory=dict)  # AppealIn's fields
    errors: list[str] = field(default_factory=list)

    @property
    def ref(self) -> str | None:
        return self.values.get("external_ref")


def plan(headers: Sequence[str]) -> Plan:
    by_header = {normalise(h): f for f, (_, names) in COLUMNS.items() for h in names}
    columns: dict[str, int] = {}
    unknown = []
    for i, header in enumerate(headers):
        key = normalise(header)
        found = by_header.get(key)
        if found and found not in columns:
            columns[found] = i
        elif key:
            unknown.append(str(header))
    missing = [COLUMNS[f][0] for f in REQUIRED if f not in columns]
    return Plan(columns, missing, unknown)


def day_of(value: Any) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    m = _DAY.match(str(value).strip())
    if not m:
        raise ValueError
    return date(int(m[1]), int(m[2]), int(m[3]))


def moment_of(value: Any) -> datetime:
    """收到日期: a date (its 00:00, Beijing) or a date and time (Beijing unless given)."""
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=BEIJING)
    day = day_of(value)
    t = _TIME.search(str(value).strip()) if not isinstance(value, date) else None
    at = time(int(t[1]), int(t[2]), int(t[3] or 0)) if t else time(0)
    return datetime.combine(day, at, tzinfo=BEIJING)


def match_operator(text: str, operators: Sequence[Mapping[str, Any]]) -> str | None:
    """The code of the operator a cell names: its code, its name, or a name that contains
    (or is contained in) exactly one operator's name. None: none or several."""
    key = text.strip().lower()
    for o in operators:
        if key == str(o["code"]).lower() or text.strip() == o["name"]:
            return str(o["code"])
    found = [o for o in operators if text.strip() in o["name"] or o["name"] in text.strip()]
    return str(found[0]["code"]) if len(found) == 1 else None


def _category(text: str) -> str | None:
    if text in vocab.CATEGORIES:
        return text
    for code, spec in vocab.CATEGORIES.items():
        if text == spec.get("name"):
            return code
    return None


def _set(values: dict[str, Any], key: str, value: Any) -> None:
    if key.startswith("appellant."):
        values.setdefault("appellant", {})[key.split(".", 1)[1]] = value
    else:
        values[key] = value


def read_row(
    number: int,
    cells: Sequence[Any],
    columns: Mapping[str, int],
    operators: Sequence[Mapping[str, Any]],
    today: date,
) -> Row:
    """One row checked: the AppealIn's fields (channel "import"), or what is wrong."""
    row = Row(number)
    values: dict[str, Any] = {"channel": "import"}
    for key, i in columns.items():
        raw = cells[i] if i < len(cells) else None
        if raw is None or (isinstance(raw, str) and not raw.strip()):
            continue
        label = COLUMNS[key][0]
        text = raw.strip() if isinstance(raw, str) else raw
        try:
            if key in DATES:
                value: Any = day_of(text)
                if value > today:
                    row.errors.append(f"“{label}”（{value.isoformat()}）晚于今天")
                    continue
            elif key == "received_at":
                value = moment_of(text)
                if value.date() > today:
                    row.errors.append(f"“{label}”（{value.date().isoformat()}）晚于今天")
                    continue
            elif key == "dispute":
                value = DISPUTES.get(str(text))
                if value is None:
                    row.errors.append(f"“{label}”应为“收费”或“其他”，不是“{text}”")
                    continue
            elif key == "operator":
                value = match_operator(str(text), operators)
                if value is None:
                    row.errors.append(
                        f"“{label}”（{text}）未在本中心登记或对应多家企业："
                        "请填写企业代码或全称（kesu appeals operator add 添加企业）"
                    )
                    continue
                if str(text).strip().lower() != value:
                    values["operator_name"] = str(text).strip()[:100]
            elif key == "category":
                value = _category(str(text))
                if value is None:
                    row.errors.append(f"未知的“{label}”（{text}）")
                    continue
            else:
                value = str(text)
        except (ValueError, OverflowError):
            row.errors.append(f"“{label}”（{text}）不是日期，应为 YYYY-MM-DD")
            continue
        _set(values, key, value)
    row.values = values  # what was read (the report names the row by its number)
    if not values.get("external_ref"):
        row.errors.append(f"缺少“{COLUMNS['external_ref'][0]}”")
    if row.errors:
        return row
    try:
        AppealIn.model_validate(values)
    except ValidationError as err:
        for e in err.errors():
            key = ".".join(str(p) for p in e["loc"])
            label = COLUMNS.get(key, (key,))[0]
            row.errors.append(f"“{label}”的值不对（{_why(e)}）")
    return row


def _why(e: Mapping[str, Any]) -> str:
    kind = str(e.get("type", ""))
    if kind == "string_too_long":
        return f"超过 {e.get('ctx', {}).get('max_length')} 个字"
    if kind == "string_pattern_mismatch":
        return "格式不对"
    return str(e.get("msg", kind))
