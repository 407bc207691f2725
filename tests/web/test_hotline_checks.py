"""The hotline form's own checks (issue 14, item 10): a mainland number, a description
of at least 10 characters, the province asked for and guessed from a landline's area
code or the caller's earlier complaint; each message in Chinese next to its field.
The API keeps its looser rules (tested in tests/complaints/test_api.py)."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient

from kesu.accounts import roles as r
from kesu.accounts import users
from kesu.app import create_app
from kesu.channels import phones
from kesu.complaints import registration
from kesu.complaints.schemas import ComplaintIn
from tests.conftest import complaint_body, sign_in
from tests.web.test_workbench_pages import FAULT_TEXT, PASSWORD, _count, _csrf, _form


@pytest.fixture
def agent(rt):
    users.create_user(rt, "test", "hot-agent", "agent", PASSWORD)
    with TestClient(create_app(rt, watcher=False)) as web:
        got = sign_in(web, {"username": "hot-agent", "password": PASSWORD})
        assert got.status_code == 200
        yield web, _csrf(got.text)


def _next_to(html: str, field: str) -> str:
    """The message shown next to a field (its id is err-<field>)."""
    found = re.search(rf'<span class="field-error" id="err-{field}">(.*?)</span>', html)
    return found.group(1) if found else ""


@pytest.mark.parametrize(
    "number",
    ["13912345678", "+86 199-1234-5678", "010-62345678", "0371 6543 2100", "(0755)2345678"],
)
def test_mainland_mobiles_and_landlines_with_their_area_code_pass(number):
    assert phones.is_mainland(phones.digits(number))


@pytest.mark.parametrize(
    "number", ["12345", "12912345678", "1391234567", "62345678", "0371123", "00371654321"]
)
def test_short_numbers_and_landlines_without_area_code_do_not(number):
    assert not phones.is_mainland(phones.digits(number))


def test_the_area_code_tells_the_province_of_a_landline_only():
    assert phones.area_province("01062345678") == "北京市"
    assert phones.area_province("037165432100") == "河南省"
    assert phones.area_province("075523456789") == "广东省"
    assert phones.area_province("13912345678") is None  # no table of mobile segments
    assert phones.area_province("099912345678") is None  # a code kesu does not list


def test_a_short_number_and_a_one_letter_description_are_refused_next_to_their_fields(rt, agent):
    web, csrf = agent
    got = web.post(
        "/complaints/new",
        data=_form(csrf, phone="12345", description="x"),
        follow_redirects=False,
    )
    assert got.status_code == 422
    phone = _next_to(got.text, "phone")
    assert "电话号码“12345”不对" in phone and "固定电话请带区号" in phone
    desc = _next_to(got.text, "description")
    assert "投诉内容太短（1 个字）" in desc and "至少写 10 个字" in desc
    assert 'class="bad"' in got.text and 'aria-describedby="err-phone"' in got.text
    assert _count(rt) == 0
    # Nine characters are still too few; spaces do not count.
    got = web.post("/complaints/new", data=_form(csrf, description="宽带 断网 三天 了没人"))
    assert got.status_code == 422 and "投诉内容太短（9 个字）" in got.text
    assert _count(rt) == 0


def test_the_province_is_asked_for(rt, agent):
    web, csrf = agent
    page = web.get("/complaints/new").text
    assert re.search(r'<select name="province" id="province" required', page)
    got = web.post("/complaints/new", data=_form(csrf, province=""), follow_redirects=False)
    assert got.status_code == 422
    assert _next_to(got.text, "province") == "请选择客户所在的省份。"
    assert _count(rt) == 0


def test_a_landline_with_its_area_code_registers(rt, agent):
    web, csrf = agent
    got = web.post(
        "/complaints/new",
        data=_form(csrf, phone="0371-6543 2100", description=FAULT_TEXT),
        follow_redirects=False,
    )
    assert got.status_code == 303, got.text
    assert _count(rt) == 1


def _typed_phone(web, csrf, phone: str, **fields):
    """What the form gets when the agent leaves the phone field (htmx names the trigger)."""
    return web.post(
        "/complaints/new/suggest",
        data={"csrf_token": csrf, "phone": phone, **fields},
        headers={"HX-Request": "true", "HX-Trigger": "phone"},
    )


def _chosen(html: str) -> str | None:
    found = re.search(
        r'<label id="province-field" hx-swap-oob="true">.*?<option selected>([^<]+)<', html, re.S
    )
    return found.group(1) if found else None


def test_the_province_is_filled_in_from_a_landlines_area_code(agent):
    web, csrf = agent
    got = _typed_phone(web, csrf, "021-62345678")
    assert got.status_code == 200
    assert _chosen(got.text) == "上海市"
    assert "已按区号 021 预填为上海市，请与客户核对" in got.text
    # A province chosen already is left alone; a mobile number alone tells nothing.
    assert _chosen(_typed_phone(web, csrf, "021-62345678", province="江苏省").text) is None
    assert _chosen(_typed_phone(web, csrf, "13912345678").text) is None


def test_the_province_is_filled_in_from_the_callers_earlier_complaint(rt, agent):
    body = complaint_body(customer={"phone": "13912345678", "province": "四川省"})
    view, _ = registration.register(rt, ComplaintIn.model_validate(body).model_dump(), r.system())
    web, csrf = agent
    got = _typed_phone(web, csrf, "139 1234 5678")
    assert _chosen(got.text) == "四川省"
    assert f"已按该号码此前的投诉 {view['number']} 预填为四川省" in got.text


def test_the_api_keeps_accepting_what_systems_send(client):
    """Systems pass on what they received; triage's validity check flags thin content."""
    r = client.post(
        "/api/v1/complaints",
        json=complaint_body(customer={"phone": "12345"}, description="信号差"),
    )
    assert r.status_code == 201, r.text


def test_a_wrong_number_is_said_as_soon_as_it_is_typed(agent):
    web, csrf = agent
    got = _typed_phone(web, csrf, "12345")
    note = re.search(r'<span id="phone-note" hx-swap-oob="true">(.*?)</span>\s*$', got.text, re.S)
    assert note and "电话号码“12345”不对" in note.group(1)
    assert _chosen(got.text) is None
    got = _typed_phone(web, csrf, "13912345678")
    note = re.search(r'<span id="phone-note" hx-swap-oob="true">(.*?)</span>\s*$', got.text, re.S)
    assert note and "field-error" not in note.group(1) and "手机号11位" in note.group(1)
