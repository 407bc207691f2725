"""The administration's referral list (xlsx, made with openpyxl) imported: each good row
received like the API's referral, each bad row reported in Chinese with nothing of it
written; the same list again creates nothing; the CLI and the page do the same."""

from __future__ import annotations

import io
from datetime import date, datetime

from openpyxl import Workbook
from sqlalchemy import func, select
from typer.testing import CliRunner

from kesu.channels import referral_import
from kesu.store import tables as t

HEADER = [
    "转办编号",
    "申诉受理日期",
    "申诉人",
    "联系电话",
    "被申诉企业",
    "申诉内容",
    "要求回复日期",
    "备注",
]


def xlsx(rows) -> bytes:
    book = Workbook()
    sheet = book.active
    sheet.append(HEADER)
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


ROWS = [
    # A date cell, a phone typed as a number, a Chinese-written date.
    [
        "ZB-2026-001",
        datetime(2026, 11, 24),
        "王五",
        13700001111,
        "某电信公司",
        "申诉人反映宽带提速包未经同意被开通，每月多收20元。",
        date(2026, 12, 4),
        "加急",
    ],
    [
        "ZB-2026-002",
        "2026/11/25",
        "赵六",
        "13700002222",
        "某电信公司",
        "申诉人反映国际漫游费计费错误，多扣费300元，要求退还。",
        "2026年12月5日",
        None,
    ],
    # Bad: the answer due before the appeal was received.
    [
        "ZB-2026-003",
        "2026-11-26",
        "钱七",
        "13700003333",
        "某电信公司",
        "申诉人反映营业厅办理携号转网被拒。",
        "2026-11-20",
        None,
    ],
    # Bad: no phone, and a date that does not exist.
    [
        "ZB-2026-004",
        "2026-02-30",
        "孙八",
        None,
        "某电信公司",
        "申诉人反映话费清单与实际不符。",
        "2026-12-06",
        None,
    ],
    [None, None, None, None, None, None, None, None],  # an empty line is not a row
]


def _count(rt, table) -> int:
    with rt.engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(table)).scalar_one()


def _refs(rt) -> list[str]:
    with rt.engine.connect() as conn:
        return sorted(conn.execute(select(t.referrals.c.ref)).scalars())


def test_good_rows_are_imported_bad_rows_reported_in_chinese_and_not_written(rt):
    report = referral_import.import_list(rt, xlsx(ROWS), "import-test")
    assert report["rows"] == 4
    assert [e["ref"] for e in report["created"]] == ["ZB-2026-001", "ZB-2026-002"]
    assert report["ignored_columns"] == ["备注"]
    bad = {(e["row"], e["code"]) for e in report["errors"]}
    assert bad == {
        (4, "reply_due_before_receipt"),
        (5, "invalid_date"),
        (5, "missing_field"),
    }
    for e in report["errors"]:
        assert any("\u4e00" <= ch <= "\u9fff" for ch in e["detail"]), e
    assert _refs(rt) == ["ZB-2026-001", "ZB-2026-002"]
    assert _count(rt, t.complaints) == 2
    assert (
        referral_import.summary(report) == "共 4 行：新登记 2 件，已登记过 0 件，2 行有误未导入。"
    )

    again = referral_import.import_list(rt, xlsx(ROWS), "import-test")
    assert again["created"] == [] and [e["ref"] for e in again["existing"]] == [
        "ZB-2026-001",
        "ZB-2026-002",
    ]
    assert _count(rt, t.complaints) == 2


def test_a_list_without_its_required_columns_is_refused_whole(rt):
    book = Workbook()
    book.active.append(["编号", "内容"])
    book.active.append(["X1", "某事"])
    out = io.BytesIO()
    book.save(out)
    try:
        referral_import.import_list(rt, out.getvalue(), "import-test")
    except Exception as e:  # Problem
        assert getattr(e, "code", None) == "invalid_referral_list"
        assert "缺少必需的列" in e.detail  # type: ignore[attr-defined]
    else:
        raise AssertionError("refused")
    assert _count(rt, t.referrals) == 0


def test_the_command_imports_and_says_what_it_did(rt, tmp_path, monkeypatch):
    from kesu.cli import app

    monkeypatch.setenv("KESU_DATABASE_URL", rt.settings.database_url)
    path = tmp_path / "转办清单.xlsx"
    path.write_bytes(xlsx(ROWS))
    dry = CliRunner().invoke(app, ["referrals", "import", str(path), "--dry-run"])
    assert dry.exit_code == 1, dry.output
    assert "2 行可导入" in dry.output and _count(rt, t.referrals) == 0
    run = CliRunner().invoke(app, ["referrals", "import", str(path)])
    assert run.exit_code == 1, run.output  # bad rows: not a success
    assert "第 4 行 ZB-2026-003" in run.output and "早于申诉受理日期" in run.output
    assert "新登记 2 件" in run.output
    assert _refs(rt) == ["ZB-2026-001", "ZB-2026-002"]
