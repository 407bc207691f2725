"""Signing in: cookie sessions with CSRF, lock-out, tokens, and what ends them."""

from __future__ import annotations

import json
import logging

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from kesu.accounts import tokens, users
from kesu.store import tables as t
from tests.accounts.route_list import http_routes
from tests.conftest import complaint_body

PASSWORD = "correct-horse-battery-1"
PUBLIC = {
    ("POST", "/api/v1/auth/login"),
    ("POST", "/api/v1/portal/code"),
    ("POST", "/api/v1/portal/login"),
    # Signed by the message source instead (tests/channels/test_messages_in.py).
    ("POST", "/api/v1/channels/{source}/messages"),
    # Signed by the operator's kesu instead (tests/appeals/test_exchange.py).
    ("POST", "/api/v1/appeals/operator-answers"),
}


@pytest.fixture
def browser(client):
    """A browser on the same app: no bearer token; cookies kept between requests."""
    return TestClient(client.app)


def user(rt, name: str, role: str = "agent", password: str = PASSWORD) -> str:
    users.create_user(rt, "test", name, role, password)
    return name


def sign_in(web, name: str, password: str = PASSWORD):
    return web.post("/api/v1/auth/login", json={"username": name, "password": password})


def complaints(rt) -> int:
    with rt.engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(t.complaints)).scalar_one()


def session_cookie(r) -> str:
    for header in r.headers.get_list("set-cookie"):
        if header.startswith("kesu_session="):
            return header
    raise AssertionError(f"no session cookie in {r.headers}")


def unauthenticated(r) -> bool:
    return (
        r.status_code == 401
        and r.json()["code"] == "unauthenticated"
        and r.headers.get("www-authenticate", "").lower().startswith("bearer")
    )


def test_sign_in_sets_an_httponly_samesite_cookie_that_works_for_reading(rt, browser):
    user(rt, "li.agent")
    # A wrong password and an unknown user get the same answer, and no cookie.
    wrong = sign_in(browser, "li.agent", "wrong-password-1")
    nobody = sign_in(browser, "no.such.user", "wrong-password-1")
    assert wrong.status_code == 401 and wrong.json()["code"] == "bad_credentials"
    assert (wrong.json()["code"], wrong.json()["detail"]) == (
        nobody.json()["code"],
        nobody.json()["detail"],
    )
    assert "kesu_session" not in browser.cookies

    r = sign_in(browser, "li.agent")
    assert r.status_code == 200, r.text
    cookie = session_cookie(r)
    attrs = {a.strip().split("=")[0].lower(): a for a in cookie.split(";")[1:]}
    assert "httponly" in attrs
    assert attrs["samesite"].split("=")[1].strip().lower() in ("lax", "strict")
    value = cookie.split(";")[0].split("=", 1)[1]
    assert value and value not in r.text  # the session secret is not in the body
    me = r.json()
    assert me["username"] == "li.agent" and me["role"] == "agent" and me["csrf_token"]
    assert me["csrf_token"] != value

    r = browser.get("/api/v1/auth/me")
    assert r.status_code == 200 and r.json()["username"] == "li.agent"
    assert r.json()["kind"] == "user"
    assert browser.get("/api/v1/complaints").status_code == 200


def test_a_change_by_cookie_needs_the_csrf_token(rt, client, browser):
    user(rt, "li.agent")
    csrf = sign_in(browser, "li.agent").json()["csrf_token"]
    n = client.post("/api/v1/complaints", json=complaint_body()).json()["number"]
    version = client.get(f"/api/v1/complaints/{n}").json()["version"]
    count = complaints(rt)
    for headers in ({}, {"X-CSRF-Token": "not-the-token"}, {"X-CSRF-Token": csrf[:-1]}):
        r = browser.post("/api/v1/complaints", json=complaint_body(), headers=headers)
        assert r.status_code == 403 and r.json()["code"] == "csrf_failed", r.text
        r = browser.post(
            f"/api/v1/complaints/{n}/transitions", json={"action": "accept"}, headers=headers
        )
        assert r.status_code == 403 and r.json()["code"] == "csrf_failed", r.text
        r = browser.post("/api/v1/auth/logout", headers=headers)
        assert r.status_code == 403 and r.json()["code"] == "csrf_failed", r.text
    assert complaints(rt) == count
    assert client.get(f"/api/v1/complaints/{n}").json()["version"] == version
    assert browser.get("/api/v1/auth/me").status_code == 200  # still signed in

    good = {"X-CSRF-Token": csrf}
    r = browser.post("/api/v1/complaints", json=complaint_body(), headers=good)
    assert r.status_code == 201, r.text
    assert r.json()["first_receiver"] == "li.agent"
    r = browser.post(f"/api/v1/complaints/{n}/transitions", json={"action": "accept"}, headers=good)
    assert r.status_code == 200 and r.json()["status"] == "accepted", r.text
    assert complaints(rt) == count + 1


