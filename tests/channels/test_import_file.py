"""Files of hotline work orders in: every row checked first, bad rows reported in Chinese
and written nowhere, good rows registered in batches, idempotent by source and
work-order number, historical rows closed with their own times."""

from __future__ import annotations

import threading
import time
from datetime import date

import pytest
from sqlalchemy import func, select

from kesu.channels import file_import
from kesu.complaints import queries
from kesu.deadlines import watcher
from kesu.problems import Problem
from kesu.reports import kpi_report
from kesu.store import tables as t
from kesu.store.db import read
from tests.channels.import_files import HEADERS, csv_bytes, many, row, xlsx

C = t.complaints.c


def counts(rt) -> tuple[int, int, int]:
    with read(rt.engine) as conn:
        return tuple(  # type: ignore[return-value]
            conn.execute(select(func.count()).select_from(tb)).scalar_one()
            for tb in (t.complaints, t.complaint_events, t.deadlines)
        )


def by_key(rt, key: str):
    with read(rt.engine) as conn:
        return conn.execute(select(t.complaints).where(C.idempotency_key == key)).first()


def test_bad_rows_are_reported_in_chinese_and_write_nothing(rt, tmp_path):
    path = xlsx(
        tmp_path / "工单.xlsx",
        [
            row("A1"),
            row("A2", 来电号码=None),
            row("A3", 受理时间="2026-13-45 25:00"),
            row("A4", 投诉内容="   "),
            row("A5", 来电号码="12"),
            row("A6", 归属地="火星"),
            row("A1", 客户姓名="重复"),
            row("A7", 处理结果="已处理"),
            row("A8", 受理时间="2026-11-20 09:00", 办结时间="2026-11-19 10:00", 处理结果="已退费"),
        ],
    )
    out = file_import.run(rt, path, "test")
    assert (out.total, out.good, out.created, len(out.bad)) == (9, 1, 1, 8)
    said = {(e.row, e.column): e.detail for e in out.errors()}
    assert said[(3, "来电号码")] == "来电号码为空。"
    assert (
        said[(4, "受理时间")]
        == "时间“2026-13-45 25:00”不是有效的日期时间（月、日或时、分超出范围）。"
    )
    assert said[(5, "投诉内容")] == "投诉内容为空。"
    assert "电话号码“12”格式不对" in said[(6, "来电号码")]
    assert "无法从归属地“火星”识别省份" in said[(7, "归属地")]
    assert said[(8, "工单号")] == "工单号“A1”与第 2 行重复。"
    assert "有处理结果但没有办结时间" in said[(9, "办结时间")]
    assert said[(10, "办结时间")] == "办结时间早于受理时间。"
    assert "第 3 行，列“来电号码”：来电号码为空。" in [e.text() for e in out.errors()]
    assert by_key(rt, "import:hotline:A1") is not None
    for bad in ("A2", "A3", "A4", "A5", "A6", "A7", "A8"):
        assert by_key(rt, f"import:hotline:{bad}") is None
    assert counts(rt)[0] == 1

    # The bad rows come back as a workbook with their row number and an error column.
    from openpyxl import load_workbook

    (tmp_path / "errors.xlsx").write_bytes(file_import.error_workbook(out))
    ws = load_workbook(tmp_path / "errors.xlsx").worksheets[0]
    rows = list(ws.iter_rows(values_only=True))
    assert rows[0] == ("原行号", *HEADERS, "错误说明")
    assert [r[0] for r in rows[1:]] == [3, 4, 5, 6, 7, 8, 9, 10]
    assert rows[1][-1] == "来电号码：来电号码为空。"


def test_an_unknown_mapping_or_a_missing_column_refuses_the_file(rt, tmp_path):
    path = xlsx(tmp_path / "a.xlsx", [row("B1")])
    with pytest.raises(Problem) as err:
        file_import.run(rt, path, "test", mapping_name="nope")
    assert err.value.code == "unknown_mapping" and "未知的列映射“nope”" in err.value.detail
    lacking = xlsx(tmp_path / "b.xlsx", [row("B1")[1:]], headers=HEADERS[1:])
    with pytest.raises(Problem) as err:
        file_import.run(rt, lacking, "test")
    assert (
        err.value.code == "missing_columns"
        and "工单号（可用列名：工单号、工单编号" in err.value.detail
    )
    junk = tmp_path / "c.xlsx"
    junk.write_bytes(b"not a workbook")
    with pytest.raises(Problem) as err:
        file_import.run(rt, junk, "test")
    assert err.value.code == "unreadable_file" and "不是 Excel 工作簿" in err.value.detail
    assert counts(rt) == (0, 0, 0)


