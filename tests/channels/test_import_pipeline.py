"""A large file imported on two cores (channels.import_pipeline): the rows written are
those the one-process import writes; a file refused as a whole still writes nothing;
and every test of the file import passes with the second process on (re-run below)."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from kesu.accounts import crypto
from kesu.channels import file_import, import_pipeline
from kesu.complaints import vocabulary as vocab
from kesu.problems import Problem
from kesu.store import tables as t
from kesu.store.db import read
from tests.channels import test_import_file as one_process
from tests.channels.import_files import HEADERS, csv_bytes, many, xlsx
from tests.channels.test_import_file import counts


@pytest.fixture(autouse=True)
def two_processes(monkeypatch):
    """Every import of this module's tests (those re-run included) uses the pipeline."""
    monkeypatch.setattr(import_pipeline, "PIPELINE_BYTES", 0)


# The file import's own tests, each with the reader in a second process.
test_bad_rows_two_processes = one_process.test_bad_rows_are_reported_in_chinese_and_write_nothing
test_csv_two_processes = one_process.test_csv_in_gbk_and_utf8_with_bom
test_again_two_processes = one_process.test_importing_the_same_file_again_creates_nothing_new
test_at_once_two_processes = (
    one_process.test_two_imports_of_one_file_at_once_register_each_work_order_once
)
test_history_two_processes = one_process.test_historical_rows_keep_their_times_and_arrive_closed
test_workbook_two_processes = (
    one_process.test_the_bad_rows_workbook_is_kept_seven_days_and_its_download_audited
)


CATEGORY = next(iter(vocab.CATEGORIES.values()))["name"]
WITH_CATEGORY = [*HEADERS, "投诉分类"]


def _rows(prefix: str, phone: str) -> list[list]:
    out = many(30, prefix)
    for i, r in enumerate(out):
        r[2] = phone + r[2][3:]
        r.append(CATEGORY)  # a category: the repeat rule looks at it
        if i % 3 == 0:  # finished: registered closed, with its history
            r[6], r[7] = "已退费并答复客户。", f"2026-10-{1 + i % 28:02d} 20:00:00"
    out[5][2] = out[4][2]  # the same customer the next day: a repeat
    return out


def _stored(rt, prefix: str) -> dict[str, tuple]:
    """What was registered for each work order (without ids, numbers, ciphertext)."""
    C, D, E = t.complaints.c, t.deadlines.c, t.complaint_events.c
    skip = {"id", "number", "idempotency_key", "customer_phone", "customer_phone_hash"}
    keyring = crypto.keyring()
    out = {}
    with read(rt.engine) as conn:
        rows = conn.execute(
            select(t.complaints).where(C.idempotency_key.like(f"import:%:{prefix}%"))
        ).all()
        for r in rows:
            m = dict(r._mapping)
            m["customer_name"] = keyring.decrypt(m["customer_name"])
            deadlines = conn.execute(
                select(D.rule, D.started_at, D.due_at, D.met_at, D.met_by, D.basis, D.estimated)
                .where(D.complaint_id == r.id)
                .order_by(D.rule)
            ).all()
            events = []
            for e in conn.execute(
                select(E.type, E.at, E.actor, E.to_status, E.note, E.data)
                .where(E.complaint_id == r.id)
                .order_by(E.id)
            ):
                data = dict(e.data)
                if "intake" in data:
                    data["intake"] = {k: v for k, v in data["intake"].items() if k != "ref"}
                    data["intake"].pop("file")
                events.append((e.type, e.at, e.actor, e.to_status, e.note, data))
            key = m["idempotency_key"].rsplit(prefix, 1)[1]
            out[key] = (
                {k: v for k, v in m.items() if k not in skip},
                [tuple(d) for d in deadlines],
                events,
            )
    return out


@pytest.mark.parametrize("kind", ["xlsx", "csv"])
def test_the_rows_written_are_those_of_the_one_process_import(rt, tmp_path, kind):
    def write(name: str, rows: list[list]):
        if kind == "xlsx":
            return xlsx(tmp_path / f"{name}.xlsx", rows, WITH_CATEGORY)
        path = tmp_path / f"{name}.csv"
        path.write_bytes(csv_bytes(rows, "gbk", WITH_CATEGORY))
        return path

    a = file_import.run(rt, write("a", _rows("WA", "137")), "test", batch=7, pipeline=False)
    b = file_import.run(rt, write("b", _rows("WB", "136")), "test", batch=7, pipeline=True)
    assert (a.total, a.created, b.total, b.created) == (30, 30, 30, 30)
    first, second = _stored(rt, "WA"), _stored(rt, "WB")
    assert len(first) == 30
    assert first == second
    # Row 5's customer came the day before (its row is built again by the writer).
    assert [k for k, v in second.items() if "repeat" in v[0]["risk_flags"]] == ["000005"]
    assert second["000003"][0]["status"] == "closed"


def test_a_file_refused_at_its_end_writes_nothing(rt, tmp_path):
    # 300 good rows, then a field longer than CSV allows: the file is refused as a whole.
    rows = many(300)
    rows[-1][5] = "很长" * 70_000
    path = tmp_path / "a.csv"
    path.write_bytes(csv_bytes(rows, "utf-8"))
    with pytest.raises(Problem) as err:
        file_import.run(rt, path, "test", batch=10, pipeline=True)
    assert err.value.code == "unreadable_file" and "CSV 格式错误" in err.value.detail
    assert counts(rt) == (0, 0, 0)


def test_progress_goes_from_checking_to_writing(rt, tmp_path):
    said = []
    path = xlsx(tmp_path / "a.xlsx", many(25))
    out = file_import.run(
        rt, path, "test", batch=10, pipeline=True, progress=lambda *a: said.append(a)
    )
    assert out.created == 25
    assert said[0] == ("check", 0, None) and ("check", 25, 25) in said
    writes = [a for a in said if a[0] == "import"]
    assert writes == [("import", 0, 25), ("import", 10, 25), ("import", 20, 25), ("import", 25, 25)]


def test_the_scan_reads_a_workbook_through_and_refuses_a_broken_one(tmp_path):
    from kesu.channels.workorder_file import FileError, scan
    from tests.channels.test_import_xlsx_reader import excel_book

    assert scan(excel_book(tmp_path / "good.xlsx")) == 2  # the rows under the header
    assert scan(xlsx(tmp_path / "many.xlsx", many(1234))) == 1234
    with pytest.raises(FileError, match="Excel 文件内容有误"):
        scan(excel_book(tmp_path / "broken.xlsx", broken=True))


def test_a_broken_workbook_writes_nothing(rt, tmp_path):
    # A workbook whose sheet ends in the middle of its rows: refused before any batch.
    import zipfile

    good = xlsx(tmp_path / "good.xlsx", many(500))
    broken = tmp_path / "broken.xlsx"
    with zipfile.ZipFile(good) as src, zipfile.ZipFile(broken, "w") as dst:
        for item in src.infolist():
            data = src.read(item.filename)
            if item.filename == "xl/worksheets/sheet1.xml":
                data = data[: len(data) * 9 // 10]
            dst.writestr(item, data)
    with pytest.raises(Problem) as err:
        file_import.run(rt, broken, "test", batch=10, pipeline=True)
    assert err.value.code == "unreadable_file"
    assert counts(rt) == (0, 0, 0)
