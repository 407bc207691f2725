"""One incident per burst with requests sent at once to a real server with two worker
processes (`kesu serve --workers 2`): twelve registrations of one cell, each of which
decides the spike, open one incident and all join it. SQLite and PostgreSQL."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta

import httpx
import pytest
from sqlalchemy import select

from kesu.accounts.tokens import create_token
from kesu.accounts.users import create_user
from kesu.clock import BEIJING
from kesu.store import tables as t
from tests.conftest import DATABASES
from tests.incidents import intake
from tests.incidents.background import Arrival
from tests.two_workers import serving


@pytest.fixture(params=DATABASES)
def server(request, tmp_path):
    with serving(request.param, tmp_path) as running:
        yield running


def _body(phone: str) -> dict:
    return {
        "channel": "hotline",
        "category": "network",
        "customer": {"phone": phone, "province": "河南省", "city": "周口市"},
        "description": "小区宽带从上午开始全部中断，光猫红灯闪烁，要求尽快抢修。",
    }


def test_a_spike_sent_at_once_to_two_workers_opens_one_incident(server):
    base, rt = server
    now = datetime.now(BEIJING)
    # Ten days of history elsewhere (nothing from 周口市: its floor rate is expected).
    past = [
        Arrival(now - timedelta(days=d), "billing", "河南省", "郑州市", f"1360000{d:04d}")
        for d in range(1, 11)
    ]
    intake.history(rt, past)
    create_user(rt, "test", "desk", "supervisor", "password-123456")
    token, _ = create_token(rt, "test", "desk", "test", expires_days=1)
    headers = {"Authorization": f"Bearer {token}"}
    # Four first (fewer than the minimum count: no incident) …
    for i in range(4):
        r = httpx.post(f"{base}/api/v1/complaints", json=_body(f"1350000000{i}"), headers=headers)
        assert r.status_code == 201, r.text
    assert httpx.get(f"{base}/api/v1/incidents", headers=headers).json()["items"] == []

    # … then twelve at once, each on its own connection.
    def send(i: int) -> httpx.Response:
        phone = f"1351111{i:04d}"
        return httpx.post(
            f"{base}/api/v1/complaints", json=_body(phone), headers=headers, timeout=60
        )

    with ThreadPoolExecutor(max_workers=12) as pool:
        answers = list(pool.map(send, range(12)))
    assert [r.status_code for r in answers] == [201] * 12, [r.text for r in answers]
    [incident] = httpx.get(f"{base}/api/v1/incidents", headers=headers).json()["items"]
    assert incident["area"] == "周口市" and incident["state"] == "open"
    assert {r.json()["number"] for r in answers} <= set(incident["complaints"])
    assert len(incident["complaints"]) == 16
    with rt.engine.connect() as conn:
        opened = conn.execute(
            select(t.incident_events).where(t.incident_events.c.type == "opened")
        ).all()
    assert len(opened) == 1
