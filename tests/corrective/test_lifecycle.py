"""The corrective action's lifecycle (pure): every action from every state."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from kesu.corrective import lifecycle as lc

TODAY = date(2026, 11, 28)
DUE = TODAY + timedelta(days=7)
GOOD = {
    "start": {},
    "close": {"outcome": "已修复"},
    "cancel": {"note": "重复立项"},
    "reassign": {"owner": "li.handler"},
}
AFTER = {"start": "in_progress", "close": "closed", "cancel": "cancelled"}


@pytest.mark.parametrize("state", list(lc.STATES))
@pytest.mark.parametrize("action", list(lc.ACTIONS))
def test_each_action_from_each_state(state, action):
    allowed = state in lc.FROM[action]
    if not allowed:
        with pytest.raises(lc.Refused) as err:
            lc.decide(state, "wang", DUE, action, GOOD[action], TODAY)
        assert err.value.status == 409 and err.value.code == "action_not_allowed"
        assert err.value.allowed == lc.allowed(state)
        return
    out = lc.decide(state, "wang", DUE, action, GOOD[action], TODAY)
    assert out.state == AFTER.get(action, state)


def test_the_allowed_actions_of_each_state():
    assert lc.allowed("open") == ["start", "close", "cancel", "reassign"]
    assert lc.allowed("in_progress") == ["close", "cancel", "reassign"]
    assert lc.allowed("closed") == [] and lc.allowed("cancelled") == []


def test_what_each_action_needs():
    def code(action, **params):
        with pytest.raises(lc.Refused) as err:
            lc.decide("in_progress", "wang", DUE, action, params, TODAY)
        return err.value.status, err.value.code

    assert code("close", outcome="  ") == (422, "outcome_required")
    assert code("cancel") == (422, "note_required")
    assert code("reassign", owner="wang", due_on=DUE) == (422, "nothing_to_change")
    assert code("reassign", due_on=TODAY - timedelta(days=1)) == (422, "due_in_past")
    assert code("fly") == (422, "unknown_action")
    moved = lc.decide("in_progress", "wang", DUE, "reassign", {"due_on": TODAY}, TODAY)
    assert moved.changes == {"due_on": TODAY} and moved.state == "in_progress"


def test_overdue_from_the_day_after_the_due_date_while_live():
    assert not lc.overdue("open", TODAY, TODAY)
    assert lc.overdue("open", TODAY, TODAY + timedelta(days=1))
    assert lc.overdue("in_progress", TODAY, TODAY + timedelta(days=1))
    assert not lc.overdue("closed", TODAY, TODAY + timedelta(days=9))
    assert not lc.overdue("cancelled", TODAY, TODAY + timedelta(days=9))
