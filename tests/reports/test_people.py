"""People's figures (人员绩效) against a hand-counted set of complaints: two handlers in
two teams, a reopen, an escalation, a late reply, callbacks by phone, one complaint
closed by code; who sees which rows; the xlsx and the page."""

from __future__ import annotations

import io
import re
from datetime import date

import pytest
from fastapi.testclient import TestClient
from openpyxl import load_workbook
from sqlalchemy import select

from kesu.accounts import tokens as token_store
from kesu.accounts import users
from kesu.accounts.roles import for_role
from kesu.app import create_app
from kesu.clock import as_utc
from kesu.complaints import surveys, transitions
from kesu.reports import people
from kesu.reports.people_defs import parse
from kesu.reports.queries import bounds
from kesu.store import tables as t
from tests.conftest import bearer, sign_in
from tests.reports.conftest import bj

PERIOD = ("2026-11-01", "2026-11-27")
CAUSE = {"root_cause": "human_error"}
ALICE = for_role("alice", "handler")
BOB = for_role("bob", "handler")
SUP = for_role("sup", "supervisor")


def _staff(rt) -> dict[str, str]:
    """alice (billing), bob (network), tl (team lead of billing), sup, ann (agent): tokens."""
    made = {}
    for name, role, team in (
        ("alice", "handler", "billing"),
        ("bob", "handler", "network"),
        ("tl", "team_lead", "billing"),
        ("sup", "supervisor", None),
        ("ann", "agent", "billing"),
    ):
        users.create_user(rt, "test", name, role, "password-123456", team=team)
        made[name], _ = token_store.create_token(rt, "test", name, "test", expires_days=30)
    return made


def _go(desk, number, when, who, action, **params):
    desk.clock.now = as_utc(when)
    return transitions.transition(desk.rt, number, action, params, who)


def _handle(desk, number, who, accepted, closed, result="satisfied", reply_at=None):
    """accept at `accepted`; reply (at `reply_at` or `closed`), callback and close at `closed`."""
    _go(desk, number, accepted, who, "accept")
    _go(desk, number, reply_at or closed, who, "reply", resolution="已核实并处理。")
    _go(desk, number, closed, who, "callback", result=result)
    _go(desk, number, closed, who, "close", **CAUSE)


@pytest.fixture
def handled(rt, desk):
    """The set the figures are counted over (hours: closed_at − received_at).

    alice (billing): A1 24 h, satisfied; A2 reopened, 72 h, dissatisfied then satisfied;
                     A3 replied after its 15-day limit, 456 h, basically satisfied.
    bob (network):   B1 escalated, 24 h, dissatisfied; B2 6 h, three unreachable calls;
                     B3 closed on 28 November (outside the period).
    code (billing):  S1 closed by "system", 24 h, satisfied: the team's, nobody's.
    """
    staff = _staff(rt)
    reg = desk.register
    a1 = reg(bj(11, 2), team="billing")
    _handle(desk, a1, ALICE, bj(11, 2, 11), bj(11, 3))
    a2 = reg(bj(11, 4), team="billing")
    _go(desk, a2, bj(11, 4, 11), ALICE, "accept")
    _go(desk, a2, bj(11, 5, 9), ALICE, "reply", resolution="已处理。")
    _go(desk, a2, bj(11, 5, 22), ALICE, "callback", survey={"overall": "dissatisfied"})
    _go(desk, a2, bj(11, 5, 22), ALICE, "close", **CAUSE)
    _go(desk, a2, bj(11, 6), ALICE, "reopen")
    _go(desk, a2, bj(11, 7), ALICE, "reply", resolution="再次核实，已退费。")
    _go(desk, a2, bj(11, 7), ALICE, "callback", result="satisfied")
    _go(desk, a2, bj(11, 7), ALICE, "close", **CAUSE)
    a3 = reg(bj(11, 1), team="billing")
    _handle(desk, a3, ALICE, bj(11, 1, 11), bj(11, 20), "basically_satisfied")
    b1 = reg(bj(11, 10), team="network")
    _go(desk, b1, bj(11, 10, 11), BOB, "accept")
    _go(desk, b1, bj(11, 10, 12), SUP, "escalate")
    _go(desk, b1, bj(11, 11), BOB, "reply", resolution="已修复。")
    _go(desk, b1, bj(11, 11), BOB, "callback", result="dissatisfied")
    _go(desk, b1, bj(11, 11), BOB, "close", **CAUSE)
    b2 = reg(bj(11, 12), team="network")
    _go(desk, b2, bj(11, 12, 11), BOB, "accept")
    _go(desk, b2, bj(11, 12, 12), BOB, "reply", resolution="已修复。")
    for hour in (13, 14, 15):
        _go(desk, b2, bj(11, 12, hour), BOB, "callback", result="unreachable")
    _go(desk, b2, bj(11, 12, 16), BOB, "close", **CAUSE)
    b3 = reg(bj(11, 27), team="network")
    _handle(desk, b3, BOB, bj(11, 27, 11), bj(11, 28, 9))
    s1 = reg(bj(11, 14), team="billing")
    _handle(desk, s1, "system", bj(11, 14, 11), bj(11, 15))
    desk.done()
    return staff, {"a2": a2, "b1": b1}


