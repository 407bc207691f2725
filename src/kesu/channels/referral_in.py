"""What a regulator's referral (管局转办) is, as the API takes it and as the
administration's referral list (xlsx) gives it: the checks, and the list's rows read
into the API's shape. No database here.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from datetime import date, datetime
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    model_validator,
)
from pydantic_core import PydanticCustomError

from kesu.clock import OUT_OF_RANGE, in_supported_range
from kesu.complaints.schemas import MAX_DESCRIPTION, Category, CustomerIn
from kesu.problems import Problem, field_error

REF_PATTERN = r"^[0-9A-Za-z\u4e00-\u9fff][0-9A-Za-z\u4e00-\u9fff_./()（）〔〕\[\]-]{0,59}$"


def _day(value: Any) -> Any:
    """A date as the list writes it: a date cell, 2026-11-20, 2026/11/20, 2026年11月20日."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, str):
        text = value.strip()
        if re.match(r"\d{4}-\d{2}-\d{2}[T ]", text):  # a time written with the date
            text = text[:10]
        m = re.fullmatch(r"(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?", text)
        if m is None:
            raise PydanticCustomError(
                "invalid_date",
                "日期“{value}”格式不对，应为 2026-11-20（或 2026/11/20、2026年11月20日）。",
                {"value": value},
            )
        try:
            return date(int(m[1]), int(m[2]), int(m[3]))
        except ValueError:
            raise PydanticCustomError(
                "invalid_date", "日期“{value}”不存在。", {"value": value}
            ) from None
    return value


def _in_range(value: date) -> date:
    if not in_supported_range(value):
        raise PydanticCustomError("date_out_of_range", "日期超出范围：" + OUT_OF_RANGE)
    return value


Day = Annotated[date, BeforeValidator(_day), AfterValidator(_in_range)]


class ReferralIn(BaseModel):
    """A referral from the regulator (管局/工信部转办): the regulator's reference, the
    appellant, the issue, when the appeal was received and when the answer is due."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    ref: Annotated[
        str, Field(min_length=1, max_length=60, json_schema_extra={"pattern": REF_PATTERN})
    ]
    # The configured referral source (a regulator's office; `kesu referrals source`).
    source: Annotated[str, Field(max_length=40)] | None = None
    appeal_received_on: Day
    reply_due_on: Day
    appellant: CustomerIn
    operator: Annotated[str, Field(max_length=100)] | None = None
    issue: Annotated[
        str,
        Field(min_length=1, max_length=MAX_DESCRIPTION, json_schema_extra={"pattern": r"\S"}),
    ]
    demands: Annotated[str, Field(max_length=2000)] | None = None
    category: Category | None = None

    @model_validator(mode="after")
    def _checked(self) -> ReferralIn:
        if not re.fullmatch(REF_PATTERN, self.ref):
            raise PydanticCustomError(
                "invalid_ref",
                "转办编号“{value}”不对：只能由字母、数字、汉字和 - _ . / 括号组成，最长60个字符。",
                {"value": self.ref},
            )
        if self.reply_due_on < self.appeal_received_on:
            raise PydanticCustomError(
                "reply_due_before_receipt",
                "要求回复日期（{due}）早于申诉受理日期（{received}），请核对转办单。",
                {
                    "due": self.reply_due_on.isoformat(),
                    "received": self.appeal_received_on.isoformat(),
                },
            )
        return self


def problem_of(err: ValidationError) -> Problem:
    """The 422 naming every field that is wrong (the first one in `detail`)."""
    errors = [field_error(e) for e in err.errors()]  # type: ignore[arg-type]
    first = errors[0]
    return Problem(422, first["code"], "Invalid referral", first["detail"], errors=errors)


def validate(body: Any) -> ReferralIn:
    try:
        return ReferralIn.model_validate(body)
    except ValidationError as err:
        raise problem_of(err) from None


# ---- the administration's referral list (xlsx) ----------------------------------------

# Header (as the lists write it) → where it goes in the API's body.
HEADERS: dict[str, tuple[str, ...]] = {
    "转办编号": ("ref",),
    "转办单号": ("ref",),
    "申诉受理日期": ("appeal_received_on",),
    "受理日期": ("appeal_received_on",),
    "申诉人": ("appellant", "name"),
    "联系电话": ("appellant", "phone"),
    "申诉人电话": ("appellant", "phone"),
    "被申诉企业": ("operator",),
    "被申诉人": ("operator",),
    "申诉内容": ("issue",),
    "申诉要求": ("demands",),
    "要求回复日期": ("reply_due_on",),
    "回复期限": ("reply_due_on",),
}
REQUIRED = ("ref", "appeal_received_on", "appellant.phone", "issue", "reply_due_on")
REQUIRED_NAMES = {
    "ref": "转办编号",
    "appeal_received_on": "申诉受理日期",
    "appellant.phone": "联系电话",
    "issue": "申诉内容",
    "reply_due_on": "要求回复日期",
}
MAX_ROWS = 5000


class ListError(ValueError):
    """The file as a whole cannot be read (not an xlsx, a required column missing)."""


def _cell(value: Any) -> Any:
    if value is None:
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, int):
        return str(value)  # a phone number typed as a number
    if isinstance(value, str):
        value = value.strip()
        return value or None
    return value


def read_list(content: bytes) -> tuple[list[tuple[int, dict[str, Any]]], list[str]]:
    """The list's rows as API bodies, each with its row number; and the headers ignored."""
    from openpyxl import load_workbook  # only imports need it

    try:
        book = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    except Exception:
        raise ListError("文件无法读取：请上传 Excel 文件（.xlsx）。") from None
    try:
        sheet = book.worksheets[0]
        rows = sheet.iter_rows(values_only=True)
        header = next(rows, None)
        if header is None:
            raise ListError("文件是空的：第一行应为表头（转办编号、申诉受理日期……）。")
        columns = [HEADERS.get(str(h).strip()) if h is not None else None for h in header]
        ignored = [str(h).strip() for h, c in zip(header, columns, strict=True) if h and not c]
        have = {".".join(c) for c in columns if c}
        missing = [REQUIRED_NAMES[k] for k in REQUIRED if k not in have]
        if missing:
            raise ListError(f"缺少必需的列：{'、'.join(missing)}。")
        out = []
        for n, values in _numbered(rows):
            if len(out) >= MAX_ROWS:
                raise ListError(f"一次最多导入 {MAX_ROWS} 行，请分批导入。")
            out.append((n, _body(columns, values)))
        return out, ignored
    finally:
        book.close()


def _numbered(rows: Iterator[tuple[Any, ...]]) -> Iterator[tuple[int, tuple[Any, ...]]]:
    for n, values in enumerate(rows, start=2):
        if any(_cell(v) is not None for v in values):
            yield n, values


def _body(columns: list[tuple[str, ...] | None], values: tuple[Any, ...]) -> dict[str, Any]:
    body: dict[str, Any] = {"appellant": {}}
    for where, value in zip(columns, values, strict=False):
        value = _cell(value)
        if where is None or value is None:
            continue
        if isinstance(value, datetime | date):
            value = value.isoformat()[:10]
        if len(where) == 2:
            body[where[0]][where[1]] = str(value)
        else:
            body[where[0]] = value if where[0].endswith("_on") else str(value)
    return body
