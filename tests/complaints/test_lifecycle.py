from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kesu.complaints import lifecycle as lc
from kesu.complaints import vocabulary as vocab

NOW = datetime(2026, 11, 28, 2, 0, tzinfo=UTC)
POLICY = lc.Policy(
    approval_threshold=Decimal("100"),
    reopen_days=30,
    callback_max_attempts=3,
    approval_flags=vocab.APPROVAL_FLAGS,
    validity_reasons=frozenset(vocab.VALIDITY_REASONS),
    teams=frozenset(vocab.TEAMS),
    risk_flags=frozenset(vocab.RISK_FLAGS),
    root_causes=frozenset(vocab.CLOSING_CAUSES),
)


def state(**kw):
    base = {"status": "registered", "kind": "complaint", "number": "TS20261128000001"}
    base.update(kw)
    return lc.State(**base)


def decide(s, action, **params):
    return lc.decide(s, action, params, POLICY, NOW)


def test_happy_path_registered_to_closed():
    s = state()
    for action, params, expected in [
        ("accept", {}, "accepted"),
        ("investigate", {}, "investigating"),
        ("propose", {"resolution": "退还多收的30元"}, "proposed"),
        ("reply", {}, "replied"),
        ("callback", {"result": "satisfied"}, "callback"),
        ("close", {"root_cause": "human_error"}, "closed"),
    ]:
        out = lc.decide(s, action, params, POLICY, NOW)
        assert out.status == expected
        s = lc.State(
            **{
                **s.__dict__,
                "status": out.status,
                **{k: v for k, v in out.changes.items() if k in lc.State.__dataclass_fields__},
            }
        )


def test_reply_needs_a_resolution_text():
    with pytest.raises(lc.BadInput) as err:
        decide(state(status="investigating"), "reply")
    assert err.value.code == "resolution_required"
    with pytest.raises(lc.BadInput):
        decide(state(status="investigating"), "reply", resolution="   ")
    assert decide(state(status="investigating"), "reply", resolution="已退费").status == "replied"


def test_approval_required_above_threshold_or_with_legal_risk():
    big = state(status="proposed", resolution="赔偿200元", compensation=Decimal("200"))
    with pytest.raises(lc.NotAllowed) as err:
        decide(big, "reply")
    assert err.value.code == "approval_required"
    assert "reply" not in lc.allowed_actions(big, POLICY, NOW)
    assert (
        decide(
            state(status="approved", resolution="x", compensation=Decimal("200")), "reply"
        ).status
        == "replied"
    )
    at_threshold = state(status="proposed", resolution="x", compensation=Decimal("100"))
    assert decide(at_threshold, "reply").status == "replied"
    legal = state(status="proposed", resolution="x", risk_flags=frozenset({"legal"}))
    with pytest.raises(lc.NotAllowed):
        decide(legal, "reply")
    # A large amount given at reply time also needs approval first.
    with pytest.raises(lc.NotAllowed):
        decide(state(status="investigating"), "reply", resolution="x", compensation="500")


def test_close_needs_a_callback_result_or_three_failed_attempts():
    replied = state(status="replied", resolution="x", replied_at=NOW)
    with pytest.raises(lc.NotAllowed) as err:
        decide(replied, "close")
    assert err.value.code == "callback_required"
    out = decide(replied, "callback", result="unreachable")
    assert out.status == "replied" and out.changes["callback_attempts"] == 1
    tried = state(status="replied", callback_attempts=3)
    assert decide(tried, "close", root_cause="network_fault").status == "closed"
    with pytest.raises(lc.NotAllowed):
        decide(state(status="replied", callback_attempts=2), "close")
    with pytest.raises(lc.BadInput):
        decide(replied, "callback", result="happy")


def test_close_needs_a_root_cause_given_now_or_recorded_before():
    called = state(status="callback", resolution="x", callback_result="satisfied")
    with pytest.raises(lc.BadInput) as err:
        decide(called, "close")
    assert err.value.code == "root_cause_required"
    assert "root_cause" in err.value.detail and "原因" in err.value.detail
    out = decide(called, "close", root_cause="system_fault")
    assert out.status == "closed" and out.changes["root_cause"] == "system_fault"
    # One recorded when the resolution was proposed is kept; a new one replaces it.
    proposed = state(status="callback", root_cause="reseller")
    assert decide(proposed, "close").changes["root_cause"] == "reseller"
    assert decide(proposed, "close", root_cause="policy").changes["root_cause"] == "policy"
    # An import's 未记录 is not a cause a person closes with, nor one they may choose.
    historical = state(status="callback", root_cause=vocab.UNKNOWN_CAUSE)
    with pytest.raises(lc.BadInput) as err:
        decide(historical, "close")
    assert err.value.code == "root_cause_required"
    with pytest.raises(lc.BadInput) as err:
        decide(called, "close", root_cause=vocab.UNKNOWN_CAUSE)
    assert err.value.code == "unknown_root_cause"
    with pytest.raises(lc.BadInput) as err:
        decide(called, "close", root_cause="   ")
    assert err.value.code == "root_cause_required"
    # Still offered: what is missing is input, not a state the complaint is in.
    assert "close" in lc.allowed_actions(called, POLICY, NOW)


