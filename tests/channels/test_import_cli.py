"""`kesu import FILE [--mapping NAME] [--dry-run]` as an operator runs it: Chinese output,
a line per batch in a log, exit status, the bad rows' workbook."""

from __future__ import annotations

import pytest
from openpyxl import load_workbook
from typer.testing import CliRunner

from kesu.cli import app
from tests.channels.import_files import csv_bytes, many, row, xlsx

runner = CliRunner()


@pytest.fixture
def env(database_url, monkeypatch):
    monkeypatch.setenv("KESU_DATABASE_URL", database_url)
    monkeypatch.setenv("KESU_PROGRESS_SECONDS", "60")
    return database_url


def test_import_reports_in_chinese_and_is_idempotent(env, tmp_path):
    path = xlsx(tmp_path / "工单.xlsx", [*many(5), row("E1", 来电号码="12")])
    r = runner.invoke(app, ["import", str(path), "--dry-run"])
    assert r.exit_code == 3, r.output
    assert "检查：共 6 行，合格 5 行，有问题 1 行。" in r.output
    assert "第 7 行，列“来电号码”：电话号码“12”格式不对，应为5到20位数字。" in r.output
    assert "试运行（--dry-run）：未写入任何数据。合格行中 0 行此前已导入" in r.output
    assert "将新建 5 件" in r.output
    from sqlalchemy import create_engine, func, select

    from kesu.store import tables as t

    engine = create_engine(env)
    with engine.connect() as conn:  # the dry run left no trace at all
        for table in (t.complaints, t.import_jobs, t.audit_log):
            assert conn.execute(select(func.count()).select_from(table)).scalar_one() == 0
    engine.dispose()

    errors = tmp_path / "errors.xlsx"
    r = runner.invoke(app, ["import", str(path), "--batch", "100", "--errors", str(errors)])
    assert r.exit_code == 3, r.output
    assert "导入完成：新建 5 件，此前已导入而跳过 0 件，有问题未导入 1 行。" in r.output
    assert "未识别的列（已忽略）：备注" in r.output
    assert "导入工单文件 Importing work orders：开始" in r.output
    assert "已写入 5/5 行" in r.output  # the batch's line (not a terminal)
    ws = load_workbook(errors).worksheets[0]
    assert list(ws.iter_rows(values_only=True))[1][-1].startswith("来电号码：电话号码“12”")

    good = tmp_path / "good.csv"
    good.write_bytes(csv_bytes(many(5), "gbk"))
    r = runner.invoke(app, ["import", str(good)])
    assert r.exit_code == 0, r.output
    assert "编码 gb18030" in r.output
    assert "导入完成：新建 0 件，此前已导入而跳过 5 件。" in r.output


def test_a_refused_file_or_mapping_exits_1_and_says_why(env, tmp_path):
    path = xlsx(tmp_path / "a.xlsx", many(2))
    r = runner.invoke(app, ["import", str(path), "--mapping", "nope"])
    assert r.exit_code == 1 and "未知的列映射“nope”，可选：hotline。" in r.output
    old = tmp_path / "old.xls"
    old.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 100)
    r = runner.invoke(app, ["import", str(old)])
    assert r.exit_code == 1 and "不支持旧版 Excel（.xls）文件" in r.output
