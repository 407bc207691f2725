"""Reading a file of work orders (pure): csv or xlsx → a header row and the data rows.

csv: UTF-8 with or without BOM, or GBK / GB18030 (what Chinese Excel saves as "CSV");
the encoding is found by trying UTF-8 strictly, then GB18030 (a superset of GBK). The
delimiter is sniffed among comma, tab and semicolon. xlsx: the first sheet, streamed
row by row (channels.xlsx_rows: the sheet's XML parsed as it is read, never the whole
workbook in memory). The header
row is the first non-empty row; empty rows are skipped; each row keeps the number the
user sees in Excel (the header row is 1 when it is the first).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, time
from pathlib import Path
from typing import Any

XLSX_MAGIC = b"PK\x03\x04"
XLS_MAGIC = b"\xd0\xcf\x11\xe0"
MAX_COLUMNS = 200


class FileError(ValueError):
    """The file as a whole cannot be read; the message is Chinese."""


Cell = str | datetime | date | time | None


@dataclass
class Sheet:
    kind: str  # csv | xlsx
    encoding: str | None
    headers: list[str]
    header_row: int
    rows: Iterator[tuple[int, list[Cell]]]
    closer: Any = None
    book: Any = None  # xlsx: the channels.xlsx_rows.Book

    def close(self) -> None:
        if self.closer is not None:
            self.closer()


def cell(value: Any) -> Cell:
    """A cell as the checks take it: text (numbers as their digits), or a date/time."""
    if type(value) is str:
        return value.strip() or None
    if value is None or isinstance(value, (datetime, date, time)):
        return value
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    text = str(value).strip()
    return text or None


def open_sheet(path: Path, name: str | None = None) -> Sheet:
    """The file at `path` (its own name, or `name`, says csv or xlsx; the bytes decide)."""
    label = (name or path.name).lower()
    with path.open("rb") as fh:
        head = fh.read(8)
    if head.startswith(XLS_MAGIC) or label.endswith(".xls"):
        raise FileError("不支持旧版 Excel（.xls）文件，请在 Excel 中另存为 .xlsx 或 CSV 后再导入。")
    if head.startswith(XLSX_MAGIC):
        return _xlsx(path)
    if label.endswith(".xlsx"):
        raise FileError("文件扩展名是 .xlsx，但内容不是 Excel 工作簿（可能已损坏）。")
    return _csv(path.read_bytes())


def scan(path: Path, name: str | None = None) -> int:
    """Read the whole file as `open_sheet(...).rows` would, faster: a file that cannot be
    read raises FileError here. The data rows (xlsx: the rows with a cell)."""
    sheet = open_sheet(path, name)
    try:
        if sheet.kind == "xlsx":
            from kesu.channels import xlsx_rows

            try:
                return xlsx_rows.scan(sheet.book) - 1  # the header row has cells
            except xlsx_rows.BookError as err:
                raise FileError(
                    f"Excel 文件内容有误（{err}），请用 Excel 打开后重新保存。"
                ) from None
        return sum(1 for _ in sheet.rows)
    finally:
        sheet.close()


def _first_row(rows: Iterator[tuple[int, list[Cell]]]) -> tuple[int, list[Cell]]:
    for number, values in rows:
        if any(v is not None for v in values):
            return number, values
    raise FileError("文件是空的：没有找到表头行。")


def _headers(values: list[Cell]) -> list[str]:
    if len(values) > MAX_COLUMNS:
        raise FileError(f"表头有 {len(values)} 列，超过上限 {MAX_COLUMNS} 列。")
    return ["" if v is None else str(v) for v in values]


def _data(rows: Iterator[tuple[int, list[Cell]]]) -> Iterator[tuple[int, list[Cell]]]:
    for number, values in rows:
        if any(v is not None for v in values):
            yield number, values


def _xlsx(path: Path) -> Sheet:
    from kesu.channels import xlsx_rows

    try:
        book = xlsx_rows.open_book(path)
    except xlsx_rows.BookError as err:
        raise FileError(f"无法读取 Excel 文件（{err}），请确认是 .xlsx 工作簿。") from None

    def numbered() -> Iterator[tuple[int, list[Cell]]]:
        try:
            for i, row in book.rows():
                yield i, [cell(v) for v in row]
        except xlsx_rows.BookError as err:
            raise FileError(f"Excel 文件内容有误（{err}），请用 Excel 打开后重新保存。") from None

    rows = numbered()
    try:
        header_row, header = _first_row(rows)
    except FileError:
        book.close()
        raise
    return Sheet("xlsx", None, _headers(header), header_row, _data(rows), book.close, book)


def decode(raw: bytes) -> tuple[str, str]:
    """The text of a csv file and the encoding it was in."""
    if raw.startswith(b"\xef\xbb\xbf"):
        return raw[3:].decode("utf-8", errors="strict"), "utf-8-sig"
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        return raw.decode("utf-16"), "utf-16"
    try:
        return raw.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    try:
        return raw.decode("gb18030"), "gb18030"
    except UnicodeDecodeError:
        raise FileError("无法识别 CSV 文件的编码：请保存为 UTF-8 或 GBK 编码。") from None


def _csv(raw: bytes) -> Sheet:
    text, encoding = decode(raw)
    if "\x00" in text:
        raise FileError("CSV 文件中含有空字符（NUL），可能不是文本文件。")
    sample = text[:20000]
    try:
        dialect: Any = csv.Sniffer().sniff(sample, delimiters=",\t;")
    except csv.Error:
        dialect = csv.excel
    reader = csv.reader(io.StringIO(text, newline=""), dialect)

    def numbered() -> Iterator[tuple[int, list[Cell]]]:
        try:
            for i, row in enumerate(reader, start=1):
                yield i, [cell(v) for v in row]
        except csv.Error as err:
            raise FileError(f"CSV 格式错误（第 {reader.line_num} 行附近）：{err}") from None

    rows = numbered()
    header_row, header = _first_row(rows)
    return Sheet("csv", encoding, _headers(header), header_row, _data(rows))