@pytest.mark.parametrize("encoding", ["gbk", "utf-8-sig", "gb18030", "utf-8"])
def test_csv_in_gbk_and_utf8_with_bom(rt, tmp_path, encoding):
    rows = [row("C1", 客户姓名="欧阳娜娜", 投诉内容="营业员办理宽带时未告知违约金，要求免除。")]
    path = tmp_path / "hotline.csv"
    path.write_bytes(csv_bytes(rows, encoding))
    out = file_import.run(rt, path, "test")
    assert out.created == 1 and not out.bad
    assert out.encoding == {"gbk": "gb18030", "gb18030": "gb18030"}.get(encoding, encoding)
    number = by_key(rt, "import:hotline:C1").number
    c = queries.get(rt, number)
    assert c["description"] == "营业员办理宽带时未告知违约金，要求免除。"
    assert c["customer"]["province"] == "广东省" and c["customer"]["city"] == "广州市"


def test_importing_the_same_file_again_creates_nothing_new(rt, tmp_path):
    path = xlsx(tmp_path / "a.xlsx", many(30))
    first = file_import.run(rt, path, "test", batch=7)
    assert (first.created, first.skipped) == (30, 0)
    before = counts(rt)
    again = file_import.run(rt, path, "test", batch=7)
    assert (again.created, again.skipped) == (0, 30)
    assert counts(rt) == before
    # A file with the old rows and new ones: only the new ones are registered.
    more = xlsx(tmp_path / "b.xlsx", many(40))
    third = file_import.run(rt, more, "test")
    assert (third.created, third.skipped) == (10, 30)
    with read(rt.engine) as conn:
        keys = conn.execute(select(C.idempotency_key)).scalars().all()
    assert len(keys) == len(set(keys)) == 40


