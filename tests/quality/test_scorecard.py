"""The scorecard's arithmetic (pure): weights, points, critical items, rounding, versions."""

from __future__ import annotations

import pytest

from kesu.quality import scorecard as sc
from tests.quality.helpers import all_pass


def card(*items: dict, version: int = 1) -> sc.Card:
    return sc.parse({"versions": [{"version": version, "name": "测试", "items": list(items)}]})[
        version
    ]


def test_the_packaged_card_scores_full_marks_100():
    c = sc.current()
    assert sc.score(c, all_pass()).score == 100.0
    assert {i.code for i in c.items if i.critical} == {"identity_verified", "replied_in_time"}


def test_weights_decide_each_items_share():
    c = card(
        {"code": "a", "name": "甲", "weight": 1, "kind": "pass_fail"},
        {"code": "b", "name": "乙", "weight": 3, "kind": "pass_fail"},
    )
    assert sc.score(c, {"a": True, "b": False}).score == 25.0
    assert sc.score(c, {"a": False, "b": True}).score == 75.0


def test_points_are_the_fraction_of_the_weight():
    c = card(
        {"code": "a", "name": "甲", "weight": 50, "kind": "pass_fail"},
        {"code": "p", "name": "礼貌", "weight": 50, "kind": "points", "max": 4},
    )
    r = sc.score(c, {"a": True, "p": 1})
    assert r.score == 62.5 and r.earned["p"] == (1, 12.5)


def test_a_failed_critical_item_zeroes_the_score_whatever_else():
    c = card(
        {"code": "id", "name": "核实身份", "weight": 1, "kind": "pass_fail", "critical": True},
        {"code": "b", "name": "乙", "weight": 99, "kind": "pass_fail"},
    )
    r = sc.score(c, {"id": False, "b": True})
    assert (r.score, r.critical_failed) == (0.0, ("id",))
    assert sc.score(c, {"id": True, "b": False}).score == 1.0


def test_rounding_is_half_up_to_one_decimal():
    # 2/3 of 100 = 66.666… → 66.7; 1/8 of 100 = 12.5 stays; 1/16 = 6.25 → 6.3 (half up).
    three = card(*({"code": c, "name": c, "weight": 1} for c in "abc"))
    assert sc.score(three, {"a": True, "b": True, "c": False}).score == 66.7
    points = card({"code": "p", "name": "分", "weight": 1, "kind": "points", "max": 16})
    assert sc.score(points, {"p": 1}).score == 6.3
    assert sc.round_half_up_float(84.45) == 84.5


@pytest.mark.parametrize(
    ("marks", "code"),
    [
        ({"a": True}, "marks_incomplete"),
        ({"a": True, "p": 2, "z": True}, "unknown_mark"),
        ({"a": 1, "p": 2}, "invalid_mark"),
        ({"a": True, "p": 5}, "invalid_mark"),
        ({"a": True, "p": -1}, "invalid_mark"),
        ({"a": True, "p": True}, "invalid_mark"),
    ],
)
def test_marks_that_do_not_fit_the_card_are_refused(marks, code):
    c = card(
        {"code": "a", "name": "甲", "weight": 1},
        {"code": "p", "name": "礼貌", "weight": 1, "kind": "points", "max": 4},
    )
    with pytest.raises(sc.MarkError) as err:
        sc.score(c, marks)
    assert err.value.code == code


@pytest.mark.parametrize(
    "item",
    [
        {"code": "a", "name": "甲", "weight": 0},
        {"code": "a", "name": "甲", "weight": 1, "kind": "stars"},
        {"code": "a", "name": "甲", "weight": 1, "kind": "points", "max": 3, "critical": True},
        {"code": "a", "name": "", "weight": 1},
    ],
)
def test_a_bad_card_is_refused_at_load(item):
    with pytest.raises(sc.CardError):
        card(item)


def test_an_old_version_keeps_its_items():
    data = {
        "versions": [
            {"version": 1, "name": "旧", "items": [{"code": "a", "name": "甲", "weight": 1}]},
            {"version": 2, "name": "新", "items": [{"code": "b", "name": "乙", "weight": 1}]},
        ]
    }
    cards = sc.parse(data)
    assert [i.code for i in cards[1].items] == ["a"]
    assert sc.score(cards[1], {"a": True}).score == 100.0
    with pytest.raises(sc.CardError):
        sc.parse({"versions": [data["versions"][0], data["versions"][0]]})
