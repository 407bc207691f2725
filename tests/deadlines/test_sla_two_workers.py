"""A policy changed through one worker of `kesu serve --workers 2` applies to the next
registration in either worker (the policies' version is read per registration, no
per-process copy goes stale). SQLite and, with KESU_TEST_DATABASE_URL, PostgreSQL."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta

import httpx
import pytest

from kesu.accounts.tokens import create_token
from kesu.accounts.users import create_user
from tests.conftest import DATABASES, complaint_body
from tests.two_workers import serving

SCOPE = {"kind": "complaint", "category": "billing", "priority": "urgent"}


@pytest.fixture(params=DATABASES)
def server(request, tmp_path):
    with serving(request.param, tmp_path) as running:
        yield running


def _token(rt, role: str) -> dict[str, str]:
    create_user(rt, "test", f"w-{role}", role, "password-123456")
    token, _ = create_token(rt, "test", f"w-{role}", "test", expires_days=1)
    return {"Authorization": f"Bearer {token}"}


def _urgent_reply_spans(base: str, headers: dict[str, str], n: int) -> list[timedelta]:
    """Register n urgent billing complaints at once (each on its own connection, so both
    workers take some) and return each one's urgent-reply period."""

    def one(i: int) -> timedelta:
        body = complaint_body(**SCOPE, customer={"phone": f"1390000{i:04d}"})
        r = httpx.post(f"{base}/api/v1/complaints", json=body, headers=headers, timeout=60)
        assert r.status_code == 201, r.text
        view = r.json()
        (d,) = [d for d in view["deadlines"] if d["rule"] == "sla_urgent_reply_2wd"]
        return datetime.fromisoformat(d["due_at"]) - datetime.fromisoformat(view["received_at"])

    with ThreadPoolExecutor(max_workers=n) as pool:
        return list(pool.map(one, range(n)))


def test_a_change_applies_to_the_next_registration_in_either_worker(server):
    base, rt = server
    staff, admin = _token(rt, "supervisor"), _token(rt, "admin")
    assert httpx.get(f"{base}/api/v1/sla-policies", headers=admin).json()["version"] == 4
    before = _urgent_reply_spans(base, staff, 8)  # both workers have read the policies
    assert all(span > timedelta(hours=24) for span in before)  # two working days
    r = httpx.post(
        f"{base}/api/v1/sla-policies",
        json={"rule": "sla_urgent_reply_2wd", **SCOPE, "length": 3, "unit": "hours"},
        headers=admin,
        timeout=60,
    )
    assert r.status_code == 201, r.text
    after = _urgent_reply_spans(base, staff, 8)
    assert after == [timedelta(hours=3)] * 8
