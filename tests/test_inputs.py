"""Hostile input (issue 13): control characters, dates out of range, oversized chunked
bodies, the staff sign-in's CSRF check and user names in any case — on both databases,
through the API, the pages and the CLI. None of it may give a 5xx or change anything."""

from __future__ import annotations

import json
import re

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from kesu.accounts import users
from kesu.app import create_app
from kesu.cli import app as cli
from tests.conftest import complaint_body, sign_in

PASSWORD = "password-123456"


def _problem(r, status: int, code: str) -> dict:
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith("application/problem+json"), r.headers
    body = r.json()
    assert body["code"] == code, body
    assert re.search(r"[\u4e00-\u9fff]", body["detail"]), body  # said in Chinese
    return body


def _count(client) -> int:
    return len(client.get("/api/v1/complaints", params={"limit": 200}).json()["items"])


@pytest.fixture
def pages(rt):
    """A browser signed in as a supervisor on the staff pages."""
    users.create_user(rt, "test", "lead", "supervisor", PASSWORD)
    with TestClient(create_app(rt, watcher=False)) as web:
        r = sign_in(web, {"username": "lead", "password": PASSWORD}, follow_redirects=False)
        assert r.status_code == 303, r.text
        yield web


# -- control characters --------------------------------------------------------------------


@pytest.mark.parametrize(
    "where",
    ["description", "title", "customer.name"],
)
@pytest.mark.parametrize("bad", ["\x00", "\x07", "\x1b", "\x7f", "\x85", "\ud800"])
def test_a_control_character_in_a_new_complaint_is_refused_and_nothing_is_created(
    client, where, bad
):
    before = _count(client)
    body = complaint_body(title="账单多扣费")
    if where == "customer.name":
        body["customer"] = {**body["customer"], "name": "张" + bad + "三"}
    else:
        body[where] = body[where] + bad + "。"
    # As JSON escapes (\u0000, \ud800), the way a JSON encoder sends them.
    r = client.post(
        "/api/v1/complaints", content=json.dumps(body), headers={"content-type": "application/json"}
    )
    _problem(r, 422, "control_character")
    assert _count(client) == before


def test_tab_newline_and_an_escaped_backslash_are_ordinary_text(client):
    text = "第一行\t缩进\r\n第二行，原样写着 \\u0000 六个字符。"
    r = client.post("/api/v1/complaints", json=complaint_body(description=text))
    assert r.status_code == 201, r.text
    shown = client.get(f"/api/v1/complaints/{r.json()['number']}").json()
    assert "\\u0000" in shown["description"] and "\t" in shown["description"]


@pytest.mark.parametrize(
    "url",
    [
        "/api/v1/complaints?q=%00",
        "/api/v1/complaints?q=%E8%B4%A6%01",
        "/api/v1/complaints?assignee=a%00b",
        "/api/v1/complaints/TS%00",
        "/api/v1/cases/1%00",
        "/api/v1/audit?actor=%00",
        "/api/v1/audit?target_id=x%00",
        "/api/v1/audit?action=%00",
        "/api/v1/law/search?q=%00",
    ],
)
def test_a_nul_in_a_query_or_path_parameter_is_a_422(client, as_role, url):
    headers = as_role("auditor") if "/audit" in url else None
    _problem(client.get(url, headers=headers), 422, "control_character")


def test_a_nul_in_a_form_field_shows_the_error_page(rt, pages):
    r = pages.get("/workbench", params={"q": "账单\x00"})
    assert r.status_code == 422 and r.headers["content-type"].startswith("text/html")
    assert "控制字符" in r.text
    # A multipart form (as the portal's complaint form with its file) is checked too.
    r = pages.post(
        "/account/password",
        data={"old": "x\x00", "new": "y", "confirm": "y"},
        files={"evidence": ("a.txt", b"NUL in a file is data: \x00")},
    )
    assert r.status_code == 422 and "控制字符" in r.text
    # A form post (the sign-in form of someone else) gets the same page, not a 500.
    with TestClient(create_app(rt, watcher=False)) as other:
        r = sign_in(other, {"username": "lead\x00", "password": PASSWORD})
        assert r.status_code == 422 and r.headers["content-type"].startswith("text/html")
        assert "控制字符" in r.text
        # From htmx: the message lands in the page's flash area.
        r = other.get("/login", params={"next": "/\x00"}, headers={"HX-Request": "true"})
        assert r.headers["HX-Retarget"] == "#flash" and "控制字符" in r.text


# -- dates out of range ------------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "/api/v1/calendar/workdays?start=9999-12-31&add=5",
        "/api/v1/calendar/workdays?start=0001-01-01&add=5",
        "/api/v1/reports/kpis.xlsx?from=9999-12-01&to=9999-12-31",
        "/api/v1/reports/kpis?from=9999-12-01&to=9999-12-31",
        "/api/v1/complaints?due_before=9999-12-31T23:59:59%2B08:00",
        "/api/v1/complaints?received_from=9999-12-31",
        "/api/v1/complaints?received_to=0001-01-01",
    ],
)
def test_a_date_out_of_range_is_a_422(client, url):
    _problem(client.get(url), 422, "date_out_of_range")


