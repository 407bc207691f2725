"""Fixtures of the page tests: a browser-like client signed in as a new staff user."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient

from kesu.accounts import users
from kesu.app import create_app
from tests.conftest import sign_in

PASSWORD = "password-123456"


@pytest.fixture
def staff_web(rt):
    """staff_web(username, role) → (a client signed in as a new user, its CSRF token)."""
    app = create_app(rt, watcher=False)
    clients: list[TestClient] = []

    def make(name: str, role: str):
        users.create_user(rt, "test", name, role, PASSWORD)
        web = TestClient(app)
        clients.append(web)
        r = sign_in(web, {"username": name, "password": PASSWORD})
        assert r.status_code == 200, r.text
        return web, re.search(r'name="csrf_token" value="([^"]+)"', r.text).group(1)

    yield make
    for web in clients:
        web.close()
