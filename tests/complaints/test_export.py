"""GET /api/v1/complaints/export.csv | .xlsx: the list's filters, masked as lists are,
streamed batch by batch, audited; only for those who may read reports."""

from __future__ import annotations

import csv
import io
from datetime import datetime

from openpyxl import load_workbook
from sqlalchemy import select

from kesu.accounts.roles import for_role, system
from kesu.clock import BEIJING
from kesu.complaints import export, registration
from kesu.complaints.schemas import ComplaintIn
from kesu.store import tables as t
from tests.conftest import complaint_body

PHONE = "13800001234"


def _csv(r) -> list[list[str]]:
    assert r.content.startswith("\ufeff".encode())  # BOM: Excel reads the Chinese
    return list(csv.reader(io.StringIO(r.content.decode("utf-8-sig"))))


def _audits(rt) -> list:
    with rt.engine.connect() as conn:
        return conn.execute(
            select(t.audit_log).where(t.audit_log.c.action == "complaint.export")
        ).all()


def test_csv_has_chinese_headers_masked_rows_and_the_lists_filters(rt, client, make_complaint, act):
    billing = make_complaint(title="张三来电13800001234反映多扣费")["number"]
    network = make_complaint(customer={"phone": "13900005678", "name": "李四"})["number"]
    act(network, "transfer", team="network")
    r = client.get("/api/v1/complaints/export.csv")
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == "text/csv; charset=utf-8"
    assert "attachment" in r.headers["content-disposition"]
    assert r.headers["x-total-count"] == "2"
    rows = _csv(r)
    head = rows[0]
    for name in ("单号", "登记时间", "渠道", "类型", "分类", "状态", "优先级", "班组", "处理人"):
        assert name in head
    assert {"客户号码", "标题", "最近期限", "风险标记"} <= set(head)
    body = {row[0]: dict(zip(head, row, strict=True)) for row in rows[1:]}
    assert set(body) == {billing, network}
    assert body[billing]["客户号码"] == "138****1234"
    assert body[billing]["客户姓名"] == "张*"
    assert PHONE not in r.text and "张三" not in r.text and "李四" not in r.text
    assert body[billing]["渠道"] == "10000号热线"
    assert body[network]["班组"] != "" and body[network]["状态"] == "已登记"
    # The list's filters: a team, then a search.
    only = _csv(client.get("/api/v1/complaints/export.csv", params={"team": "network"}))
    assert [row[0] for row in only[1:]] == [network]
    found = _csv(client.get("/api/v1/complaints/export.csv", params={"q": "多扣费"}))
    assert [row[0] for row in found[1:]] == [billing]
    bad = client.get("/api/v1/complaints/export.csv", params={"team": "nosuch"})
    assert bad.status_code == 422 and bad.json()["code"] == "unknown_team"


def test_the_file_shows_what_the_list_shows(client, make_complaint):
    make_complaint(customer={"phone": "13900005678", "name": "欧阳娜娜", "city": "郑州市"})
    listed = client.get("/api/v1/complaints").json()["items"][0]
    rows = _csv(client.get("/api/v1/complaints/export.csv"))
    row = dict(zip(rows[0], rows[1], strict=True))
    assert row["客户号码"] == listed["customer"]["phone"] == "139****5678"
    assert row["客户姓名"] == listed["customer"]["name"]
    assert row["标题"] == (listed["title"] or "")
    received = datetime.fromisoformat(listed["received_at"]).astimezone(BEIJING)
    assert row["登记时间"] == received.strftime("%Y-%m-%d %H:%M:%S")
    due = datetime.fromisoformat(listed["next_due_at"]).astimezone(BEIJING)
    assert row["最近期限"] == due.strftime("%Y-%m-%d %H:%M:%S")


def test_xlsx_is_a_workbook_with_the_same_rows(client, make_complaint):
    numbers = {make_complaint()["number"] for _ in range(3)}
    r = client.get("/api/v1/complaints/export.xlsx")
    assert r.status_code == 200
    assert r.headers["content-type"] == export.XLSX
    ws = load_workbook(io.BytesIO(r.content), read_only=True)["投诉单"]
    rows = [list(row) for row in ws.iter_rows(values_only=True)]
    assert rows[0][:3] == ["单号", "登记时间", "渠道"]
    assert {row[0] for row in rows[1:]} == numbers
    phone = rows[0].index("客户号码")
    assert {row[phone] for row in rows[1:]} == {"138****1234"}


def test_a_text_that_would_be_a_formula_stays_text(client, make_complaint):
    make_complaint(title='=HYPERLINK("http://x")')
    rows = _csv(client.get("/api/v1/complaints/export.csv"))
    assert rows[1][rows[0].index("标题")].startswith("'=")
    r = client.get("/api/v1/complaints/export.xlsx")
    ws = load_workbook(io.BytesIO(r.content))["投诉单"]
    cell = ws.cell(row=2, column=rows[0].index("标题") + 1)
    assert cell.data_type == "s" and cell.value.startswith("'=")


