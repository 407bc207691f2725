"""Shared fixtures: a runtime on SQLite (always) and on PostgreSQL (when configured).

Database tests take the `rt` or `client` fixture and run once per database:
SQLite in a temporary file, and PostgreSQL when KESU_TEST_DATABASE_URL is set
(e.g. postgresql+psycopg://postgres@127.0.0.1:5432/kesu_test).
"""

from __future__ import annotations

import os
import warnings
from datetime import datetime

import pytest
from sqlalchemy import text

from kesu.clock import BEIJING, FrozenClock
from kesu.runtime import Runtime
from kesu.settings import Settings
from kesu.store.db import make_engine, migrate
from kesu.store.tables import metadata

warnings.filterwarnings("ignore", message=".*httpx.*", category=DeprecationWarning)

PG_URL = os.environ.get("KESU_TEST_DATABASE_URL")


def _own_database(url: str, worker: str) -> str:
    """Under pytest-xdist each worker gets its own PostgreSQL database (`<name>_<worker>`,
    made afresh), since the tests empty the database between them."""
    from sqlalchemy import create_engine
    from sqlalchemy.engine import make_url

    base = make_url(url)
    name = f"{base.database}_{worker}"
    admin = create_engine(base.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return base.set(database=name).render_as_string(hide_password=False)


if PG_URL and os.environ.get("PYTEST_XDIST_WORKER"):
    PG_URL = _own_database(PG_URL, os.environ["PYTEST_XDIST_WORKER"])
    os.environ["KESU_TEST_DATABASE_URL"] = PG_URL
# Fixed test keys for the personal fields (production keys come from the environment).
os.environ.setdefault("KESU_DATA_KEY", "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=")
os.environ.setdefault("KESU_HASH_KEY", "ICEiIyQlJicoKSorLC0uLzAxMjM0NTY3ODk6Ozw9Pj8=")
DATABASES = ["sqlite"] + (["postgresql"] if PG_URL else [])

# Saturday 2026-11-28 10:00 in Beijing.
NOW = datetime(2026, 11, 28, 10, 0, tzinfo=BEIJING)

_pg_engine = None


def _postgres_engine():
    global _pg_engine
    if _pg_engine is None:
        _pg_engine = make_engine(PG_URL)
        migrate(_pg_engine)
    return _pg_engine


@pytest.fixture(params=DATABASES)
def database_url(request, tmp_path):
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'kesu.db'}"
        return
    engine = _postgres_engine()
    with engine.begin() as conn:
        names = ", ".join(t.name for t in reversed(metadata.sorted_tables))
        conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
    yield PG_URL


@pytest.fixture
def clock():
    return FrozenClock(NOW)


@pytest.fixture
def rt(database_url, clock):
    settings = Settings(database_url=database_url, embedded_worker=False, cookie_secure=False)
    runtime = Runtime.start(settings, clock=clock)
    yield runtime
    runtime.close()


@pytest.fixture
def tokens(rt):
    """tokens(role, org=None) → a bearer token of a user with that role (made once per test)."""
    from kesu.accounts.tokens import create_token
    from kesu.accounts.users import create_user

    made: dict[tuple, str] = {}

    def token(role: str, org: str | None = None, username: str | None = None) -> str:
        key = (role, org, username)
        if key not in made:
            name = username or f"t-{role}" + (f"-{abs(hash(org)) % 1000}" if org else "")
            create_user(rt, "test", name, role, "password-123456", org=org)
            made[key], _ = create_token(rt, "test", name, "test", expires_days=3650)
        return made[key]

    return token


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def client(rt, tokens):
    """An API client signed in as a supervisor (the role allowed most of the daily work)."""
    from fastapi.testclient import TestClient

    from kesu.app import create_app

    with TestClient(create_app(rt, watcher=False)) as c:
        c.headers.update(bearer(tokens("supervisor")))
        yield c


