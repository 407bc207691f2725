"""A one-sheet xlsx written as its rows come, in constant memory (used by export.py).

openpyxl's write-only mode still keeps every distinct string in a shared-strings table,
which grows with the rows; this writer puts each string inline in its cell
(`t="inlineStr"`) and deflates the sheet straight into the zip as it is written. The zip
goes to a sink the caller empties after each batch (zipfile writes data descriptors when
it cannot seek), so the first bytes leave before the last row is read and no temporary
file is needed. Only what a list export needs: one sheet, a bold frozen header row,
column widths, text and integers.
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Iterable, Iterator, Sequence
from typing import Any
from xml.sax.saxutils import escape

_XML = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
_OOXML = "application/vnd.openxmlformats-officedocument.spreadsheetml."
_PKG = "http://schemas.openxmlformats.org/package/2006/"
_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_CONTENT_TYPES = (
    f'{_XML}<Types xmlns="{_PKG}content-types">'
    '<Default Extension="rels" '
    'ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/>'
    f'<Override PartName="/xl/workbook.xml" ContentType="{_OOXML}sheet.main+xml"/>'
    f'<Override PartName="/xl/worksheets/sheet1.xml" ContentType="{_OOXML}worksheet+xml"/>'
    f'<Override PartName="/xl/styles.xml" ContentType="{_OOXML}styles+xml"/>'
    "</Types>"
)
_RELS = (
    f'{_XML}<Relationships xmlns="{_PKG}relationships">'
    f'<Relationship Id="rId1" Type="{_REL}/officeDocument" Target="xl/workbook.xml"/>'
    "</Relationships>"
)
_WORKBOOK = (
    f'{_XML}<workbook xmlns="{_MAIN}" xmlns:r="{_REL}">'
    '<sheets><sheet name="{name}" sheetId="1" r:id="rId1"/></sheets></workbook>'
)
_WORKBOOK_RELS = (
    f'{_XML}<Relationships xmlns="{_PKG}relationships">'
    f'<Relationship Id="rId1" Type="{_REL}/worksheet" Target="worksheets/sheet1.xml"/>'
    f'<Relationship Id="rId2" Type="{_REL}/styles" Target="styles.xml"/>'
    "</Relationships>"
)
# Style 0: normal; style 1: bold (the header row).
_STYLES = (
    f'{_XML}<styleSheet xmlns="{_MAIN}">'
    '<fonts count="2"><font><sz val="11"/><name val="Calibri"/></font>'
    '<font><b/><sz val="11"/><name val="Calibri"/></font></fonts>'
    '<fills count="2"><fill><patternFill patternType="none"/></fill>'
    '<fill><patternFill patternType="gray125"/></fill></fills>'
    '<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>'
    '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>'
    '<cellXfs count="2"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>'
    '<xf numFmtId="0" fontId="1" fillId="0" borderId="0" xfId="0" applyFont="1"/></cellXfs>'
    '<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles>'
    "</styleSheet>"
)  # fmt: skip


class _Sink(io.RawIOBase):
    """Where the zip is written; emptied by the caller after each batch."""

    def __init__(self) -> None:
        self._parts: list[bytes] = []

    def writable(self) -> bool:
        return True

    def write(self, b) -> int:  # type: ignore[override]
        self._parts.append(bytes(b))
        return len(b)

    def take(self) -> bytes:
        out = b"".join(self._parts)
        self._parts.clear()
        return out


def _column(i: int) -> str:
    """0 → A, 25 → Z, 26 → AA."""
    name = ""
    i += 1
    while i:
        i, rest = divmod(i - 1, 26)
        name = chr(65 + rest) + name
    return name


def _text(value: str) -> str:
    # XML 1.0 allows no C0 control other than tab, LF and CR (TextGuard keeps them out of
    # what is stored; this keeps a file valid whatever comes).
    clean = "".join(ch for ch in value if ch >= " " or ch in "\t\n\r")
    return escape(clean)


def _row(r: int, values: Sequence[Any], style: int = 0) -> str:
    cells = []
    s = f' s="{style}"' if style else ""
    for i, value in enumerate(values):
        ref = f"{_column(i)}{r}"
        if value is None or value == "":
            continue
        if isinstance(value, bool) or not isinstance(value, int):
            text = _text(str(value))
            cells.append(
                f'<c r="{ref}" t="inlineStr"{s}><is><t xml:space="preserve">{text}</t></is></c>'
            )
        else:
            cells.append(f'<c r="{ref}"{s}><v>{value}</v></c>')
    return f'<row r="{r}">{"".join(cells)}</row>'


def workbook(
    sheet: str,
    headers: Sequence[str],
    widths: Sequence[int],
    batches: Iterable[Iterable[Sequence[Any]]],
) -> Iterator[bytes]:
    """The xlsx file's bytes: one chunk after the header and one after each batch."""
    sink = _Sink()
    with zipfile.ZipFile(sink, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("[Content_Types].xml", _CONTENT_TYPES)
        zf.writestr("_rels/.rels", _RELS)
        zf.writestr("xl/workbook.xml", _WORKBOOK.format(name=_text(sheet)))
        zf.writestr("xl/_rels/workbook.xml.rels", _WORKBOOK_RELS)
        zf.writestr("xl/styles.xml", _STYLES)
        with zf.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as ws:
            cols = "".join(
                f'<col min="{i}" max="{i}" width="{w}" customWidth="1"/>'
                for i, w in enumerate(widths, start=1)
            )
            ws.write(
                (
                    f'{_XML}<worksheet xmlns="{_MAIN}">'
                    '<sheetViews><sheetView workbookViewId="0">'
                    '<pane ySplit="1" topLeftCell="A2" activePane="bottomLeft" state="frozen"/>'
                    "</sheetView></sheetViews>"
                    f"<cols>{cols}</cols><sheetData>" + _row(1, headers, style=1)
                ).encode()
            )
            yield sink.take()
            r = 1
            for batch in batches:
                parts = []
                for values in batch:
                    r += 1
                    parts.append(_row(r, values))
                ws.write("".join(parts).encode())
                yield sink.take()
            ws.write(b"</sheetData></worksheet>")
    yield sink.take()
