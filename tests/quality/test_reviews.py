"""Reviews over HTTP: scored on the card, seen by the handler (only theirs), contested
once, decided by a supervisor; refused requests write nothing. Both databases."""

from __future__ import annotations

from sqlalchemy import func, select

from kesu.store import tables as t
from tests.quality.helpers import Floor, all_pass

DAY = {"from": "2026-11-28", "to": "2026-11-28"}


def counts(rt) -> tuple[int, int, int]:
    with rt.engine.connect() as conn:
        return tuple(
            conn.execute(select(func.count()).select_from(x)).scalar_one()
            for x in (t.quality_reviews, t.quality_review_events, t.audit_log)
        )


def review(client, tokens, number: str, **marks) -> dict:
    floor = Floor(client, tokens)
    r = client.post(
        "/api/v1/quality/reviews",
        json={"complaint": number, "marks": all_pass(**marks), "findings": "开头未报工号。"},
        headers=floor.headers("zhou.qc", "quality"),
    )
    assert r.status_code == 201, r.text
    return r.json()


def test_a_review_scores_the_card_and_names_the_handler(rt, client, tokens):
    n = Floor(client, tokens).closed("li.agent")
    got = review(client, tokens, n, courtesy=3, category_correct=False)
    # 15 + 15 + 0 + 15 + 20 + 20 × 3/5 = 77 of 100
    assert (got["handler"], got["reviewer"], got["score"], got["final_score"]) == (
        "li.agent",
        "zhou.qc",
        77.0,
        77.0,
    )
    assert got["state"] == "reviewed" and got["card"]["version"] == 1
    courtesy = next(i for i in got["items"] if i["code"] == "courtesy")
    assert (courtesy["name"], courtesy["mark"], courtesy["earned"]) == ("服务礼貌规范", 3, 12.0)
    assert [h["type"] for h in got["history"]] == ["reviewed"]


def test_a_failed_critical_item_zeroes_the_score(rt, client, tokens):
    n = Floor(client, tokens).closed("li.agent")
    got = review(client, tokens, n, identity_verified=False)
    assert got["score"] == 0.0 and got["critical_failed"] == ["identity_verified"]


def test_bad_input_is_a_problem_and_writes_nothing(rt, client, tokens):
    floor = Floor(client, tokens)
    n = floor.closed("li.agent")
    qc = floor.headers("zhou.qc", "quality")
    r = client.post(
        "/api/v1/complaints",
        json={
            "channel": "hotline",
            "customer": {"phone": "13800001234"},
            "description": "网速很慢，要求处理。",
        },
    )
    still_open = r.json()["number"]
    before = counts(rt)
    bad = [
        ({"complaint": n, "marks": all_pass(courtesy=6)}, 422, "invalid_mark"),
        ({"complaint": n, "marks": all_pass(identity_verified="yes")}, 422, None),
        ({"complaint": n, "marks": {"courtesy": 5}}, 422, "marks_incomplete"),
        ({"complaint": n, "marks": all_pass(smile=True)}, 422, "unknown_mark"),
        ({"complaint": "TS20261128999999", "marks": all_pass()}, 404, "complaint_not_found"),
        ({"complaint": still_open, "marks": all_pass()}, 409, "review_needs_closed_complaint"),
        ({"complaint": n, "marks": all_pass(), "extra": 1}, 422, "unknown_field"),
    ]
    for body, status, code in bad:
        r = client.post("/api/v1/quality/reviews", json=body, headers=qc)
        assert r.status_code == status, (body, r.text)
        assert r.headers["content-type"].startswith("application/problem+json")
        if code:
            assert r.json()["code"] == code, r.text
    # An agent may not review at all.
    r = client.post(
        "/api/v1/quality/reviews",
        json={"complaint": n, "marks": all_pass()},
        headers=floor.headers("li.agent"),
    )
    assert r.status_code == 403 and r.json()["code"] == "forbidden"
    assert counts(rt)[:2] == before[:2]
    review(client, tokens, n)
    r = client.post(
        "/api/v1/quality/reviews", json={"complaint": n, "marks": all_pass()}, headers=qc
    )
    assert r.status_code == 409 and r.json()["code"] == "review_exists"