def _values(row) -> dict:
    return {k: v["value"] for k, v in row["figures"].items()}


def test_the_figures_per_person_and_team_are_the_hand_counted_ones(rt, desk, handled):
    r = people.report(rt, SUP, *map(_day, PERIOD))
    assert r["scope"] == "all"
    assert [f["id"] for f in r["figures"]] == [
        "handled",
        "on_time_rate",
        "first_contact_rate",
        "reopen_rate",
        "satisfaction_rate",
        "handling_hours_avg",
        "quality_score",
    ]
    rows = {p["username"]: p for p in r["people"]}
    assert set(rows) == {"alice", "bob"}  # "system" closed S1: nobody's figure
    assert rows["alice"]["team"] == "billing" and rows["alice"]["team_name"] == "计费核查组"
    assert _values(rows["alice"]) == {
        "handled": 3,
        "on_time_rate": round(2 / 3, 6),
        "first_contact_rate": round(2 / 3, 6),
        "reopen_rate": round(1 / 3, 6),
        "satisfaction_rate": 1.0,
        "handling_hours_avg": 184.0,  # (24 + 72 + 456) / 3
        "quality_score": None,  # nobody reviewed yet
    }
    assert _values(rows["bob"]) == {
        "handled": 2,
        "on_time_rate": 1.0,
        "first_contact_rate": 0.5,
        "reopen_rate": 0.0,
        "satisfaction_rate": 0.0,  # one callback done (dissatisfied), one unreachable
        "handling_hours_avg": 15.0,  # (24 + 6) / 2
        "quality_score": None,
    }
    assert rows["bob"]["figures"]["satisfaction_rate"]["denominator"] == 1
    teams = {tm["team"]: tm for tm in r["teams"]}
    assert teams["billing"]["name"] == "计费核查组"
    assert _values(teams["billing"]) == {
        "handled": 4,
        "on_time_rate": 0.75,
        "first_contact_rate": 0.75,
        "reopen_rate": 0.25,
        "satisfaction_rate": 1.0,
        "handling_hours_avg": 144.0,  # (552 + 24) / 4
        "quality_score": None,
    }
    assert _values(teams["network"]) == _values(rows["bob"])


def test_the_survey_keeps_each_round_and_finds_the_dissatisfied(rt, handled):
    _, numbers = handled
    lo, hi = bounds(*map(_day, PERIOD))
    with rt.engine.connect() as conn:
        # A2's first round was dissatisfied (answered 5 November), B1's on 11 November.
        assert surveys.dissatisfied_between(conn, lo, hi) == [numbers["a2"], numbers["b1"]]
        a2 = surveys.of_complaint(conn, _id(conn, numbers["a2"]))
    assert [(s["round"], s["overall"]) for s in a2] == [(1, "satisfied"), (0, "dissatisfied")]


def test_each_caller_sees_their_rows(rt, handled):
    staff, _ = handled
    with TestClient(create_app(rt, watcher=False)) as web:

        def ask(name, suffix=""):
            return web.get(
                f"/api/v1/reports/people{suffix}",
                params={"from": PERIOD[0], "to": PERIOD[1]},
                headers=bearer(staff[name]),
            )

        everyone = ask("sup").json()
        assert {p["username"] for p in everyone["people"]} == {"alice", "bob"}
        mine = ask("bob").json()
        assert mine["scope"] == "own" and mine["teams"] == []
        assert [p["username"] for p in mine["people"]] == ["bob"]
        assert (
            mine["people"][0]["figures"]
            == next(p for p in everyone["people"] if p["username"] == "bob")["figures"]
        )
        # An agent who closed nothing sees their own (empty) row, nobody else's.
        ann = ask("ann").json()
        assert [(p["username"], _values(p)["handled"]) for p in ann["people"]] == [("ann", 0)]
        lead = ask("tl").json()
        assert lead["scope"] == "team"
        assert [p["username"] for p in lead["people"]] == ["alice"]
        assert [tm["team"] for tm in lead["teams"]] == ["billing"]
        # The export holds what the caller may see, nothing more.
        book = load_workbook(io.BytesIO(ask("bob", ".xlsx").content))
        names = [row[0] for row in book["人员"].iter_rows(min_row=2, values_only=True)]
        assert names == ["bob"] and book["班组"].max_row == 1
        full = load_workbook(io.BytesIO(ask("sup", ".xlsx").content))
        sheet = {r[0]: r for r in full["人员"].iter_rows(min_row=2, values_only=True)}
        assert sheet["alice"][3:] == (
        3, round(2 / 3, 6), round(2 / 3, 6), round(1 / 3, 6), 1, 184, None
    )  # fmt: skip
        assert "办结量" in [c.value for c in full["口径"]["A"]]
        # A role without people's figures is refused.
        users.create_user(rt, "test", "aud", "appeal_officer", "password-123456")
        tok, _ = token_store.create_token(rt, "test", "aud", "test", expires_days=30)
        refused = web.get("/api/v1/reports/people", headers=bearer(tok))
        assert refused.status_code == 403


