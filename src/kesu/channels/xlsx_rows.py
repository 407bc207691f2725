"""The rows of an xlsx workbook's first sheet, streamed (pure).

openpyxl's read-only mode reads a cell in ~50 µs of Python (its inline-string cells
even more), which made reading a 100,000-row file slower than registering it. This
reader parses the sheet's XML with the C parser as it is unzipped (iterparse, each row
dropped once read): shared strings, inline strings, numbers, booleans, ISO dates and
numbers whose style is a date format (Excel's serial dates, 1900 or 1904 system).
openpyxl still writes the workbook of bad rows (channels.file_import).
"""

from __future__ import annotations

import re
import zipfile
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from xml.etree.ElementTree import ParseError, iterparse
from xml.parsers.expat import ExpatError, ParserCreate

NS = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
REL_NS = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}"
PKG_NS = "{http://schemas.openxmlformats.org/package/2006/relationships}"
# Excel's built-in number formats that are dates or times (incl. the CJK locale ones).
DATE_FORMATS = frozenset([*range(14, 23), *range(27, 37), *range(45, 48), *range(50, 59)])
_CODE_NOISE = re.compile(r'"[^"]*"|\[[^\]]*\]|\\.')
MAX_SHARED = 2_000_000


class BookError(ValueError):
    """Not a readable workbook (the message names what is wrong)."""


def _is_date_code(code: str) -> bool:
    plain = _CODE_NOISE.sub("", code).lower()
    return any(ch in plain for ch in "ymdhs") and "general" not in plain


_COLUMNS: dict[str, int] = {}


def _col(ref: str) -> int:
    """The 0-based column of a cell reference ("C12" → 2), letters remembered."""
    letters = ref.rstrip("0123456789")
    found = _COLUMNS.get(letters)
    if found is None:
        n = 0
        for ch in letters:
            n = n * 26 + ord(ch) - 64
        found = _COLUMNS[letters] = n - 1
    return found


def _text(el) -> str:
    """The text of a string item: plain <t>, or the runs <r><t> of rich text."""
    return "".join(t.text or "" for t in el.iter(NS + "t"))