def test_an_agent_sees_only_their_own_reviews(rt, client, tokens):
    floor = Floor(client, tokens)
    mine = review(client, tokens, floor.closed("li.agent"))
    theirs = review(client, tokens, floor.closed("wang.agent"))
    li = floor.headers("li.agent")
    listed = client.get("/api/v1/quality/reviews", headers=li)
    assert listed.status_code == 200
    assert [x["id"] for x in listed.json()["items"]] == [mine["id"]]
    assert client.get(f"/api/v1/quality/reviews/{mine['id']}", headers=li).status_code == 200
    r = client.get(f"/api/v1/quality/reviews/{theirs['id']}", headers=li)
    assert r.status_code == 403 and r.json()["code"] == "forbidden"
    assert "wang.agent" not in r.text
    r = client.get("/api/v1/quality/reviews", params={"handler": "wang.agent"}, headers=li)
    assert r.status_code == 403
    # The supervisor (quality.read) sees both, and filters.
    every = client.get("/api/v1/quality/reviews").json()["items"]
    assert {x["handler"] for x in every} == {"li.agent", "wang.agent"}
    only = client.get("/api/v1/quality/reviews", params={"handler": "wang.agent", **DAY})
    assert [x["id"] for x in only.json()["items"]] == [theirs["id"]]
    other_day = client.get(
        "/api/v1/quality/reviews", params={"from": "2026-11-27", "to": "2026-11-27"}
    )
    assert other_day.json()["items"] == []


def test_a_review_is_contested_once_and_decided_by_a_supervisor(rt, client, tokens):
    floor = Floor(client, tokens)
    got = review(client, tokens, floor.closed("li.agent"), courtesy=2)
    rid, li = got["id"], floor.headers("li.agent")
    assert got["score"] == 88.0
    # Not the handler: another agent, the reviewer.
    for who in (floor.headers("wang.agent"), floor.headers("zhou.qc", "quality")):
        r = client.post(f"/api/v1/quality/reviews/{rid}/contest", json={"reason": "x"}, headers=who)
        assert r.status_code == 403, r.text
    # Nothing to decide before a contest.
    r = client.post(f"/api/v1/quality/reviews/{rid}/decision", json={"outcome": "rejected"})
    assert r.status_code == 409 and r.json()["code"] == "review_not_contested"
    r = client.post(f"/api/v1/quality/reviews/{rid}/contest", json={"reason": "   "}, headers=li)
    assert r.status_code == 422
    r = client.post(
        f"/api/v1/quality/reviews/{rid}/contest",
        json={"reason": "录音第2分钟已告知办理时限，礼貌用语齐全。"},
        headers=li,
    )
    assert r.status_code == 200, r.text
    assert r.json()["state"] == "contested" and r.json()["can_contest"] is False
    again = client.post(
        f"/api/v1/quality/reviews/{rid}/contest", json={"reason": "再申诉"}, headers=li
    )
    assert again.status_code == 409 and again.json()["code"] == "contest_used"
    # Only a supervisor decides: the agent and the reviewer are refused.
    for who in (li, floor.headers("zhou.qc", "quality")):
        r = client.post(
            f"/api/v1/quality/reviews/{rid}/decision",
            json={"outcome": "upheld", "score": 100},
            headers=who,
        )
        assert r.status_code == 403, r.text
    before = counts(rt)
    for body, code in (
        ({"outcome": "upheld"}, "decision_score_required"),
        ({"outcome": "upheld", "score": 150}, "out_of_range"),
        ({"outcome": "maybe"}, "invalid_value"),
        ({"outcome": "rejected", "by": "me"}, "unknown_field"),
    ):
        r = client.post(f"/api/v1/quality/reviews/{rid}/decision", json=body)
        assert r.status_code == 422 and r.json()["code"] == code, r.text
        assert r.headers["content-type"].startswith("application/problem+json")
    assert counts(rt) == before
    assert client.get(f"/api/v1/quality/reviews/{rid}").json()["state"] == "contested"
    r = client.post(
        f"/api/v1/quality/reviews/{rid}/decision",
        json={"outcome": "upheld", "score": 96, "note": "复听录音，礼貌规范。"},
    )
    assert r.status_code == 200, r.text
    done = r.json()
    assert (done["state"], done["score"], done["final_score"]) == ("upheld", 88.0, 96.0)
    assert done["decision"]["by"] == "t-supervisor"
    assert [h["type"] for h in done["history"]] == ["reviewed", "contested", "upheld"]
    # After the decision: no second contest, no second decision.
    again = client.post(
        f"/api/v1/quality/reviews/{rid}/contest", json={"reason": "再申诉"}, headers=li
    )
    assert again.status_code == 409 and again.json()["code"] == "contest_used"
    r = client.post(f"/api/v1/quality/reviews/{rid}/decision", json={"outcome": "rejected"})
    assert r.status_code == 409
    # The handler sees the score that stands.
    seen = client.get(f"/api/v1/quality/reviews/{rid}", headers=li).json()
    assert seen["final_score"] == 96.0 and seen["decision"]["note"] == "复听录音，礼貌规范。"