def test_the_page_shows_the_table_and_bars(rt, handled):
    with TestClient(create_app(rt, watcher=False)) as web:
        assert sign_in(web, {"username": "sup", "password": "password-123456"}).is_success
        page = web.get("/reports/people", params={"start": PERIOD[0], "end": PERIOD[1]})
        assert page.status_code == 200
        alice = re.search(r'<tr data-person="alice">(.*?)</tr>', page.text, re.S).group(1)
        assert "66.7%" in alice and "184.00" in alice and 'class="bar"' in alice
        assert 'data-team="billing"' in page.text and "人员绩效" in page.text
        en = web.get("/reports/people", params={"start": PERIOD[0], "lang": "en"}).text
        assert "People's figures" in en or "People&#39;s figures" in en
        assert "First-contact resolution" in en
        web.cookies.clear()
        assert sign_in(web, {"username": "bob", "password": "password-123456"}).is_success
        own = web.get("/reports/people", params={"start": PERIOD[0], "end": PERIOD[1]}).text
        assert 'data-person="bob"' in own and 'data-person="alice"' not in own


def test_the_quality_score_is_the_mean_of_the_persons_reviews(rt, handled):
    """Quality reviews (kesu.quality) of alice's complaints closed in the period: one
    perfect, one with a critical item failed (0): her score 50.0 of 2 reviews; the team's
    the same; bob, never reviewed, none."""
    from kesu.quality import reviews

    _, numbers = handled
    users.create_user(rt, "test", "qa", "quality", "password-123456")
    perfect = {
        "time_limit_told": True,
        "identity_verified": True,
        "category_correct": True,
        "article_cited": True,
        "replied_in_time": True,
        "courtesy": 5,
    }
    reviews.create(rt, "qa", {"complaint": numbers["a2"], "marks": perfect})
    with rt.engine.connect() as conn:
        a1 = (
            conn.execute(
                select(t.complaints.c.number)
                .where(t.complaints.c.status == "closed", t.complaints.c.assignee == "alice")
                .where(t.complaints.c.number != numbers["a2"])
                .order_by(t.complaints.c.id)
            )
            .scalars()
            .first()
        )
    reviews.create(rt, "qa", {"complaint": a1, "marks": {**perfect, "identity_verified": False}})
    r = people.report(rt, SUP, *map(_day, PERIOD))
    rows = {p["username"]: p for p in r["people"]}
    assert rows["alice"]["figures"]["quality_score"] == {
        "value": 50.0,
        "numerator": None,
        "denominator": 2,
    }
    assert rows["bob"]["figures"]["quality_score"]["value"] is None
    teams = {tm["team"]: tm for tm in r["teams"]}
    assert teams["billing"]["figures"]["quality_score"]["value"] == 50.0


def test_the_definitions_are_data_and_checked():
    good = {
        "population": {"kinds": ["complaint"]},
        "figures": [
            {"id": fid, "name": fid, "unit": "count", "definition": "x"}
            for fid in ("handled", "on_time_rate", "reopen_rate")
        ],
    }
    with pytest.raises(ValueError, match="must define each"):
        parse(good)
    defs = people.definitions()
    assert defs.figure("handling_hours_avg").params["clock"] == "calendar"
    assert all(f.definition for f in defs.figures)


def _day(text: str) -> date:
    return date.fromisoformat(text)


def _id(conn, number: str) -> int:
    return conn.execute(select(t.complaints.c.id).where(t.complaints.c.number == number)).scalar()
