"""The xlsx reader on a workbook as Excel writes it (shared strings, rich text, styles
with date formats, the 1904 date system, gaps between cells), not only as openpyxl does."""

from __future__ import annotations

import zipfile
from datetime import datetime
from pathlib import Path

import pytest

from kesu.channels.workorder_file import FileError, open_sheet

MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
PKG = "http://schemas.openxmlformats.org/package/2006/relationships"


def excel_book(path: Path, date1904: bool = False, broken: bool = False) -> Path:
    shared = ["工单号", "受理时间", "来电号码", "投诉内容", "WO-1", "宽带断网"]
    si = "".join(f"<si><t>{s}</t></si>" for s in shared)
    si += "<si><r><t>信号</t></r><r><rPr><b/></rPr><t>很差</t></r></si>"  # rich text: 6
    # Style 1: built-in 22 (m/d/yy h:mm); style 2: a custom 年月日 format; style 0: General.
    styles = (
        f'<styleSheet xmlns="{MAIN}"><numFmts count="1">'
        '<numFmt numFmtId="176" formatCode="yyyy&quot;年&quot;m&quot;月&quot;d&quot;日&quot;"/>'
        '</numFmts><cellXfs count="3"><xf numFmtId="0"/><xf numFmtId="22"/>'
        '<xf numFmtId="176"/></cellXfs></styleSheet>'
    )
    base = 46346.5 - (1462 if date1904 else 0)  # 2026-11-20 12:00
    sheet = (
        f'<worksheet xmlns="{MAIN}"><sheetData>'
        '<row r="1"><c r="A1" t="s"><v>0</v></c><c r="B1" t="s"><v>1</v></c>'
        '<c r="C1" t="s"><v>2</v></c><c r="D1" t="s"><v>3</v></c></row>'
        f'<row r="3"><c r="A3" t="s"><v>4</v></c><c r="B3" s="1"><v>{base}</v></c>'
        '<c r="C3"><v>13800001234</v></c><c r="D3" t="s"><v>5</v></c></row>'
        f'<row r="4"><c r="A4"><v>42</v></c><c r="B4" s="2"><v>{base - 1}</v></c>'
        '<c r="D4" t="s"><v>6</v></c></row>'
        "</sheetData></worksheet>"
    )
    if broken:
        sheet = sheet[: len(sheet) // 2]  # cut off in the middle of the rows
    pr = '<workbookPr date1904="1"/>' if date1904 else ""
    workbook = (
        f'<workbook xmlns="{MAIN}" xmlns:r="{REL}">{pr}<sheets>'
        '<sheet name="工单" sheetId="1" r:id="rId7"/></sheets></workbook>'
    )
    rels = (
        f'<Relationships xmlns="{PKG}"><Relationship Id="rId7" '
        'Type="x" Target="worksheets/data.xml"/></Relationships>'
    )
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("xl/workbook.xml", workbook)
        z.writestr("xl/_rels/workbook.xml.rels", rels)
        z.writestr("xl/worksheets/data.xml", sheet)
        z.writestr("xl/sharedStrings.xml", f'<sst xmlns="{MAIN}">{si}</sst>')
        z.writestr("xl/styles.xml", styles)
    return path


@pytest.mark.parametrize("date1904", [False, True])
def test_an_excel_workbook_reads_as_excel_shows_it(tmp_path, date1904):
    sheet = open_sheet(excel_book(tmp_path / "e.xlsx", date1904))
    assert sheet.headers == ["工单号", "受理时间", "来电号码", "投诉内容"]
    rows = list(sheet.rows)
    sheet.close()
    assert rows == [
        (3, ["WO-1", datetime(2026, 11, 20, 12, 0), "13800001234", "宽带断网"]),
        (4, ["42", datetime(2026, 11, 19, 12, 0), None, "信号很差"]),
    ]


def test_a_broken_workbook_is_refused_in_chinese(tmp_path):
    path = excel_book(tmp_path / "e.xlsx", broken=True)
    with pytest.raises(FileError, match="Excel 文件内容有误|无法读取 Excel 文件"):
        sheet = open_sheet(path)
        list(sheet.rows)