def test_logout_ends_the_session_on_the_server_and_forged_cookies_fail(rt, client, browser):
    user(rt, "li.agent")
    r = sign_in(browser, "li.agent")
    csrf, old = r.json()["csrf_token"], browser.cookies["kesu_session"]
    # A tampered or made-up cookie is nobody's.
    for bad in (old[:-1] + ("A" if old[-1] != "A" else "B"), old + "x", "kesu", "0" * 43):
        forged = TestClient(client.app)
        forged.cookies.set("kesu_session", bad)
        assert unauthenticated(forged.get("/api/v1/auth/me")), bad
        assert unauthenticated(forged.get("/api/v1/complaints")), bad
    assert browser.get("/api/v1/auth/me").status_code == 200
    r = browser.post("/api/v1/auth/logout", headers={"X-CSRF-Token": csrf})
    assert r.status_code == 200, r.text
    assert unauthenticated(browser.get("/api/v1/auth/me"))
    # The old cookie, kept and sent again, is dead.
    replay = TestClient(client.app)
    replay.cookies.set("kesu_session", old)
    assert unauthenticated(replay.get("/api/v1/auth/me"))
    assert unauthenticated(replay.get("/api/v1/complaints"))
    r = replay.post("/api/v1/complaints", json=complaint_body(), headers={"X-CSRF-Token": csrf})
    assert unauthenticated(r), r.text
    assert complaints(rt) == 0


def test_wrong_passwords_lock_the_account_with_growing_delays(rt, browser, clock):
    user(rt, "li.agent")
    for _ in range(3):
        r = sign_in(browser, "li.agent", "wrong-password-1")
        assert r.status_code == 401 and r.json()["code"] == "bad_credentials", r.text
    # Locked: even the right password is refused, and the wait is said.
    r = sign_in(browser, "li.agent")
    assert r.status_code == 429 and r.json()["code"] == "account_locked", r.text
    first = int(r.headers["retry-after"])
    assert 25 <= first <= 31  # about half a minute
    assert "kesu_session" not in r.headers.get("set-cookie", "")
    clock.advance(seconds=first - 5)
    r = sign_in(browser, "li.agent")
    assert r.status_code == 429 and int(r.headers["retry-after"]) <= 6
    # After the wait, one more wrong password locks it for longer.
    clock.advance(seconds=6)
    r = sign_in(browser, "li.agent", "wrong-password-2")
    assert r.status_code == 401, r.text
    r = sign_in(browser, "li.agent")
    assert r.status_code == 429 and r.json()["code"] == "account_locked"
    second = int(r.headers["retry-after"])
    assert second > first
    clock.advance(seconds=second)
    r = sign_in(browser, "li.agent")
    assert r.status_code == 200, r.text
    assert browser.get("/api/v1/auth/me").json()["username"] == "li.agent"
    # A success clears the count: one wrong password later does not lock.
    assert sign_in(browser, "li.agent", "wrong-password-3").status_code == 401
    assert sign_in(browser, "li.agent").status_code == 200


