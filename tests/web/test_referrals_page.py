"""The referrals page (/referrals): the administration's list uploaded (bad rows reported
in Chinese, nothing of them written, the good ones imported), the answer to the regulator
given on the page, its document; the CSRF check and the permissions hold."""

from __future__ import annotations

from kesu.store import tables as t
from tests.channels.test_referrals_import import ROWS, _count, _refs, xlsx


def test_the_page_uploads_the_list_and_answers_the_regulator(rt, staff_web):
    web, csrf = staff_web("ref-supervisor", "supervisor")
    page = web.get("/referrals")
    assert page.status_code == 200 and "导入转办清单" in page.text
    r = web.post(
        "/referrals/import",
        data={"csrf_token": csrf},
        files={"file": ("转办清单.xlsx", xlsx(ROWS), "application/octet-stream")},
    )
    assert r.status_code == 422  # the list had bad rows: said, and the good ones imported
    assert "共 4 行：新登记 2 件，已登记过 0 件，2 行有误未导入。" in r.text
    assert "要求回复日期（2026-11-20）早于申诉受理日期（2026-11-26）" in r.text
    assert "缺少必填字段“联系电话”" in r.text
    assert _refs(rt) == ["ZB-2026-001", "ZB-2026-002"]
    assert 'data-ref="ZB-2026-001"' in r.text

    answered = web.post(
        "/referrals/ZB-2026-001/reply",
        data={
            "csrf_token": csrf,
            "handling": "已核实，提速包系误开通，已取消。",
            "result": "退还60元。",
        },
        follow_redirects=True,
    )
    assert answered.status_code == 200 and "转办 ZB-2026-001 已答复。" in answered.text
    doc = web.get("/api/v1/referrals/ZB-2026-001/reply")
    assert doc.status_code == 200 and "退还60元。" in doc.text
    # Without the CSRF token nothing is imported.
    forged = web.post(
        "/referrals/import", files={"file": ("x.xlsx", xlsx(ROWS), "application/octet-stream")}
    )
    assert forged.status_code == 403


def test_a_quality_reviewer_cannot_import(rt, staff_web):
    web, csrf = staff_web("ref-quality", "quality")
    r = web.post(
        "/referrals/import",
        data={"csrf_token": csrf},
        files={"file": ("转办清单.xlsx", xlsx(ROWS), "application/octet-stream")},
    )
    assert r.status_code == 403
    assert _count(rt, t.referrals) == 0


def test_the_complaint_page_says_the_regulators_date_is_its_requirement(rt, staff_web):
    web, csrf = staff_web("ref-handler", "handler")
    web.post(
        "/referrals/import",
        data={"csrf_token": csrf},
        files={"file": ("转办清单.xlsx", xlsx(ROWS[:1]), "application/octet-stream")},
    )
    with rt.engine.connect() as conn:
        from sqlalchemy import select

        number = conn.execute(select(t.referrals.c.complaint_number)).scalar_one()
    page = web.get(f"/complaints/{number}")
    assert page.status_code == 200
    assert "管局转办回复期限（ZB-2026-001）" in page.text
    assert "管局转办要求的回复期限（监管要求，非法定条款）" in page.text
    assert '<span class="tag">监管要求</span>' in page.text
    assert "管局转办（12300）" in page.text  # the channel
