"""The import page for admins: upload a file, follow its job, read the report, download
the bad rows; a mapping saved; nobody else may use it (403)."""

from __future__ import annotations

import io
import time

from openpyxl import load_workbook

from kesu.channels import import_mappings
from tests.channels.import_files import HEADERS, csv_bytes, many, row, xlsx

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def follow(web, location: str, timeout: float = 60) -> str:
    """Poll the job's status fragment (as htmx does) until it stops polling; the page."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        part = web.get(location + "?part=status", headers={"HX-Request": "true"})
        assert part.status_code == 200, part.text
        if "hx-trigger" not in part.text:
            return web.get(location).text
        time.sleep(0.2)
    raise AssertionError("the import job did not finish")


def upload(web, csrf, name: str, data: bytes, **form):
    return web.post(
        "/admin/import",
        data={"csrf_token": csrf, "mapping": "hotline", **form},
        files={"file": (name, data, XLSX if name.endswith(".xlsx") else "text/csv")},
        follow_redirects=False,
    )


def test_an_admin_uploads_reads_the_report_and_downloads_the_bad_rows(rt, staff_web, tmp_path):
    web, csrf = staff_web("imp-admin", "admin")
    page = web.get("/admin/import")
    assert page.status_code == 200 and "批量导入工单文件" in page.text
    assert 'href="/admin/import"' in page.text  # the admin tab
    path = xlsx(
        tmp_path / "十月工单.xlsx",
        [*many(3), row("X1", 来电号码=None), row("X2", 受理时间="2026-11-31 08:00")],
    )
    r = upload(web, csrf, "十月工单.xlsx", path.read_bytes())
    assert r.status_code == 303, r.text
    location = r.headers["location"]
    assert location.startswith("/admin/import/")
    html = follow(web, location)
    assert 'data-state="done"' in html
    assert "共 5 行：合格 3 行，有问题 2 行（未导入）。" in html
    assert "新建 3 件，此前已导入而跳过 0 件。" in html
    assert "来电号码为空。" in html and "不是有效的日期时间" in html
    assert "未识别的列（已忽略）：备注" in html

    got = web.get(location + "/errors.xlsx")
    assert got.status_code == 200 and got.headers["content-type"] == XLSX
    assert "%E9%94%99%E8%AF%AF%E8%A1%8C.xlsx" in got.headers["content-disposition"]  # 错误行
    ws = load_workbook(io.BytesIO(got.content)).worksheets[0]
    rows = list(ws.iter_rows(values_only=True))
    assert rows[0] == ("原行号", *HEADERS, "错误说明")
    assert [(r[0], r[1], r[-1]) for r in rows[1:]] == [
        (5, "X1", "来电号码：来电号码为空。"),
        (6, "X2", "受理时间：时间“2026-11-31 08:00”不是有效的日期时间（月、日或时、分超出范围）。"),
    ]

    # The same file again: nothing new; the list of jobs shows both.
    html = follow(web, upload(web, csrf, "十月工单.xlsx", path.read_bytes()).headers["location"])
    assert "新建 0 件，此前已导入而跳过 3 件。" in html
    listing = web.get("/admin/import").text
    assert listing.count("十月工单.xlsx") == 2


def test_a_dry_run_and_a_refused_file_on_the_page(rt, staff_web):
    web, csrf = staff_web("imp-admin2", "admin")
    data = csv_bytes(many(4), "gbk")
    html = follow(web, upload(web, csrf, "gbk.csv", data, dry_run="1").headers["location"])
    assert "试运行，未写入任何数据：正式导入将新建 4 件" in html
    assert "errors.xlsx" not in html
    lacking = csv_bytes([r[1:] for r in many(2)], "utf-8-sig", headers=HEADERS[1:])
    html = follow(web, upload(web, csrf, "lacking.csv", lacking).headers["location"])
    assert 'data-state="refused"' in html and "文件缺少必需的列：工单号" in html
    r = upload(web, csrf, "notes.pdf", b"%PDF-1.4")
    assert r.status_code == 422 and "只支持 CSV 和 Excel" in r.text
    from kesu.complaints import queries

    assert queries.count(rt, {}) == 0


def test_an_admin_saves_a_mapping_and_imports_with_it(rt, staff_web, tmp_path):
    web, csrf = staff_web("imp-admin3", "admin")
    r = web.post(
        "/admin/import/mappings",
        data={
            "csrf_token": csrf,
            "name": "henan_export",
            "label": "河南热线导出",
            "source": "henan-hotline",
            "channel": "hotline",
            "province": "河南",
            "columns": "\n".join(
                [
                    "工单号: 流水号",
                    "受理时间: 来电日期",
                    "来电号码: 主叫",
                    "投诉内容: 问题",
                    "归属地: 地市",
                ]
            ),
        },
    )
    assert r.status_code == 200 and "列映射 henan_export 已保存。" in r.text
    headers = ["流水号", "来电日期", "主叫", "问题", "地市"]
    path = xlsx(
        tmp_path / "h.xlsx",
        [["L1", "2026-11-02 08:00", "13700001111", "信号差，打电话总掉线。", "郑州"]],
        headers=headers,
    )
    r = upload(web, csrf, "h.xlsx", path.read_bytes(), mapping="henan_export")
    html = follow(web, r.headers["location"])
    assert "新建 1 件" in html, html
    from kesu.store import tables as t
    from kesu.store.db import read

    with read(rt.engine) as conn:
        c = conn.execute(t.complaints.select()).one()
    assert (c.idempotency_key, c.customer_province, c.customer_city) == (
        "import:henan-hotline:L1",
        "河南省",
        "郑州",
    )
    # A packaged mapping cannot be overwritten.
    r = web.post(
        "/admin/import/mappings",
        data={"csrf_token": csrf, "name": "hotline", "source": "x1", "columns": "工单号: a"},
    )
    assert r.status_code == 422 and "系统自带的映射" in r.text
    assert [m.name for m in import_mappings.listing(rt)] == ["hotline", "henan_export"]


def test_only_those_who_may_import_use_the_page(rt, staff_web, tmp_path):
    admin, admin_csrf = staff_web("imp-admin4", "admin")
    html = follow(
        admin,
        upload(
            admin,
            admin_csrf,
            "a.xlsx",
            xlsx(tmp_path / "a.xlsx", [row("Z1", 来电号码=None)]).read_bytes(),
        ).headers["location"],
    )
    assert "errors.xlsx" in html
    for role in ("supervisor", "agent", "auditor"):
        web, csrf = staff_web(f"imp-{role}", role)
        assert 'href="/admin/import"' not in web.get("/admin/users").text
        assert web.get("/admin/import").status_code == 403
        r = upload(web, csrf, "b.xlsx", xlsx(tmp_path / "b.xlsx", many(2)).read_bytes())
        assert r.status_code == 403 and "批量导入工单文件" in r.text
        assert web.get("/admin/import/1").status_code == 403
        assert web.get("/admin/import/1/errors.xlsx").status_code == 403
        r = web.post(
            "/admin/import/mappings",
            data={"csrf_token": csrf, "name": "mine", "source": "x1", "columns": "工单号: a"},
        )
        assert r.status_code == 403
    from kesu.complaints import queries

    assert queries.count(rt, {}) == 0


def test_a_job_number_no_job_can_have_is_not_found(staff_web):
    web, _ = staff_web("imp-admin5", "admin")
    for bad in ("0", "-5", "99999999999999999999999"):
        assert web.get(f"/admin/import/{bad}").status_code == 404
        assert web.get(f"/admin/import/{bad}/errors.xlsx").status_code == 404