def test_a_disabled_users_token_and_session_stop_working(rt, client, browser, as_role):
    user(rt, "li.agent")
    token, _ = tokens.create_token(rt, "test", "li.agent", "laptop")
    bearer = {"Authorization": f"Bearer {token}"}
    assert sign_in(browser, "li.agent").status_code == 200
    assert browser.get("/api/v1/auth/me").status_code == 200
    assert client.get("/api/v1/auth/me", headers=bearer).status_code == 200

    r = client.patch("/api/v1/users/li.agent", json={"active": False}, headers=as_role("admin"))
    assert r.status_code == 200 and r.json()["active"] is False, r.text
    assert unauthenticated(browser.get("/api/v1/auth/me"))
    assert unauthenticated(client.get("/api/v1/auth/me", headers=bearer))
    assert unauthenticated(client.get("/api/v1/complaints", headers=bearer))
    r = client.post("/api/v1/complaints", json=complaint_body(), headers=bearer)
    assert unauthenticated(r)
    again = TestClient(client.app)
    r = sign_in(again, "li.agent")
    assert r.status_code == 401 and "kesu_session" not in again.cookies
    assert complaints(rt) == 0


def test_expired_and_revoked_tokens_are_refused(rt, client, clock, as_role):
    admin = as_role("admin")
    user(rt, "li.agent")
    r = client.post("/api/v1/tokens", json={"user": "li.agent", "expires_days": 1}, headers=admin)
    assert r.status_code == 201, r.text
    short = {"Authorization": f"Bearer {r.json()['token']}"}
    r = client.post("/api/v1/tokens", json={"user": "li.agent", "name": "b"}, headers=admin)
    revoked, revoked_id = {"Authorization": f"Bearer {r.json()['token']}"}, r.json()["id"]
    assert client.get("/api/v1/auth/me", headers=short).status_code == 200
    assert client.get("/api/v1/auth/me", headers=revoked).status_code == 200

    r = client.delete(f"/api/v1/tokens/{revoked_id}", headers=admin)
    assert r.status_code == 200 and r.json()["revoked_at"], r.text
    assert unauthenticated(client.get("/api/v1/auth/me", headers=revoked))
    assert unauthenticated(client.get("/api/v1/complaints", headers=revoked))

    clock.advance(hours=23)
    assert client.get("/api/v1/auth/me", headers=short).status_code == 200
    clock.advance(hours=1, seconds=1)
    assert unauthenticated(client.get("/api/v1/auth/me", headers=short))
    assert unauthenticated(client.get("/api/v1/complaints", headers=short))


def test_a_token_never_exceeds_its_users_role(rt, client):
    user(rt, "li.agent")
    token, _ = tokens.create_token(
        rt, "test", "li.agent", "wide", scopes=["users.manage", "complaint.read"]
    )
    h = {"Authorization": f"Bearer {token}"}
    assert client.get("/api/v1/complaints", headers=h).status_code == 200
    r = client.get("/api/v1/users", headers=h)
    assert r.status_code == 403 and r.json()["code"] == "forbidden"
    # …and a narrower token is narrower than its user.
    r = client.post("/api/v1/complaints", json=complaint_body(), headers=h)
    assert r.status_code == 403 and r.json()["code"] == "forbidden"
    assert complaints(rt) == 0


def test_no_request_without_credentials_reaches_data(rt, client):
    n = client.post("/api/v1/complaints", json=complaint_body()).json()["number"]
    values = {
        "number": n,
        "year": "2027",
        "token_id": "1",
        "policy_id": "1",
        "code": "billing",
        "username": "t-supervisor",
        "case_id": "cmp-x",
        "attachment_id": "1",
        "message_id": "1",
        "webhook_id": "1",
        "ref": "ZB-1",
        "key": "closed",
        "source": "sms-gw",
        "mail_id": "1",
        "incident_id": "1",
        "review_id": "1",
        "round_id": "1",
        "action_id": "1",
    }
    anonymous = TestClient(client.app)
    tried = 0
    for method, path in sorted(http_routes(client.app)):
        if not path.startswith("/api/v1/") or (method, path) in PUBLIC:
            continue
        url = path.format(**values)
        tried += 1
        for headers in ({}, {"Authorization": "Basic dXNlcjpwYXNz"}, {"Authorization": "Bearer"}):
            r = anonymous.request(method, url, headers=headers, json={})
            assert unauthenticated(r), f"{method} {url} {headers}: {r.status_code} {r.text}"
            answer = {k: v for k, v in r.json().items() if k != "instance"}  # the path asked
            assert n not in json.dumps(answer) and "13800001234" not in r.text
    assert tried > 20
    forged = {"Authorization": "Bearer kesu_made-up-token"}
    assert unauthenticated(anonymous.get("/api/v1/complaints", headers=forged))