def test_a_rejected_contest_keeps_the_score(rt, client, tokens):
    floor = Floor(client, tokens)
    got = review(client, tokens, floor.closed("li.agent"), courtesy=0)
    li = floor.headers("li.agent")
    client.post(
        f"/api/v1/quality/reviews/{got['id']}/contest", json={"reason": "不认可"}, headers=li
    )
    r = client.post(
        f"/api/v1/quality/reviews/{got['id']}/decision",
        json={"outcome": "rejected", "score": 100},
    )
    assert r.status_code == 200 and r.json()["final_score"] == got["score"] == 80.0


def test_person_scores_average_the_standing_scores(rt, client, tokens):
    from datetime import datetime

    from kesu.clock import BEIJING
    from kesu.quality.scores import person_scores

    floor = Floor(client, tokens)
    review(client, tokens, floor.closed("li.agent"), courtesy=4)  # 96
    review(client, tokens, floor.closed("li.agent"), identity_verified=False)  # 0
    review(client, tokens, floor.closed("wang.agent"))  # 100
    start = datetime(2026, 11, 1, tzinfo=BEIJING)
    end = datetime(2026, 12, 1, tzinfo=BEIJING)
    with rt.engine.connect() as conn:
        got = person_scores(conn, start, end)
        before = person_scores(conn, start.replace(month=10), start)
    assert got == {
        "li.agent": {"reviews": 2, "mean_score": 48.0},
        "wang.agent": {"reviews": 1, "mean_score": 100.0},
    }
    assert before == {}


def test_nobody_decides_their_own_contest_and_the_history_cannot_be_rewritten(rt, client, tokens):
    import pytest
    from sqlalchemy import delete, update
    from sqlalchemy.exc import DBAPIError

    floor = Floor(client, tokens)
    # The supervisor handled this complaint: they may contest, another supervisor decides.
    sup = floor.headers("he.sup", "supervisor")
    r = client.post(
        "/api/v1/complaints",
        json={
            "channel": "hotline",
            "customer": {"phone": "13700001111"},
            "description": "宽带每天晚上断网，要求处理。",
        },
    )
    own = r.json()["number"]
    floor.act(own, "accept", sup)
    floor.act(own, "reply", sup, resolution="已更换光猫。")
    floor.act(own, "callback", sup, result="satisfied")
    floor.act(own, "close", sup, root_cause="human_error")
    mine = review(client, tokens, own, courtesy=3)
    assert mine["handler"] == "he.sup"
    r = client.post(
        f"/api/v1/quality/reviews/{mine['id']}/contest", json={"reason": "不认可"}, headers=sup
    )
    assert r.status_code == 200
    before = counts(rt)
    r = client.post(
        f"/api/v1/quality/reviews/{mine['id']}/decision",
        json={"outcome": "upheld", "score": 100},
        headers=sup,
    )
    assert r.status_code == 403 and r.json()["code"] == "forbidden"
    assert counts(rt) == before
    r = client.post(f"/api/v1/quality/reviews/{mine['id']}/decision", json={"outcome": "rejected"})
    assert r.status_code == 200 and r.json()["decision"]["by"] == "t-supervisor"

    E = t.quality_review_events
    for statement in (update(E).values(actor="someone"), delete(E)):
        with pytest.raises(DBAPIError), rt.engine.begin() as conn:
            conn.execute(statement)
    assert counts(rt)[1] == before[1] + 1
