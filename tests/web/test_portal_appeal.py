"""The appellant's own web form at the centre (/portal/appeal): signed in with the phone
number, what 第十二条 asks for asked, what is missing named, sent twice registers once."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient

from kesu.app import create_app
from kesu.appeals import operators, service
from tests.web.test_portal_pages import PHONE, _csrf, _sign_in


@pytest.fixture
def web(rt):
    operators.save(rt, "test", "telecom", "某电信公司某省分公司", "某市某路1号")
    with TestClient(create_app(rt, watcher=False)) as c:
        yield c


def _form(web) -> tuple[str, str]:
    html = web.get("/portal/appeal").text
    return _csrf(html), re.search(r'name="token" value="([^"]+)"', html).group(1)


FIELDS = {
    "name": "赵六",
    "phone": PHONE,
    "address": "某市某区某路8号",
    "postcode": "310000",
    "operator": "telecom",
    "dispute": "fee",
    "occurred_at": "2026-10-02",
    "complained_at": "2026-10-10",
    "operator_answered_at": "2026-10-15",
    "request": "退还10月被多扣的彩铃费",
    "reasons": "从未订购彩铃业务",
    "facts": "10月账单出现彩铃费5元，投诉后企业称系本人订购，但无法提供订购记录。",
}


def test_a_complete_appeal_is_received_once_with_its_time_limits(web, rt):
    _sign_in(web, rt)
    csrf, token = _form(web)
    r = web.post("/portal/appeal", data={"csrf_token": csrf, "token": token, **FIELDS})
    assert r.status_code == 200, r.text
    number = re.search(r'id="number">(SS\d{14})<', r.text).group(1)
    assert "受理审查" in r.text and "第十四条" in r.text and "第三十九条" in r.text
    again = web.post("/portal/appeal", data={"csrf_token": csrf, "token": token, **FIELDS})
    assert number in again.text
    listed = service.listing(rt, "test", "all")
    assert [a["number"] for a in listed["items"]] == [number]
    assert listed["items"][0]["channel"] == "web"


def test_missing_items_are_named_with_their_article(web, rt):
    _sign_in(web, rt)
    csrf, token = _form(web)
    data = {**FIELDS, "postcode": "", "address": ""}
    r = web.post("/portal/appeal", data={"csrf_token": csrf, "token": token, **data})
    assert r.status_code == 200, r.text
    missing = r.text.split('id="missing"', 1)[1].split("</div>", 1)[0]
    assert "申诉人地址" in missing and "申诉人邮政编码" in missing and "第十二条" in missing


def test_another_phone_and_bad_values_are_refused_and_keep_the_input(web, rt):
    _sign_in(web, rt)
    csrf, token = _form(web)
    r = web.post(
        "/portal/appeal",
        data={"csrf_token": csrf, "token": token, **FIELDS, "phone": "13900009999"},
    )
    assert r.status_code == 422 and "不一致" in r.text
    r = web.post(
        "/portal/appeal",
        data={"csrf_token": csrf, "token": token, **FIELDS, "postcode": "12"},
    )
    assert r.status_code == 422 and "邮政编码" in r.text
    assert "从未订购彩铃业务" in r.text  # the input is kept
    assert service.listing(rt, "test", "all")["total"] == 0


def test_signed_out_visitors_are_sent_to_sign_in(web):
    r = web.get("/portal/appeal", follow_redirects=False)
    assert r.status_code in (302, 303) and "/portal/login" in r.headers["location"]


def test_the_portal_offers_the_appeal_form_only_where_a_centre_runs(rt):
    from dataclasses import replace

    with TestClient(create_app(rt, watcher=False)) as c:
        assert 'id="appeal-online"' not in c.get("/portal").text
    rt.settings = replace(rt.settings, mode="centre")
    with TestClient(create_app(rt, watcher=False)) as c:
        assert 'id="appeal-online"' in c.get("/portal").text