def test_a_received_time_out_of_range_is_refused(client, as_role):
    before = _count(client)
    r = client.post(
        "/api/v1/complaints", json=complaint_body(received_at="9999-12-31T23:00:00+08:00")
    )
    _problem(r, 422, "date_out_of_range")
    assert _count(client) == before
    r = client.get("/api/v1/audit?from=9999-12-31T00:00:00", headers=as_role("auditor"))
    _problem(r, 422, "date_out_of_range")


def test_the_dashboard_refuses_a_period_out_of_range(pages):
    r = pages.get("/dashboard", params={"from": "9999-12-01", "to": "9999-12-31"})
    assert r.status_code == 422 and r.headers["content-type"].startswith("text/html")
    assert "2100-12-31" in r.text


def test_the_cli_says_a_date_out_of_range_in_chinese(database_url, monkeypatch):
    monkeypatch.setenv("KESU_DATABASE_URL", database_url)
    r = CliRunner().invoke(cli, ["calendar", "workdays", "9999-12-31", "5"])
    assert r.exit_code == 2, r.output
    assert "日期须在 2000-01-01 至 2100-12-31 之间" in r.output
    assert isinstance(r.exception, SystemExit)  # no traceback


# -- oversized bodies ----------------------------------------------------------------------


def test_a_chunked_body_over_the_limit_is_a_413(client, rt):
    before = _count(client)
    limit = rt.settings.max_body_bytes
    payload = json.dumps(complaint_body(description="很长" * (limit // 4))).encode()

    def chunks():
        for i in range(0, len(payload), 4096):
            yield payload[i : i + 4096]

    r = client.post(
        "/api/v1/complaints", content=chunks(), headers={"content-type": "application/json"}
    )
    assert "content-length" not in {k.lower() for k in r.request.headers}
    _problem(r, 413, "body_too_large")
    assert _count(client) == before
    # A page's form, sent the same way, gets the same answer.
    form = ("username=a&password=" + "x" * (limit + 10)).encode()
    r = client.post(
        "/login",
        content=iter([form]),
        headers={"content-type": "application/x-www-form-urlencoded"},
    )
    _problem(r, 413, "body_too_large")


# -- staff sign-in CSRF --------------------------------------------------------------------


def test_staff_sign_in_needs_the_form_token(rt):
    users.create_user(rt, "test", "agent1", "agent", PASSWORD)
    with TestClient(create_app(rt, watcher=False)) as web:
        # A form posted from another site: no token (and no sign-in cookie).
        r = web.post(
            "/login", data={"username": "agent1", "password": PASSWORD}, follow_redirects=False
        )
        assert r.status_code == 403 and "CSRF" in r.text
        assert "kesu_session" not in r.headers.get("set-cookie", "")
        # The cookie without the matching field, or a field that does not match the cookie.
        web.get("/login")
        for sent in ({}, {"csrf_token": "forged-token"}):
            r = web.post(
                "/login",
                data={"username": "agent1", "password": PASSWORD, **sent},
                follow_redirects=False,
            )
            assert r.status_code == 403, sent
        # The form as the page serves it signs in.
        r = sign_in(web, {"username": "agent1", "password": PASSWORD}, follow_redirects=False)
        assert r.status_code == 303 and web.get("/workbench").status_code == 200


# -- user names ------------------------------------------------------------------------------


def test_user_names_are_case_insensitive_in_the_api_and_the_pages(rt, client, as_role):
    admin = as_role("admin")
    r = client.post(
        "/api/v1/users",
        json={"username": " U_ResB ", "role": "agent", "password": PASSWORD},
        headers=admin,
    )
    assert r.status_code == 201 and r.json()["user"]["username"] == "u_resb", r.text
    again = client.post(
        "/api/v1/users",
        json={"username": "u_RESB", "role": "agent", "password": PASSWORD},
        headers=admin,
    )
    _problem(again, 409, "user_exists")
    r = client.patch("/api/v1/users/U_RESB", json={"role": "handler"}, headers=admin)
    assert r.status_code == 200 and r.json()["role"] == "handler", r.text
    r = client.post("/api/v1/tokens", json={"user": "U_ResB"}, headers=admin)
    assert r.status_code == 201 and r.json()["user"] == "u_resb", r.text
    with TestClient(create_app(rt, watcher=False)) as web:
        r = sign_in(web, {"username": "U_RESB", "password": PASSWORD}, follow_redirects=False)
        assert r.status_code == 303, r.text


def test_user_names_are_case_insensitive_in_the_cli(database_url, monkeypatch):
    monkeypatch.setenv("KESU_DATABASE_URL", database_url)
    runner = CliRunner()
    r = runner.invoke(cli, ["user", "add", "u_resA", "--role", "agent", "--password", PASSWORD])
    assert r.exit_code == 0 and "u_resa" in r.output, r.output
    r = runner.invoke(cli, ["token", "create", "u_resA"])
    assert r.exit_code == 0, r.output
    assert "u_resa" in r.output and "kesu_" in r.output.lower()
    r = runner.invoke(cli, ["user", "role", "U_RESA", "handler"])
    assert r.exit_code == 0, r.output
    r = runner.invoke(cli, ["user", "disable", "U_ResA"])
    assert r.exit_code == 0, r.output
    r = runner.invoke(cli, ["token", "create", "u_resa"])
    assert r.exit_code != 0 and "已停用" in r.output
