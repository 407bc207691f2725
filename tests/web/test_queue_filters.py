"""The workbench queue filters by team (the admin's team list links to it)."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

from kesu.accounts import users
from kesu.accounts.roles import system
from kesu.app import create_app
from kesu.complaints import transitions
from tests.conftest import sign_in


def test_the_queue_shows_one_teams_open_complaints(rt, make_complaint):
    billing = make_complaint()["number"]
    network = make_complaint()["number"]
    transitions.transition(rt, billing, "transfer", {"team": "billing"}, system())
    transitions.transition(rt, network, "transfer", {"team": "network"}, system())
    users.create_user(rt, "test", "lead", "supervisor", "password-123456")
    with TestClient(create_app(rt, watcher=False)) as web:
        r = sign_in(web, {"username": "lead", "password": "password-123456"})
        assert r.status_code == 200
        page = web.get("/workbench", params={"view": "open", "team": "billing"}).text
        shown = set(re.findall(r'data-number="([^"]+)"', page))
        assert billing in shown and network not in shown
        bad = web.get("/workbench", params={"team": "nosuch"})
        assert bad.status_code == 422 and "未知的班组" in bad.text
