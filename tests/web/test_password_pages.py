"""A user made with a one-time password sets their own before anything else."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

from kesu.accounts import users
from kesu.app import create_app
from tests.conftest import sign_in


def _csrf(html: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]*)"', html).group(1)


def test_a_one_time_password_must_be_replaced_first(rt):
    _, one_time = users.create_user(rt, "test", "new.agent", "agent")
    with TestClient(create_app(rt, watcher=False)) as web:
        r = sign_in(
            web,
            {"username": "new.agent", "password": one_time},
            follow_redirects=False,
        )
        assert r.headers["location"] == "/account/password"
        # Every other page sends them back here until it is done.
        r = web.get("/workbench", follow_redirects=False)
        assert r.status_code == 303 and r.headers["location"] == "/account/password"
        form = web.get("/account/password")
        assert "一次性密码" in form.text
        csrf = _csrf(form.text)
        bad = web.post(
            "/account/password",
            data={"csrf_token": csrf, "old": one_time, "new": "a-new-secret-1", "confirm": "x"},
        )
        assert bad.status_code == 422 and "不一致" in bad.text
        wrong = web.post(
            "/account/password",
            data={
                "csrf_token": csrf,
                "old": "nope",
                "new": "a-new-secret-1",
                "confirm": "a-new-secret-1",
            },
        )
        assert wrong.status_code == 422 and "原密码不正确" in wrong.text
        done = web.post(
            "/account/password",
            data={
                "csrf_token": csrf,
                "old": one_time,
                "new": "a-new-secret-1",
                "confirm": "a-new-secret-1",
            },
            follow_redirects=False,
        )
        assert done.status_code == 303 and done.headers["location"] == "/workbench"
        assert web.get("/workbench").status_code == 200
    # The old password no longer signs in; the new one does.
    with TestClient(create_app(rt, watcher=False)) as web:
        old = sign_in(web, {"username": "new.agent", "password": one_time})
        assert old.status_code == 401
        new = sign_in(
            web,
            {"username": "new.agent", "password": "a-new-secret-1"},
            follow_redirects=False,
        )
        assert new.headers["location"] == "/workbench"