def test_who_may_export(client, make_complaint, as_role):
    make_complaint()
    for role in ("agent", "handler", "reseller"):
        r = client.get(
            "/api/v1/complaints/export.csv",
            headers=as_role(role, org="甲" if role == "reseller" else None),
        )
        assert r.status_code == 403, role
        assert r.json()["code"] == "forbidden"
    for role in ("quality", "auditor"):
        r = client.get("/api/v1/complaints/export.csv", headers=as_role(role))
        assert r.status_code == 200, role
        assert "138****1234" in r.content.decode("utf-8-sig")


def test_an_organisation_exports_only_its_own(rt, make_complaint):
    from dataclasses import replace

    mine = make_complaint(reseller="代理商甲")["number"]
    make_complaint()
    p = for_role("r-exporter", "reseller", org="代理商甲")
    p = replace(p, permissions=p.permissions | {"report.read"})
    file = export.export(rt, {}, "csv", p)
    text = b"".join(file.chunks).decode("utf-8-sig")
    assert file.rows == 1
    assert [row[0] for row in list(csv.reader(io.StringIO(text)))[1:]] == [mine]


def test_each_export_is_audited_with_its_filters_and_count(rt, client, make_complaint):
    make_complaint()
    make_complaint(kind="fault")
    client.get("/api/v1/complaints/export.csv", params={"kind": "fault", "open": "true"})
    client.get("/api/v1/complaints/export.xlsx")
    first, second = _audits(rt)
    assert first.actor == "t-supervisor"
    assert first.detail == {
        "format": "csv",
        "filters": {"kind": ["fault"], "open": True},
        "rows": 1,
    }
    assert second.detail["format"] == "xlsx" and second.detail["rows"] == 2


def test_the_export_path_is_not_taken_for_a_complaint_number(client):
    assert client.get("/api/v1/complaints/export.csv").status_code == 200
    assert client.get("/api/v1/complaints/export.xlsx").status_code == 200
    assert client.get("/api/v1/complaints/export.pdf").json()["code"] == "not_found"


def test_rows_are_read_and_sent_one_batch_at_a_time(rt):
    item = ComplaintIn.model_validate(complaint_body()).model_dump()
    numbers = []
    for _ in range(5):
        numbers += registration.bulk_import(rt, [item] * 1000, system())
    file = export.export(rt, {}, "csv", for_role("lead", "supervisor"))
    assert file.rows == 5000
    header = next(file.chunks)
    assert header.decode("utf-8-sig").startswith("单号,")
    sizes = []
    seen: list[str] = []
    for chunk in file.chunks:
        lines = chunk.decode("utf-8").splitlines()
        sizes.append(len(lines))
        seen += [line.split(",", 1)[0] for line in lines]
    # One chunk per batch of export.BATCH rows: the 5,000 rows never sit in one piece.
    assert sizes == [export.BATCH] * 5
    assert sorted(seen) == sorted(numbers)


def test_a_large_export_streams_over_http(rt, client):
    item = ComplaintIn.model_validate(complaint_body()).model_dump()
    registration.bulk_import(rt, [item] * 2500, system())
    with client.stream("GET", "/api/v1/complaints/export.csv") as r:
        assert r.status_code == 200
        assert "content-length" not in r.headers  # streamed (chunked), not one body
        chunks = list(r.iter_bytes())
    text = b"".join(chunks).decode("utf-8-sig")
    assert len(text.splitlines()) == 2501


def test_the_workbook_is_written_as_its_batches_come():
    from kesu.complaints import xlsx_stream

    read: list[int] = []

    def batches():
        for i in range(3):
            read.append(i)
            yield [[f"TS{i}{j:04d}", "张*", j] for j in range(500)]

    heads = ["单号", "客户姓名", "重开次数"]
    chunks = xlsx_stream.workbook("投诉单", heads, [18, 10, 8], batches())
    got = [next(chunks)]  # the parts and the header row: no row read yet
    assert read == []
    got.append(next(chunks))
    assert read == [0]
    rest = list(chunks)
    assert read == [0, 1, 2]
    assert len(rest) == 3  # one chunk per remaining batch, then the zip's directory
    ws = load_workbook(io.BytesIO(b"".join(got + rest)))["投诉单"]
    assert ws.max_row == 1501 and ws["A1"].font.b and ws.freeze_panes == "A2"
    assert ws["A1502"].value is None and ws["C1501"].value == 499


def test_a_team_added_by_an_admin_is_exported_by_its_name(rt):
    from kesu.accounts import teams

    teams.create(rt, system(), {"code": "vip_care", "name": "大客户服务组"})
    registration.register(
        rt,
        ComplaintIn.model_validate(complaint_body(team="vip_care")).model_dump(),
        system(),
    )
    file = export.export(rt, {}, "csv", system())
    table = list(csv.reader(io.StringIO(b"".join(file.chunks).decode("utf-8-sig"))))
    column = table[0].index("班组")
    assert [row[column] for row in table[1:]] == ["大客户服务组"]
