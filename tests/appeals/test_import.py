"""`kesu appeals import FILE` (the ministry platform's file) and `kesu appeals operator add`,
as the centre's administrator runs them."""

from __future__ import annotations

from datetime import date

import pytest
from openpyxl import Workbook
from typer.testing import CliRunner

from kesu.appeals import service
from kesu.cli import app
from kesu.runtime import Runtime
from kesu.settings import Settings

runner = CliRunner()
HEADERS = ["申诉编号", "申诉人", "联系电话", "地址", "邮编", "被申诉企业", "申诉要求", "申诉理由",
           "事实根据", "争议类型", "争议发生日期", "投诉企业日期", "企业答复日期", "申诉日期",
           "收到日期", "备注"]  # fmt: skip


def line(ref, operator="中国移动通信集团北京有限公司", **over):
    row = {
        "申诉编号": ref,
        "申诉人": "王建华",
        "联系电话": "13911280001",
        "地址": "北京市朝阳区望京西园三区312号楼",
        "邮编": "100102",
        "被申诉企业": operator,
        "申诉要求": "退还多扣的国际漫游流量费386元",
        "申诉理由": "已办理漫游流量包仍按标准资费计费",
        "事实根据": "出境前一天在营业厅办理了流量包，有受理单为证。",
        "争议类型": "收费",
        "争议发生日期": "2026-10-02",
        "投诉企业日期": "2026/10/15",
        "企业答复日期": date(2026, 10, 20),
        "申诉日期": "2026年11月2日",
        "收到日期": "2026-11-03 09:30",
        "备注": "",
    }
    row.update(over)
    return [row[h] for h in HEADERS]


def xlsx(path, rows, headers=HEADERS):
    wb = Workbook()
    wb.active.append(headers)
    for r in rows:
        wb.active.append(r)
    wb.save(path)
    return path


@pytest.fixture
def centre(database_url, monkeypatch):
    monkeypatch.setenv("KESU_DATABASE_URL", database_url)
    for args in (
        ["mobile", "中国移动通信集团北京有限公司", "--address", "北京市西城区金融大街29号",
         "--users", "25800000"],
        ["telecom", "中国电信股份有限公司北京分公司", "--address", "北京市西城区金融大街31号"],
    ):  # fmt: skip
        r = runner.invoke(app, ["appeals", "operator", "add", *args])
        assert r.exit_code == 0, r.output
        assert "已保存被申诉企业" in r.output
    rt = Runtime.start(Settings(database_url=database_url, embedded_worker=False))
    yield rt
    rt.close()


def _appeals(rt):
    return service.listing(rt, "test", "all", limit=100)["items"]


def test_a_good_file_registers_each_appeal_once(centre, tmp_path):
    path = xlsx(
        tmp_path / "部平台申诉.xlsx",
        [
            line("BJ202611030001"),
            line("BJ202611030002", "telecom"),
            line("BJ202611030003", "中国电信"),
        ],
    )
    r = runner.invoke(app, ["appeals", "import", str(path), "--dry-run"])
    assert r.exit_code == 0, r.output
    assert "合格 3 行" in r.output and "将新登记 3 件" in r.output and _appeals(centre) == []

    r = runner.invoke(app, ["appeals", "import", str(path)])
    assert r.exit_code == 0, r.output
    assert "新登记 3 件" in r.output and "未识别的列（已忽略）：备注" in r.output
    items = _appeals(centre)
    assert {i["channel"] for i in items} == {"import"}
    assert sorted(i["operator"] for i in items) == ["mobile", "telecom", "telecom"]
    view = service.view(centre, items[0]["number"], "test")
    assert view["status"] == "reviewing"  # every item of 第十二条 was in the file
    assert view["received_at"].startswith("2026-11-03T09:30")

    r = runner.invoke(app, ["appeals", "import", str(path)])
    assert r.exit_code == 0 and "新登记 0 件，此前已导入而跳过 3 件" in r.output
    assert len(_appeals(centre)) == 3


def test_one_bad_row_and_nothing_is_written(centre, tmp_path):
    path = xlsx(
        tmp_path / "bad.xlsx",
        [
            line("BJ1"),
            line("BJ2", "某不存在的运营商"),
            line("BJ3", 争议类型="投诉"),
            line("BJ1"),
            line(None),
            line("BJ5", 争议发生日期="2026-13-40"),
            line("BJ6", 收到日期="2099-01-01"),
        ],
    )
    r = runner.invoke(app, ["appeals", "import", str(path)])
    assert r.exit_code == 3, r.output
    out = r.output
    assert "共 7 行，合格 1 行，有问题 6 行" in out
    assert "第3行（BJ2）：“被申诉企业”（某不存在的运营商）未在本中心登记" in out
    assert "第4行（BJ3）：“争议类型”应为“收费”或“其他”" in out
    assert "第5行（BJ1）：申诉编号“BJ1”与第2行重复" in out
    assert "第6行：缺少“申诉编号”" in out
    assert "第7行（BJ5）：“争议发生日期”（2026-13-40）不是日期" in out
    assert "第8行（BJ6）：“收到日期”（2099-01-01）晚于今天" in out
    assert "未写入任何数据" in out and _appeals(centre) == []


def test_a_gbk_csv_and_a_file_without_the_number_column(centre, tmp_path):
    csv = tmp_path / "申诉.csv"
    text = ",".join(HEADERS) + "\n" + ",".join(str(v) for v in line("BJ9", "mobile")) + "\n"
    csv.write_bytes(text.encode("gb18030"))
    r = runner.invoke(app, ["appeals", "import", str(csv)])
    assert r.exit_code == 0, r.output
    assert "csv，编码 gb18030" in r.output and "新登记 1 件" in r.output
    assert _appeals(centre)[0]["appellant"]["name"].startswith("王")

    path = xlsx(tmp_path / "no-number.xlsx", [line("X")[1:]], HEADERS[1:])
    r = runner.invoke(app, ["appeals", "import", str(path)])
    assert r.exit_code == 1 and "缺少必需的列：申诉编号" in r.output


def test_an_operator_code_must_be_well_formed(centre):
    r = runner.invoke(app, ["appeals", "operator", "add", "Mobile!", "某公司"])
    assert r.exit_code == 1 and "企业代码“Mobile!”不对" in r.output
