"""The OpenAPI document lists what the server raises: every problem `code` in the source
appears in the document, each operation's error answers are problem+json, and the
validation rules the server checks in code are stated in the schemas."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from kesu.web.openapi import CODES

SRC = Path(__file__).resolve().parents[2] / "src" / "kesu"


def _raised_codes() -> set[str]:
    found: set[str] = set()
    for path in SRC.rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        found |= set(re.findall(r'Problem\(\s*\d{3},\s*"([a-z_]+)"', text))
        found |= set(re.findall(r'(?:BadInput|NotAllowed)\(\s*"([a-z_]+)"', text))
        found |= set(re.findall(r'PydanticCustomError\(\s*"([a-z_]+)"', text))
    return found - {"internal_error", "subscribers_invalid"}  # 500s: ours, not the caller's


def test_every_code_the_server_raises_is_documented():
    documented = {c for codes in CODES.values() for c in codes}
    assert _raised_codes() - documented == set()


def test_the_error_table_in_the_api_guide_agrees():
    guide = (SRC.parents[1] / "docs" / "api.md").read_text(encoding="utf-8")
    table = guide.split("## Errors", 1)[1]
    rows = re.findall(r"^\| (\d{3}) \| (.+) \|$", table, flags=re.M)
    assert rows
    for status, codes in rows:
        assert set(re.findall(r"`([a-z_]+)`", codes)) <= set(CODES[int(status)]), status


@pytest.fixture(scope="module")
def doc():
    from fastapi.testclient import TestClient

    from kesu.app import create_app

    with TestClient(create_app(watcher=False)) as c:
        return c.get("/openapi.json").json()


def test_error_answers_are_problem_json_with_their_codes(doc):
    ops = [(p, m, o) for p, item in doc["paths"].items() for m, o in item.items()]
    assert len(ops) > 40
    for path, method, op in ops:
        for status, answer in op["responses"].items():
            if status.startswith(("4", "5")):
                assert list(answer["content"]) == ["application/problem+json"], (path, status)
                assert "`" in answer["description"], (path, status)  # the codes are listed
        if path != "/healthz":
            assert "401" in op["responses"], (path, method)
    create = doc["paths"]["/api/v1/complaints"]["post"]["responses"]
    assert {"400", "401", "403", "409", "413", "422"} <= set(create)
    assert "invalid_phone" in create["422"]["description"]
    assert "404" in doc["paths"]["/api/v1/complaints/{number}"]["get"]["responses"]
    assert "415" in doc["paths"]["/api/v1/complaints/{number}/attachments"]["post"]["responses"]
    assert "Problem" in doc["components"]["schemas"]


def test_rules_checked_in_code_are_stated(doc):
    s = doc["components"]["schemas"]
    phone = s["CustomerIn"]["properties"]["phone"]
    assert re.fullmatch(phone["pattern"], "+86 139-1234-5678")
    assert not re.fullmatch(phone["pattern"], "1234")
    assert "hotline" in s["ComplaintIn"]["properties"]["channel"]["enum"]
    assert s["PasswordIn"]["properties"]["new_password"]["minLength"] == 10
    year = doc["paths"]["/api/v1/calendar/years/{year}"]["get"]["parameters"][0]["schema"]
    assert (year["minimum"], year["maximum"]) == (2000, 2100)
    code = s["CodeIn"]["properties"]["phone"]
    assert re.fullmatch(code["pattern"], "13912345678")
    assert re.fullmatch(code["pattern"], "137-0000-1111")
    assert not re.fullmatch(code["pattern"], "12345")


def test_an_unsupported_method_gets_405_with_allow(client):
    r = client.request("TRACE", "/api/v1/complaints")
    assert r.status_code == 405
    assert r.headers["content-type"].startswith("application/problem+json")
    assert r.json()["code"] == "method_not_allowed"
    assert set(r.headers["allow"].replace(" ", "").split(",")) == {"GET", "POST"}
