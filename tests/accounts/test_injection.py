"""SQL and script text typed into a complaint is kept and given back as text, and breaks nothing."""

from __future__ import annotations

from sqlalchemy import func, select

from kesu.store import tables as t
from tests.conftest import complaint_body

SQL = "'; DROP TABLE complaints; --"
SQL_OR = "x' OR '1'='1"
SCRIPT = "<script>alert(document.cookie)</script>"
IMG = '<img src=x onerror="fetch(`//evil`)">'
QUOTES = 'O\'Brien "引号" `反引号` \\反斜杠\\ %百分号% _下划线_ ;分号'
UNION = "1 UNION SELECT username, password_hash FROM users --"


def body(**overrides):
    fields = {"customer": {"phone": "13800001234", "name": "张三"}}
    return complaint_body(**{**fields, **overrides})


def register(client, **overrides) -> dict:
    r = client.post("/api/v1/complaints", json=body(**overrides))
    assert r.status_code == 201, r.text
    assert r.headers["content-type"].startswith("application/json")
    return r.json()


def act(client, number, action, **params) -> dict:
    r = client.post(f"/api/v1/complaints/{number}/transitions", json={"action": action, **params})
    assert r.status_code == 200, f"{action}: {r.text}"
    return r.json()


def rows(rt, table) -> int:
    with rt.engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(table)).scalar_one()


def _round_trip(client, payload: str) -> str:
    """A complaint with `payload` in every text field; checks what comes back."""
    name = payload[:40] + "先生"  # hostile, but not the same text as the other fields
    c = register(
        client,
        title=payload,
        description=f"客户原话：{payload}",
        demands=payload,
        customer={"phone": "13800001234", "name": name},
    )
    n = c["number"]
    assert (c["title"], c["description"], c["demands"]) == (
        payload,
        f"客户原话：{payload}",
        payload,
    )
    # The name is masked like any other: its first character, then stars.
    assert c["customer"]["name"] == name.strip()[0] + "*" * max(1, len(name.strip()) - 1)
    act(client, n, "accept", note=payload)
    act(client, n, "investigate", note=payload)
    proposed = act(client, n, "propose", resolution=payload, note=payload)
    assert proposed["resolution"] == payload

    view = client.get(f"/api/v1/complaints/{n}").json()
    assert (view["title"], view["demands"], view["resolution"]) == (payload, payload, payload)
    notes = [e["note"] for e in client.get(f"/api/v1/complaints/{n}/events").json()["items"]]
    assert notes.count(payload) == 3
    shown = client.post(
        f"/api/v1/complaints/{n}/personal-data", json={"reason": "verify", "scope": "full"}
    ).json()
    assert shown["customer"]["name"] == name.strip()
    assert shown["description"] == f"客户原话：{payload}"
    listed = client.get("/api/v1/complaints", params={"limit": 200}).json()["items"]
    assert (n, payload) in [(i["number"], i["title"]) for i in listed]
    assert client.get("/api/v1/complaints", params={"q": payload[:100]}).json()["items"]
    return n


def test_hostile_text_in_every_field_is_stored_and_returned_as_text(rt, client):
    payloads = [SQL, SQL_OR, SCRIPT, IMG, QUOTES, UNION]
    numbers = [_round_trip(client, payload) for payload in payloads]
    # Nothing was run: the tables are all there, with what they should hold.
    assert rows(rt, t.complaints) == len(payloads) and rows(rt, t.users) == 1
    assert len(set(numbers)) == len(payloads)


def test_search_takes_percent_underscore_and_quotes_literally(client):
    texts = {
        "percent": "本月流量费多扣100%，要求退还",
        "underscore": "套餐名称为 A_B 的合约套餐无法办理",
        "quote": "营业员说O'Brien式的营销是正常的",
        "backslash": "短信内容里有 C:\\temp 这样的路径",
        "plain": "普通的宽带断网投诉，没有特殊字符",
        "sql": f"客户原话：{SQL_OR}",
    }
    numbers = {key: register(client, description=d)["number"] for key, d in texts.items()}

    def found(q: str) -> set[str]:
        r = client.get("/api/v1/complaints", params={"q": q})
        assert r.status_code == 200, f"q={q!r}: {r.text}"
        return {i["number"] for i in r.json()["items"]}

    def expected(q: str) -> set[str]:
        return {numbers[k] for k, d in texts.items() if q in d}

    for q in ("%", "_", "'", "\\", "100%", "A_B", "O'Brien", "%_", "'%'", "' OR '1'='1", "--"):
        assert found(q) == expected(q), q
    assert found("%") == {numbers["percent"]}
    assert found("_") == {numbers["underscore"]}
    assert found("'") == {numbers["quote"], numbers["sql"]}
    assert found("' OR 1=1 --") == set()
    assert found(numbers["plain"]) == {numbers["plain"]}  # by number, exactly
    assert len(found("投诉")) == 1 and len(found(" ")) == 6  # blank: no filter


def test_hostile_filter_values_are_refused_or_match_nothing(client, as_role):
    n = register(client)["number"]
    for params, status, code in (
        ({"status": "registered' OR '1'='1"}, 422, "unknown_status"),
        ({"category": "billing; DROP TABLE complaints"}, 422, "unknown_category"),
        ({"sort": "received; DROP TABLE users"}, 422, None),
        ({"limit": "1; DELETE FROM complaints"}, 422, None),
        ({"cursor": "' OR 1=1 --"}, 400, "invalid_cursor"),
        ({"received_from": "2026-01-01' OR '1'='1"}, 422, "invalid_datetime"),
    ):
        r = client.get("/api/v1/complaints", params=params)
        assert r.status_code == status, f"{params}: {r.text}"
        if code:
            assert r.json()["code"] == code
    for phone in ("' OR 1=1 --", "13800001234' OR '1'='1", "%"):
        r = client.get("/api/v1/complaints", params={"customer_phone": phone})
        assert r.status_code == 200 and r.json()["items"] == [], phone
    for number in ("' OR '1'='1", "TS%", "TS2026112800000_"):
        r = client.get(f"/api/v1/complaints/{number}")
        assert r.status_code == 404, number
        r = client.post(f"/api/v1/complaints/{number}/transitions", json={"action": "accept"})
        assert r.status_code == 404, number
    r = client.get(
        "/api/v1/audit", params={"actor": "' OR '1'='1", "action": "%"}, headers=as_role("auditor")
    )
    assert r.status_code == 200 and r.json()["items"] == []
    assert client.get(f"/api/v1/complaints/{n}").json()["status"] == "registered"