def test_two_imports_of_one_file_at_once_register_each_work_order_once(rt, tmp_path):
    path = xlsx(tmp_path / "a.xlsx", many(600))
    results, failures = [], []

    def go():
        try:
            results.append(file_import.run(rt, path, "test", batch=100))
        except Exception as err:  # pragma: no cover - shown by the assertion
            failures.append(err)

    threads = [threading.Thread(target=go) for _ in range(2)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert not failures
    assert sum(r.created for r in results) == 600
    assert sum(r.skipped for r in results) == 600
    assert counts(rt)[0] == 600


def test_a_dry_run_checks_and_reports_but_writes_nothing(rt, tmp_path):
    path = xlsx(tmp_path / "a.xlsx", [*many(5), row("D9", 来电号码=None)])
    out = file_import.run(rt, path, "test", dry_run=True)
    assert (out.total, out.good, out.created, out.skipped, len(out.bad)) == (6, 5, 0, 0, 1)
    assert counts(rt) == (0, 0, 0)
    file_import.run(rt, xlsx(tmp_path / "b.xlsx", many(2)), "test")
    out = file_import.run(rt, path, "test", dry_run=True)
    assert (out.good, out.skipped) == (5, 2)  # two of them would be skipped
    assert counts(rt)[0] == 2


def test_historical_rows_keep_their_times_and_arrive_closed(rt, tmp_path):
    path = xlsx(
        tmp_path / "history.xlsx",
        [
            row(
                "H1",
                受理时间="2026-10-08 09:00:00",
                处理结果="核实多收流量费30元，已退还。",
                办结时间="2026-10-09 17:30:00",
            )
            + ["系统故障"],
            # Answered after the 15 days (and the Henan 5 working days) had passed.
            row(
                "H2",
                归属地="河南省郑州市",
                受理时间="2026-10-08 09:00:00",
                处理结果="已修复",
                办结时间=date(2026, 10, 30),
            )
            + ["说不清"],  # not a cause kesu knows: kept, recorded as 未记录
            row("H3", 受理时间="2026-10-08 09:00:00", 来电号码="13900009999") + [""],  # open
        ],
        [*HEADERS, "原因分类"],
    )
    out = file_import.run(rt, path, "test")
    assert out.created == 3
    h1 = by_key(rt, "import:hotline:H1")
    assert (h1.status, h1.is_open, h1.resolution) == (
        "closed",
        False,
        "核实多收流量费30元，已退还。",
    )
    assert h1.received_at.isoformat() == "2026-10-08T01:00:00+00:00"
    assert h1.closed_at.isoformat() == "2026-10-09T09:30:00+00:00"
    assert h1.next_due_at is None
    # Closed with a cause: the file's (a Chinese name), else 未记录; no row refused for it.
    assert h1.root_cause == "system_fault"
    assert by_key(rt, "import:hotline:H2").root_cause == "unknown"
    assert by_key(rt, "import:hotline:H3").root_cause is None  # open: decided when closed
    view = queries.get(rt, h1.number)
    assert view["status"] == "closed" and view["channel"] == "hotline"
    with read(rt.engine) as conn:
        d = t.deadlines.c
        met = conn.execute(
            select(d.rule, d.met_at, d.met_by, d.due_at).where(d.complaint_id == h1.id)
        ).all()
        events = conn.execute(
            select(t.complaint_events.c.type, t.complaint_events.c.data).where(
                t.complaint_events.c.complaint_id == h1.id
            )
        ).all()
    assert {m.rule: m.met_by for m in met} == {"ack_24h": "accept", "reply_15d": "reply"}
    assert all(m.met_at is not None for m in met)
    assert [e.type for e in events] == ["registered", "closed"]
    assert events[1].data["root_cause"] == "system_fault"
    assert events[0].data["intake"] == {
        "source": "import",
        "ref": "hotline:H1",
        "file": "history.xlsx",
        "row": 2,
        "mapping": "hotline",
    }

    # The watcher raises nothing for the past of a closed complaint; the open one breached.
    watcher.watch_once(rt)
    with read(rt.engine) as conn:
        d = t.deadlines.c
        breached = conn.execute(
            select(C.idempotency_key, func.count())
            .select_from(t.deadlines.join(t.complaints, C.id == d.complaint_id))
            .where(d.breached)
            .group_by(C.idempotency_key)
        ).all()
    assert {k for k, _n in breached} == {"import:hotline:H3"}

    # KPIs have history: October's handling time and on-time answers count them.
    report = kpi_report.kpis(rt, "system", date(2026, 10, 1), date(2026, 10, 31))
    values = {k["id"]: k["value"] for k in report["kpis"]}
    assert values["handling_hours_avg"] is not None and values["handling_hours_avg"] > 0
    # Reply limits due in October: H1's 15 days (met on time), H2's 15 days and Henan's
    # 5 working days (both met late), H3's 15 days (overdue): 1 of 4 on time.
    assert values["reply_on_time_rate"] == pytest.approx(1 / 4, abs=1e-6)


def test_ten_thousand_rows(rt, tmp_path):
    path = xlsx(tmp_path / "big.xlsx", many(10_000))
    t0 = time.perf_counter()
    out = file_import.run(rt, path, "test")
    took = time.perf_counter() - t0
    assert (out.total, out.created, len(out.bad)) == (10_000, 10_000, 0)
    assert counts(rt)[0] == 10_000
    assert took < 30, took
    with read(rt.engine) as conn:
        provinces = dict(
            conn.execute(
                select(C.customer_province, func.count()).group_by(C.customer_province)
            ).all()
        )
    assert provinces == {"河南省": 3334, "广东省": 3333, "重庆市": 3333}


def test_the_bad_rows_workbook_is_kept_seven_days_and_its_download_audited(rt, clock, tmp_path):
    from kesu.channels import import_jobs
    from kesu.problems import Problem as P

    path = xlsx(tmp_path / "a.xlsx", [row("K1"), row("K2", 来电号码=None)])
    job = import_jobs.create(rt, "test", "a.xlsx", file_import.sha256_of(path), "", False)
    import_jobs.execute(rt, job, path, "test", "a.xlsx")
    name, data = import_jobs.error_file(rt, "test", job)
    assert name == "a-错误行.xlsx" and data.startswith(b"PK")
    with read(rt.engine) as conn:
        audited = conn.execute(
            select(func.count()).where(t.audit_log.c.action == "import.error_file")
        ).scalar_one()
    assert audited == 1
    clock.advance(days=8)
    with pytest.raises(P) as err:
        import_jobs.error_file(rt, "test", job)
    assert err.value.status == 404 and "没有可下载的错误行文件" in err.value.detail
    assert import_jobs.get(rt, "test", job)["has_error_file"] is False
