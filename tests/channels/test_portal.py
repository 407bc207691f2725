"""Customers prove their number with a one-time code and see only their complaints."""

from fastapi.testclient import TestClient

from kesu.app import create_app
from tests.conftest import complaint_body, last_code


def test_customer_signs_in_with_a_code_and_sees_only_their_own(client, rt, clock):
    mine = client.post(
        "/api/v1/complaints", json=complaint_body(customer={"phone": "13700001111"})
    ).json()["number"]
    other = client.post(
        "/api/v1/complaints", json=complaint_body(customer={"phone": "13700002222"})
    ).json()["number"]
    with TestClient(create_app(rt, watcher=False)) as web:
        assert web.get("/api/v1/portal/complaints").status_code == 401
        r = web.post("/api/v1/portal/code", json={"phone": "137-0000-1111"})
        assert r.status_code == 200 and "code" not in r.json()  # the code goes by SMS only
        again = web.post("/api/v1/portal/code", json={"phone": "13700001111"})
        assert again.status_code == 429 and again.json()["code"] == "code_too_soon"
        code = last_code(rt)
        wrong = web.post("/api/v1/portal/login", json={"phone": "13700001111", "code": "000000"})
        assert wrong.status_code == 401
        r = web.post("/api/v1/portal/login", json={"phone": "13700001111", "code": code})
        assert r.status_code == 200, r.text
        listed = web.get("/api/v1/portal/complaints").json()["items"]
        assert [c["number"] for c in listed] == [mine]
        assert web.get(f"/api/v1/complaints/{mine}").status_code == 200
        assert web.get(f"/api/v1/complaints/{other}").status_code == 404
        # A code is used once.
        web.cookies.clear()
        r = web.post("/api/v1/portal/login", json={"phone": "13700001111", "code": code})
        assert r.status_code == 401
        # Staff routes stay closed to customers.
        assert web.get("/api/v1/users").status_code == 401


def test_codes_expire_and_bad_numbers_are_refused(client, rt, clock):
    with TestClient(create_app(rt, watcher=False)) as web:
        assert web.post("/api/v1/portal/code", json={"phone": "12345"}).json()["code"] == (
            "invalid_phone"
        )
        web.post("/api/v1/portal/code", json={"phone": "13700003333"})
        code = last_code(rt)
        clock.advance(minutes=6)
        r = web.post("/api/v1/portal/login", json={"phone": "13700003333", "code": code})
        assert r.status_code == 401 and r.json()["code"] == "code_invalid"


def test_logs_mask_numbers_and_secrets(caplog):
    import logging

    from kesu.accounts import logs

    logs.install()
    with caplog.at_level(logging.INFO, logger="uvicorn.access"):
        logging.getLogger("uvicorn.access").info(
            '%s "GET /api/v1/complaints?customer_phone=13912345678 HTTP/1.1" 200', "127.0.0.1"
        )
        logging.getLogger("kesu").warning("token kesu_abcdefghijklmnopqrstuvwxyz used")
    text = caplog.text
    assert "13912345678" not in text and "139****5678" in text
    assert "kesu_abcdefghijklmnop" not in text


def test_access_log_lines_keep_their_shape_when_masked():
    """uvicorn's access formatter reads the five arguments itself; masking keeps them."""
    import logging

    from uvicorn.logging import AccessFormatter

    from kesu.accounts import logs

    record = logging.LogRecord(
        "uvicorn.access",
        logging.INFO,
        __file__,
        1,
        '%s - "%s %s HTTP/%s" %d',
        ("127.0.0.1:5000", "GET", "/api/v1/complaints?customer_phone=13912345678", "1.1", 200),
        None,
    )
    assert logs.MaskingFilter().filter(record)
    line = AccessFormatter("%(client_addr)s %(request_line)s %(status_code)s").format(record)
    assert "13912345678" not in line and "139****5678" in line and "200" in line


def test_the_customers_name_in_the_text_is_masked_like_the_field(client):
    body = complaint_body(
        customer={"phone": "13700004444", "name": "欧阳娜娜"},
        description="我是欧阳娜娜，宽带断网两天了。",
    )
    c = client.post("/api/v1/complaints", json=body).json()
    assert c["customer"]["name"] == "欧***"
    assert "欧阳娜娜" not in c["description"] and "我是欧***" in c["description"]
