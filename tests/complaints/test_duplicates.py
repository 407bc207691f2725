"""Likely duplicates across channels (GET /api/v1/complaints/{number}/likely-duplicates):
the same customer, the same matter (same category, or the same text), two channels, within
the window; each says which a merge keeps and whether the caller may merge; nothing is
merged until someone asks."""

from __future__ import annotations

from datetime import timedelta

from kesu.clock import BEIJING
from tests.conftest import NOW

PHONE = "13912345678"
BILLING = "本月账单多扣了30元流量费，要求核实退费。"


def _at(days_ago: float) -> str:
    return (NOW - timedelta(days=days_ago)).astimezone(BEIJING).isoformat()


def _new(make_complaint, channel, category, days_ago, phone=PHONE, text=BILLING) -> str:
    return make_complaint(
        channel=channel,
        category=category,
        customer={"phone": phone},
        description=text,
        received_at=_at(days_ago),
    )["number"]


def _dups(client, number, headers=None) -> list[dict]:
    r = client.get(f"/api/v1/complaints/{number}/likely-duplicates", headers=headers or {})
    assert r.status_code == 200, r.text
    return r.json()["items"]


def test_the_same_matter_by_two_channels_is_shown_both_ways(client, make_complaint, as_role):
    a = _new(make_complaint, "hotline", "billing", 2)
    a2 = _new(make_complaint, "hotline", "billing", 1.5)  # the same channel as a
    b = _new(make_complaint, "wechat", "billing", 0)
    # Not duplicates: another matter, outside the window, another customer.
    _new(make_complaint, "web", "network", 1, text="家里宽带每天晚上断网，要求尽快修复。")
    _new(make_complaint, "sms", "billing", 12)
    _new(make_complaint, "app", "billing", 1, phone="13700001111")

    on_b = _dups(client, b)
    assert [d["number"] for d in on_b] == [a, a2]
    first = on_b[0]
    assert (first["channel"], first["reason"], first["keep"], first["merge"]) == (
        "hotline",
        "same_category",
        a,
        b,
    )
    assert first["can_merge"] is True and first["similarity"] == 1.0
    assert [(d["number"], d["keep"], d["merge"]) for d in _dups(client, a)] == [(b, a, b)]
    # An agent sees it too, but may not merge (merge needs complaint.handle).
    assert [d["can_merge"] for d in _dups(client, b, as_role("agent"))] == [False, False]
    # Nothing was merged by itself.
    for n in (a, a2, b):
        assert client.get(f"/api/v1/complaints/{n}").json()["status"] == "registered"


def test_the_same_text_in_two_categories_is_a_likely_duplicate(client, make_complaint):
    a = _new(make_complaint, "hotline", "service", 1)
    b = _new(make_complaint, "app", "billing", 0)
    [d] = _dups(client, b)
    assert d["number"] == a and d["reason"] == "similar_text" and d["similarity"] >= 0.99


def test_merging_as_the_view_says_ends_the_pair(client, make_complaint, act):
    a = _new(make_complaint, "hotline", "billing", 1)
    b = _new(make_complaint, "app", "billing", 0)
    [d] = _dups(client, b)
    act(d["merge"], "merge", into=d["keep"])
    assert client.get(f"/api/v1/complaints/{b}").json()["merged_into"] == a
    assert _dups(client, a) == [] and _dups(client, b) == []