class Book:
    def __init__(self, path: Path) -> None:
        try:
            self.zip = zipfile.ZipFile(path)
            names = set(self.zip.namelist())
            self.sheet = self._first_sheet(names)
            self.shared = self._shared(names)
            self.dates, self.epoch = self._styles(names), self._epoch()
        except (zipfile.BadZipFile, KeyError, ParseError, OSError) as err:
            raise BookError(type(err).__name__) from None

    def close(self) -> None:
        self.zip.close()

    def _first_sheet(self, names: set[str]) -> str:
        with self.zip.open("xl/workbook.xml") as fh:
            sheets = [el for _, el in iterparse(fh) if el.tag == NS + "sheet"]
        if not sheets:
            raise BookError("工作簿中没有工作表")
        rid = sheets[0].get(REL_NS + "id")
        target = "worksheets/sheet1.xml"
        if "xl/_rels/workbook.xml.rels" in names:
            with self.zip.open("xl/_rels/workbook.xml.rels") as fh:
                for _, el in iterparse(fh):
                    if el.tag == PKG_NS + "Relationship" and el.get("Id") == rid:
                        target = el.get("Target") or target
        target = target.lstrip("/")
        return target if target.startswith("xl/") else "xl/" + target

    def _shared(self, names: set[str]) -> list[str]:
        name = "xl/sharedStrings.xml"
        if name not in names:
            return []
        out: list[str] = []
        with self.zip.open(name) as fh:
            for _, el in iterparse(fh):
                if el.tag == NS + "si":
                    out.append(_text(el))
                    el.clear()
                    if len(out) > MAX_SHARED:
                        raise BookError("共享字符串过多")
        return out

    def _styles(self, names: set[str]) -> frozenset[int]:
        """The cell styles (cellXfs indexes) whose number format is a date or time."""
        if "xl/styles.xml" not in names:
            return frozenset()
        custom: dict[int, str] = {}
        xfs: list[int] = []
        in_xfs = False
        with self.zip.open("xl/styles.xml") as fh:
            for event, el in iterparse(fh, events=("start", "end")):
                if el.tag == NS + "cellXfs":
                    in_xfs = event == "start"
                elif event == "end" and el.tag == NS + "numFmt":
                    custom[int(el.get("numFmtId", "0"))] = el.get("formatCode", "")
                elif event == "end" and el.tag == NS + "xf" and in_xfs:
                    xfs.append(int(el.get("numFmtId", "0")))
        dated = {i for i, f in custom.items() if _is_date_code(f)} | DATE_FORMATS
        return frozenset(i for i, f in enumerate(xfs) if f in dated)

    def _epoch(self) -> datetime:
        with self.zip.open("xl/workbook.xml") as fh:
            for _, el in iterparse(fh):
                if el.tag == NS + "workbookPr" and el.get("date1904") in ("1", "true"):
                    return datetime(1904, 1, 1)
        return datetime(1899, 12, 30)

    def _value(self, c) -> Any:
        kind = c.get("t", "n")
        if kind == "inlineStr":
            found = c.find(NS + "is")
            return _text(found) if found is not None else None
        v = c.find(NS + "v")
        raw = v.text if v is not None else None
        if raw is None:
            return None
        if kind == "s":
            return self.shared[int(raw)]
        if kind in ("str", "e"):
            return raw
        if kind == "b":
            return raw == "1"
        if kind == "d":
            return datetime.fromisoformat(raw.replace("Z", ""))
        number = float(raw)
        if int(c.get("s", "0")) in self.dates and 0 <= number < 2958466:
            moment = self.epoch + timedelta(days=number)
            moment = moment.replace(microsecond=0) + timedelta(
                seconds=round(moment.microsecond / 1e6)
            )
            return moment.time() if number < 1 else moment
        return int(number) if number.is_integer() and "." not in raw and "E" not in raw else number

    def rows(self) -> Iterator[tuple[int, list[Any]]]:
        """(row number as Excel shows it, the cells left to right; gaps are None)."""
        try:
            with self.zip.open(self.sheet) as fh:
                last = 0
                row_tag, cell_tag = NS + "row", NS + "c"
                for _, el in iterparse(fh):
                    if el.tag != row_tag:
                        continue
                    number = int(el.get("r") or last + 1)
                    last = number
                    values: list[Any] = []
                    for c in el:
                        if c.tag != cell_tag:
                            continue
                        ref = c.get("r")
                        if ref:
                            i = _col(ref)
                            if i > len(values):
                                values.extend([None] * (i - len(values)))
                        values.append(self._value(c))
                    el.clear()
                    yield number, values
        except (KeyError, ParseError, zipfile.BadZipFile, ValueError, IndexError) as err:
            raise BookError(type(err).__name__) from None


_ROW = re.compile(rb"<(?:[\w.-]+:)?row[\s/>]")


def scan(book: Book) -> int:
    """Read the whole sheet as `rows` would, without building it: the zip member (its
    checksum) and the XML (expat, in C) are checked, and its rows are counted. A broken
    sheet raises BookError here, before anything of it is used."""
    parser = ParserCreate()
    count, tail = 0, b""
    try:
        with book.zip.open(book.sheet) as fh:
            while chunk := fh.read(1 << 20):
                parser.Parse(chunk, False)
                data = tail + chunk
                cut = data.rfind(b"<")  # a tag cut by the chunk is counted with the next
                count += len(_ROW.findall(data, 0, max(cut, 0)))
                tail = data[cut:] if cut >= 0 else b""
        parser.Parse(b"", True)
    except (KeyError, ExpatError, zipfile.BadZipFile, ValueError) as err:
        raise BookError(type(err).__name__) from None
    return count + len(_ROW.findall(tail))


def open_book(path: Path) -> Book:
    return Book(path)