def test_no_password_or_token_in_the_audit_log_or_the_logs(rt, client, browser, caplog, as_role):
    # kesu's own loggers and the server's, at every level. SQLAlchemy's statement log is
    # left at WARNING: with it on, any database client would print its parameters.
    caplog.set_level(logging.WARNING, logger="sqlalchemy")
    caplog.set_level(logging.DEBUG)  # after: set_level also sets the capturing handler's level
    admin = as_role("admin")
    secrets = ["wrong-password-7", "first-password-9", "brand-new-pass-2"]
    r = client.post(
        "/api/v1/users",
        json={"username": "li.agent", "role": "agent", "password": "first-password-9"},
        headers=admin,
    )
    assert r.status_code == 201, r.text
    r = client.post(
        "/api/v1/users", json={"username": "wang.handler", "role": "handler"}, headers=admin
    )
    assert r.status_code == 201 and r.json()["one_time_password"], r.text
    secrets.append(r.json()["one_time_password"])
    assert sign_in(browser, "li.agent", "wrong-password-7").status_code == 401
    r = sign_in(browser, "li.agent", "first-password-9")
    assert r.status_code == 200, r.text
    csrf = r.json()["csrf_token"]
    secrets += [csrf, browser.cookies["kesu_session"]]
    r = browser.post(
        "/api/v1/auth/password",
        json={"old_password": "first-password-9", "new_password": "brand-new-pass-2"},
        headers={"X-CSRF-Token": csrf},
    )
    assert r.status_code == 200, r.text
    r = browser.post("/api/v1/tokens", json={"name": "script"}, headers={"X-CSRF-Token": csrf})
    assert r.status_code == 201, r.text
    token, token_id = r.json()["token"], r.json()["id"]
    secrets.append(token)
    h = {"Authorization": f"Bearer {token}"}
    assert client.post("/api/v1/complaints", json=complaint_body(), headers=h).status_code == 201
    assert client.delete(f"/api/v1/tokens/{token_id}", headers=h).status_code == 200
    assert client.get("/api/v1/auth/me", headers=h).status_code == 401
    assert browser.post("/api/v1/auth/logout", headers={"X-CSRF-Token": csrf}).status_code == 200
    secrets += [admin["Authorization"].split(" ", 1)[1], client.headers["authorization"][7:]]

    # The server's access log prints each request line, query string included; someone
    # will put a token or a password in a URL. Lines as uvicorn writes them, on its logger:
    access = logging.getLogger("uvicorn.access")
    for query in (
        f"token={token}",
        f"access={token}",
        "username=li.agent&password=first-password-9",
    ):
        access.info('%s - "%s %s HTTP/%s" %d', "10.0.0.7", "GET", f"/api/v1/me?{query}", "1.1", 200)

    with rt.engine.connect() as conn:
        rows = conn.execute(select(t.audit_log)).all()
    stored = json.dumps([[str(v) for v in row] for row in rows], ensure_ascii=False)
    served = client.get("/api/v1/audit", params={"limit": 200}, headers=as_role("auditor")).text
    actions = {row.action for row in rows}
    assert {"auth.login", "auth.login_failed", "token.create", "token.revoke"} <= actions
    logged = "\n".join(
        f"{rec.name} {rec.getMessage()} {rec.exc_text or ''}" for rec in caplog.records
    )
    assert logged.count("/api/v1/me?") == 3  # the lines were logged, and are read here
    for secret in secrets:
        assert secret not in stored, f"a secret is in the audit log: {secret[:6]}…"
        assert secret not in served
        assert secret not in logged, f"a secret is in the logs: {secret[:6]}…"
