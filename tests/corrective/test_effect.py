"""The effect of a closed action against a hand-made history: complaints of its cause (and
category) received week by week before it was opened and after it was closed, counted
and compared; the regulator report's top causes with their actions."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest

from kesu.accounts.roles import system
from kesu.channels import intake
from kesu.clock import BEIJING, as_utc
from kesu.complaints.schemas import ComplaintIn
from kesu.corrective import effect
from kesu.corrective.views import top_causes_with_actions
from kesu.store.db import read

OPENED = datetime(2026, 9, 1, 10, 0, tzinfo=BEIJING)
CLOSED = datetime(2026, 10, 1, 10, 0, tzinfo=BEIJING)


def _history(rt, rows: list[tuple[datetime, str, str]]) -> None:
    """Historical complaints (received, cause, category), each closed a day later."""
    items, extras = [], []
    for i, (received, cause, category) in enumerate(rows):
        items.append(
            ComplaintIn.model_validate(
                {
                    "channel": "hotline",
                    "customer": {"phone": f"1380000{i:04d}", "province": "广东省"},
                    "description": "用户反映套餐变更后被重复扣费，要求退还。",
                    "category": category,
                    "received_at": as_utc(received),
                }
            )
        )
        closed = {"closed_at": as_utc(received + timedelta(days=1)), "resolution": "已退费"}
        extras.append(
            {"idempotency_key": f"fixture:{i}", "closed": {**closed, "root_cause": cause}}
        )
    intake.receive_many(rt, items, system(), extras)


def _week(start: datetime, week: int, day: int = 2) -> datetime:
    return start + timedelta(days=7 * week + day)


@pytest.fixture
def history(rt):
    assert effect.config()["effect_weeks"] == 4  # the fixture is laid out for four weeks
    before = OPENED - timedelta(days=28)
    rows = []
    # Before the opening: 2, 1, 3, 0 complaints of the group in its four weeks.
    for week, n in enumerate((2, 1, 3, 0)):
        rows += [(_week(before, week, d), "system_fault", "billing") for d in range(n)]
    # After the closing: 1, 0, 1, 0.
    for week, n in enumerate((1, 0, 1, 0)):
        rows += [(_week(CLOSED, week, d), "system_fault", "billing") for d in range(n)]
    # Not of the group, or outside both windows.
    rows += [
        (_week(before, 1), "human_error", "billing"),
        (_week(before, 2), "system_fault", "network"),
        (_week(CLOSED, 0), "human_error", "billing"),
        (OPENED + timedelta(days=10), "system_fault", "billing"),  # while it was worked on
        (before - timedelta(days=3), "system_fault", "billing"),  # a week too early
        (CLOSED + timedelta(days=29), "system_fault", "billing"),  # a week too late
    ]
    _history(rt, rows)


def test_the_effect_of_a_closed_action_fell(rt, client, tokens, clock, history):
    tokens("handler")
    clock.now = as_utc(OPENED)
    r = client.post(
        "/api/v1/corrective-actions",
        json={
            "title": "套餐变更重复扣费",
            "description": "修复计费规则",
            "owner": "t-handler",
            "due_on": "2026-09-30",
            "group": {"root_cause": "system_fault", "category": "billing"},
        },
    )
    assert r.status_code == 201, r.text
    a = r.json()
    assert a["effect"] is None  # not closed: no effect yet
    clock.now = as_utc(CLOSED)
    closed = client.post(
        f"/api/v1/corrective-actions/{a['id']}/transitions",
        json={"action": "close", "outcome": "计费规则已修复"},
    ).json()
    early = closed["effect"]
    assert early["complete"] is False and early["fell"] is None
    assert "暂不判断" in early["statement"]
    clock.now = as_utc(CLOSED + timedelta(days=28))
    e = client.get(f"/api/v1/corrective-actions/{a['id']}").json()["effect"]
    assert [w["complaints"] for w in e["before"]] == [2, 1, 3, 0]
    assert [w["complaints"] for w in e["after"]] == [1, 0, 1, 0]
    assert (e["before_total"], e["after_total"], e["complete"], e["fell"]) == (6, 2, True, True)
    assert e["before"][0]["from"] == "2026-08-04" and e["before"][-1]["to"] == "2026-09-01"
    assert e["after"][0]["from"] == "2026-10-01" and e["after"][-1]["to"] == "2026-10-29"
    assert e["statement"] == (
        "原因“系统故障”、分类“资费计费”：整改前4周6件，整改后4周2件，下降了。"
    )


def test_a_cause_alone_counts_every_category_and_did_not_fall(rt, client, tokens, clock, history):
    tokens("handler")
    clock.now = as_utc(OPENED)
    body = {
        "title": "系统故障类投诉整改",
        "description": "全面排查",
        "owner": "t-handler",
        "due_on": "2026-09-30",
        "group": {"root_cause": "system_fault"},
    }
    i = client.post("/api/v1/corrective-actions", json=body).json()["id"]
    clock.now = as_utc(CLOSED)
    client.post(
        f"/api/v1/corrective-actions/{i}/transitions", json={"action": "close", "outcome": "完成"}
    )
    clock.now = as_utc(CLOSED + timedelta(days=60))
    e = client.get(f"/api/v1/corrective-actions/{i}").json()["effect"]
    # The network complaint of week 2 counts now: 2, 1, 4, 0 before.
    assert [w["complaints"] for w in e["before"]] == [2, 1, 4, 0]
    assert e["after_total"] == 2 and e["fell"] is True


def test_judge_says_did_not_fall_when_after_is_not_lower():
    spans_b, spans_a = effect.spans(as_utc(OPENED), as_utc(CLOSED), 2)
    out = effect.judge(
        {"category": "billing"},
        spans_b,
        [1, 2],
        spans_a,
        [2, 1],
        as_utc(CLOSED) + timedelta(days=30),
    )
    assert out["fell"] is False
    assert out["statement"] == "分类“资费计费”：整改前2周3件，整改后2周3件，没有下降。"


def test_top_causes_of_a_period_with_their_actions(rt, client, tokens, clock, history):
    tokens("handler")
    clock.now = as_utc(OPENED)
    made = []
    for cause, title in (("system_fault", "计费修复"), ("human_error", "话术培训")):
        r = client.post(
            "/api/v1/corrective-actions",
            json={
                "title": title,
                "description": "整改",
                "owner": "t-handler",
                "due_on": "2026-09-30",
                "group": {"root_cause": cause},
            },
        )
        made.append(r.json()["id"])
    clock.now = as_utc(CLOSED + timedelta(days=60))
    with read(rt.engine) as conn:
        # Closed in August 2026 (a day after receipt): 2 + 1 + 3 of the group, the
        # network one and the early one are system_fault (8); one human_error.
        top = top_causes_with_actions(conn, date(2026, 8, 1), date(2026, 8, 31), 5)
        none = top_causes_with_actions(conn, date(2025, 1, 1), date(2025, 1, 31), 5)
    assert none == []
    assert [(x["root_cause"], x["complaints"]) for x in top] == [
        ("system_fault", 8),
        ("human_error", 1),
    ]
    assert top[0]["name"] == "系统故障"
    assert top[0]["actions"] == [{"id": made[0], "title": "计费修复", "state": "open"}]
    assert top[1]["actions"] == [{"id": made[1], "title": "话术培训", "state": "open"}]
    # An action closed before a period began is not that period's.
    clock.now = as_utc(OPENED + timedelta(days=1))
    r = client.post(
        f"/api/v1/corrective-actions/{made[1]}/transitions",
        json={"action": "close", "outcome": "培训完成"},
    )
    assert r.status_code == 200, r.text
    with read(rt.engine) as conn:
        october = top_causes_with_actions(conn, date(2026, 10, 1), date(2026, 10, 31), 5)
    by = {x["root_cause"]: x for x in october}
    assert by["human_error"]["complaints"] == 1 and by["human_error"]["actions"] == []
    assert [a["id"] for a in by["system_fault"]["actions"]] == [made[0]]
