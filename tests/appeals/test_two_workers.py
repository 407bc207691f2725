"""Two officers at once, against `kesu serve --workers 2` (SQLite and PostgreSQL): appeals
received together get distinct numbers, and of two decisions on one appeal exactly one
lands (the row is locked; the other is refused with the appeal's current status)."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import httpx

from kesu.appeals import operators
from tests.appeals.test_api import appeal
from tests.deadlines.test_sla_two_workers import _token, server  # noqa: F401 (fixture)

CONFIRM = {"direct_interest": True, "settled": False, "other_body": False, "other_law": False}


def test_numbers_and_decisions_under_concurrent_officers(server):  # noqa: F811
    base, rt = server
    operators.save(rt, "test", "telecom", "某电信公司", "某路1号")
    headers = _token(rt, "appeal_officer")

    def receive(i: int) -> str:
        body = appeal()
        body["appellant"] = {**body["appellant"], "phone": f"1380013{i:04d}"}
        r = httpx.post(f"{base}/api/v1/appeals", json=body, headers=headers, timeout=30)
        assert r.status_code == 201, r.text
        return r.json()["number"]

    with ThreadPoolExecutor(8) as pool:
        numbers = list(pool.map(receive, range(24)))
    assert len(set(numbers)) == 24

    def decide(action: str) -> httpx.Response:
        params = {"confirm": CONFIRM} if action == "accept" else {"reason": "10-1"}
        return httpx.post(
            f"{base}/api/v1/appeals/{numbers[0]}/transitions",
            json={"action": action, "params": params},
            headers=headers,
            timeout=30,
        )

    with ThreadPoolExecutor(6) as pool:
        answers = list(pool.map(decide, ["accept", "reject"] * 3))
    done = [r for r in answers if r.status_code == 200]
    assert len(done) == 1, [r.text for r in answers]
    assert all(
        r.json()["code"] == "appeal_transition_not_allowed" for r in answers if r not in done
    )
    final = httpx.get(f"{base}/api/v1/appeals/{numbers[0]}", headers=headers).json()
    assert len([e for e in final["history"] if e["type"] != "received"]) == 1