def test_reopen_only_from_replied_or_closed_within_the_window_and_counted():
    closed = state(status="closed", closed_at=NOW - timedelta(days=29), reopen_count=1)
    out = decide(closed, "reopen")
    assert out.status == "investigating" and out.changes["reopen_count"] == 2
    assert out.starts == "reopened"
    with pytest.raises(lc.NotAllowed) as err:
        decide(state(status="closed", closed_at=NOW - timedelta(days=31)), "reopen")
    assert err.value.code == "reopen_window_passed"
    for status in ("registered", "accepted", "investigating", "invalid", "merged"):
        with pytest.raises(lc.NotAllowed):
            decide(state(status=status), "reopen")


def test_merge_needs_a_target_and_closes_the_duplicate():
    with pytest.raises(lc.BadInput):
        decide(state(status="accepted"), "merge")
    with pytest.raises(lc.BadInput):
        decide(state(status="accepted"), "merge", into="TS20261128000001")
    out = decide(state(status="accepted"), "merge", into="TS20261128000009")
    assert out.status == "merged" and out.changes["merged_into"] == "TS20261128000009"
    assert out.status not in lc.OPEN_STATUSES


def test_transfer_changes_the_team_only():
    out = decide(state(status="investigating", team="frontline"), "transfer", team="billing")
    assert out.status == "investigating"
    assert out.changes == {"team": "billing"}
    with pytest.raises(lc.BadInput):
        decide(state(team="frontline"), "transfer", team="nowhere")


def test_invalid_needs_a_validity_reason():
    with pytest.raises(lc.BadInput) as err:
        decide(state(), "invalidate")
    assert err.value.code == "validity_reason_required"
    out = decide(state(), "invalidate", reason="no_contact")
    assert out.status == "invalid" and out.changes["invalid_reason"] == "no_contact"


def test_consultation_dissatisfied_or_overdue_becomes_a_complaint():
    consult = state(kind="consultation", status="replied", resolution="x")
    out = decide(consult, "callback", result="dissatisfied")
    assert out.converted and out.changes["kind"] == "complaint" and out.status == "registered"
    assert lc.convert_on_breach(state(kind="consultation", status="registered")).converted
    assert lc.convert_on_breach(state(kind="complaint")) is None
    # A complaint's dissatisfied callback does not convert anything.
    assert not decide(
        state(status="replied", resolution="x"), "callback", result="dissatisfied"
    ).converted


def test_quick_kinds_can_be_answered_at_once():
    assert decide(state(kind="inquiry"), "reply", resolution="您的余额为35元").status == "replied"
    with pytest.raises(lc.NotAllowed):
        decide(state(kind="complaint"), "reply", resolution="x")


def test_not_allowed_reports_the_action_name():
    with pytest.raises(lc.NotAllowed) as err:
        decide(state(status="closed", closed_at=NOW), "approve")
    assert "审批通过" in err.value.detail


params = st.fixed_dictionaries(
    {},
    optional={
        "resolution": st.sampled_from(["已处理", "", None]),
        "compensation": st.sampled_from(["0", "50", "150", "abc", "-1"]),
        "result": st.sampled_from(sorted(vocab.CALLBACK_RESULTS) + ["x"]),
        "reason": st.sampled_from(sorted(vocab.VALIDITY_REASONS) + ["x"]),
        "team": st.sampled_from(sorted(vocab.TEAMS) + ["x"]),
        "into": st.sampled_from(["TS20261128000002", "TS20261128000001"]),
        "note": st.just("备注"),
        "add_flags": st.lists(st.sampled_from(sorted(vocab.RISK_FLAGS)), max_size=2),
    },
)


@settings(max_examples=300, deadline=None)
@given(
    kind=st.sampled_from(sorted(vocab.KINDS)),
    steps=st.lists(st.tuples(st.sampled_from(sorted(lc.ACTIONS)), params), max_size=25),
)
def test_any_sequence_of_actions_keeps_the_machine_consistent(kind, steps):
    s = state(kind=kind)
    now = NOW
    for action, p in steps:
        now += timedelta(hours=5)
        allowed = lc.allowed_actions(s, POLICY, now)
        try:
            out = lc.decide(s, action, p, POLICY, now)
        except lc.NotAllowed:
            # Refused for the state: either not listed, or refused for this input.
            assert action not in allowed or action in ("reply",)
            continue
        except lc.BadInput:
            assert action in allowed
            continue
        assert action in allowed
        assert out.status in lc.STATUSES
        if s.status in lc.TERMINAL_STATUSES:
            assert action in ("reopen", "classify")
        fields = {k: v for k, v in out.changes.items() if k in lc.State.__dataclass_fields__}
        if "risk_flags" in fields:
            fields["risk_flags"] = frozenset(fields["risk_flags"])
        s = lc.State(**{**s.__dict__, **fields, "status": out.status})
        assert s.reopen_count >= 0
