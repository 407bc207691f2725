"""The appeal's two clocks on the official calendar (2026: 中秋 Friday 09-25, National
Day 10-01 to 10-07, make-up working days Sunday 09-20 and Saturday 10-10):

- the acceptance decision, 5 working days from the complete materials (申诉处理办法
  第十四条), the day they arrive not counted (民法典 第二百零一条);
- the answer, 30 days from receipt (电信条例 第三十九条), a last day on a rest day moved
  to the next working day (民法典 第二百零三条)."""

from __future__ import annotations

from datetime import datetime

import pytest

from kesu.clock import BEIJING
from tests.appeals.test_api import appeal
from tests.conftest import bearer


def bj(*args: int) -> datetime:
    return datetime(*args, tzinfo=BEIJING)


@pytest.fixture
def centre(client, tokens):
    client.headers.update(bearer(tokens("appeal_supervisor")))
    r = client.put(
        "/api/v1/appeal-operators/telecom", json={"name": "某电信公司", "address": "某路1号"}
    )
    assert r.status_code == 200, r.text
    return client


def due(view: dict, rule: str) -> str | None:
    found = next(d for d in view["deadlines"] if d["rule"] == rule)
    return found["due_at"][:10] if found["due_at"] else None


def received(centre, clock, at: datetime, **over) -> dict:
    clock.now = at
    body = appeal(occurred_at="2026-08-20", complained_at="2026-09-01", **over)
    body["operator_answered_at"] = "2026-09-05"
    r = centre.post("/api/v1/appeals", json=body)
    assert r.status_code == 201, r.text
    return r.json()


def test_five_working_days_skip_national_day_and_count_the_make_up_saturday(centre, clock):
    # Tue 09-29: 09-30 (1), 10-01..07 holiday, Thu 10-08 (2), Fri 10-09 (3),
    # Sat 10-10 worked (4), Mon 10-12 (5).
    a = received(centre, clock, bj(2026, 9, 29, 15, 0))
    assert due(a, "appeal_accept_5wd") == "2026-10-12"


def test_the_make_up_sunday_counts_as_a_working_day(centre, clock):
    # Fri 09-18: Sat 09-19 rest, Sun 09-20 worked (1), 09-21 (2), 09-22 (3), 09-23 (4),
    # Thu 09-24 (5); without the make-up day it would run to Mon 09-28 (09-25 is 中秋).
    a = received(centre, clock, bj(2026, 9, 18, 9, 0))
    assert due(a, "appeal_accept_5wd") == "2026-09-24"


def test_thirty_days_ending_on_a_rest_day_move_to_the_next_working_day(centre, clock):
    # 09-25 + 30 = Sun 10-25 → Mon 10-26.
    a = received(centre, clock, bj(2026, 9, 25, 9, 0))
    assert due(a, "appeal_reply_30d") == "2026-10-26"
    # 09-05 + 30 = Mon 10-05, inside National Day → the first working day, Thu 10-08.
    a = received(centre, clock, bj(2026, 9, 5, 11, 0))
    assert due(a, "appeal_reply_30d") == "2026-10-08"


def test_the_acceptance_clock_starts_with_the_complete_materials(centre, clock):
    body_over = {"appellant": {"name": "李四", "phone": "13900001111", "address": "某街3号"}}
    a = received(centre, clock, bj(2026, 9, 25, 9, 0), **body_over)
    assert a["status"] == "awaiting_materials"
    assert due(a, "appeal_accept_5wd") is None
    clock.now = bj(2026, 9, 29, 10, 0)  # the postcode arrives four days later
    r = centre.post(
        f"/api/v1/appeals/{a['number']}/transitions",
        json={"action": "supplement", "params": {"appellant.postcode": "450000"}},
    )
    b = r.json()
    assert b["status"] == "reviewing"
    assert due(b, "appeal_accept_5wd") == "2026-10-12"  # from 09-29, not 09-25
    assert due(b, "appeal_reply_30d") == "2026-10-26"  # still from receipt
    kinds = [e["type"] for e in b["history"]]
    assert kinds == ["received", "materials_supplemented"]
    assert b["history"][1]["data"]["complete"] is True


def test_a_late_decision_shows_as_late(centre, clock):
    a = received(centre, clock, bj(2026, 9, 29, 15, 0))
    clock.now = bj(2026, 10, 13, 9, 0)
    view = centre.get(f"/api/v1/appeals/{a['number']}").json()
    accept = next(d for d in view["deadlines"] if d["rule"] == "appeal_accept_5wd")
    assert accept["state"] == "breached" and view["overdue"] is True
    confirm = {"direct_interest": True, "settled": False, "other_body": False, "other_law": False}
    r = centre.post(
        f"/api/v1/appeals/{a['number']}/transitions",
        json={"action": "accept", "params": {"confirm": confirm}},
    )
    assert r.status_code == 200, r.text
    accept = next(d for d in r.json()["deadlines"] if d["rule"] == "appeal_accept_5wd")
    assert accept["state"] == "met_late"