@pytest.fixture
def as_role(tokens):
    """as_role("admin") → headers for a request made by a user with that role."""

    def headers(role: str, org: str | None = None) -> dict[str, str]:
        return bearer(tokens(role, org))

    return headers


def complaint_body(**overrides):
    body = {
        "channel": "hotline",
        "customer": {"phone": "13800001234", "name": "张三", "province": "广东省"},
        "description": "用户来电反映本月账单多扣了30元流量费，要求核实退费。",
    }
    body.update(overrides)
    return body


@pytest.fixture
def make_complaint(client):
    def make(**overrides):
        r = client.post("/api/v1/complaints", json=complaint_body(**overrides))
        assert r.status_code == 201, r.text
        return r.json()

    return make


# Closing a complaint needs a root cause (complaints.lifecycle `close`): given then, or
# recorded before (propose, reply). Tests that close one only to get on with something
# else close it with this cause when none was recorded; tests of the rule itself pass
# root_cause=None (dropped) to close without giving one.
CLOSE_CAUSE = "human_error"


def with_cause(action: str, params: dict, recorded: str | None = None) -> dict:
    """`params` of a transition, with the default root cause when it closes, names none
    and none is `recorded` on the complaint; a root_cause of None is dropped."""
    params = dict(params)
    if action == "close" and "root_cause" not in params and not recorded:
        params["root_cause"] = CLOSE_CAUSE
    if params.get("root_cause", "") is None:
        del params["root_cause"]
    return params


@pytest.fixture
def act(client):
    def act(number, action, expect=200, **params):
        recorded = None
        if action == "close" and "root_cause" not in params:
            recorded = client.get(f"/api/v1/complaints/{number}").json().get("root_cause")
        body = {"action": action, **with_cause(action, params, recorded)}
        r = client.post(f"/api/v1/complaints/{number}/transitions", json=body)
        assert r.status_code == expect, r.text
        return r.json()

    return act


def last_code(rt) -> str:
    """The one-time code of the newest notification in the outbox (what the SMS says)."""
    import re

    from sqlalchemy import select

    from kesu.store import tables as t

    with rt.engine.connect() as conn:
        body = conn.execute(
            select(t.notifications.c.body).order_by(t.notifications.c.id.desc()).limit(1)
        ).scalar_one()
    return re.search(r"\d{6}", body).group(0)


def sign_in(web, data: dict, **kwargs):
    """Post the staff sign-in form as a browser does: open it first for its CSRF token."""
    import re

    form = web.get("/login")
    token = re.search(r'name="csrf_token" value="([^"]+)"', form.text)
    assert token, "the sign-in form carries a CSRF token"
    return web.post("/login", data={**data, "csrf_token": token.group(1)}, **kwargs)


STAFF_PASSWORD = "password-123456"


@pytest.fixture
def staff_web(rt):
    """staff_web(username, role) → (a browser-like client signed in as a new staff user,
    its CSRF token), for the page tests of every slice."""
    import re

    from fastapi.testclient import TestClient

    from kesu.accounts import users
    from kesu.app import create_app

    app = create_app(rt, watcher=False)
    clients: list[TestClient] = []

    def make(name: str, role: str):
        users.create_user(rt, "test", name, role, STAFF_PASSWORD)
        web = TestClient(app)
        clients.append(web)
        r = sign_in(web, {"username": name, "password": STAFF_PASSWORD})
        assert r.status_code == 200, r.text
        return web, re.search(r'name="csrf_token" value="([^"]+)"', r.text).group(1)

    yield make
    for web in clients:
        web.close()


def wait_healthy(base: str, proc, log, seconds: float = 120) -> None:
    """Wait until the server started as `proc` (output in the open file `log`) answers
    /healthz at `base`; fail with what it printed when it exits or takes too long."""
    import time

    import httpx

    deadline = time.monotonic() + seconds
    while True:
        try:
            if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            log.seek(0)
            pytest.fail(f"server did not start:\n{log.read()}")
        time.sleep(0.3)
