"""Mass incidents in a real database: a synthetic burst on top of seeded background
intake opens one incident, never the background alone; later complaints of the cell
join it; one reviewed message reaches every linked customer once."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

from sqlalchemy import select

from kesu.accounts import users
from kesu.clock import as_utc
from kesu.incidents import service
from kesu.store import tables as t
from tests.incidents import intake
from tests.incidents.background import background, burst, midnight

START = midnight(2026, 11, 10)
HISTORY_DAYS, LIVE_DAYS = 14, 3
CELL = ("billing", "开封市")


def _incidents(rt) -> list:
    with rt.engine.connect() as conn:
        return conn.execute(select(t.incidents).order_by(t.incidents.c.id)).all()


def _sms(rt) -> list:
    n = t.notifications.c
    with rt.engine.connect() as conn:
        return conn.execute(
            select(n.recipient, n.body).where(n.channel == "sms", n.purpose == "customer.incident")
        ).all()


def _events(rt, type_: str) -> Counter:
    e, c = t.complaint_events.c, t.complaints.c
    with rt.engine.connect() as conn:
        rows = conn.execute(
            select(c.number)
            .select_from(t.complaint_events.join(t.complaints, c.id == e.complaint_id))
            .where(e.type == type_)
        ).scalars()
        return Counter(rows)


def test_a_burst_on_background_opens_one_incident_that_later_complaints_join(rt, clock):
    arrivals = background(seed=2026, start=START, days=HISTORY_DAYS + LIVE_DAYS, per_day=150)
    cut = START + timedelta(days=HISTORY_DAYS)
    past = [a for a in arrivals if a.at < cut]
    live = [a for a in arrivals if a.at >= cut]
    clock.now = as_utc(cut)
    users.create_user(rt, "test", "t-supervisor", "supervisor", "password-123456")
    users.create_user(rt, "test", "t-agent", "agent", "password-123456")
    intake.history(rt, past)
    # An outage: 16 billing complaints from 开封市 within two hours, on the second live day.
    outage_at = cut + timedelta(days=1, hours=9)
    outage = burst(11, outage_at, 2, 16, *CELL, "河南省")

    before = [a for a in live if a.at < outage_at]
    intake.live(rt, clock, before)
    assert len(before) > 150  # a day and nine hours of live decisions
    assert _incidents(rt) == []  # the background alone opens nothing

    rest = sorted([a for a in live if a.at >= outage_at] + outage, key=lambda a: a.at)
    views = intake.live(rt, clock, rest)
    [incident] = _incidents(rt)
    assert (incident.category, incident.area_kind, incident.area) == (*CELL[:1], "city", CELL[1])
    assert incident.state == "open"
    assert outage[0].at <= incident.opened_at <= outage[-1].at
    assert "开封市·资费计费" in incident.explanation and "判定为突增" in incident.explanation

    # Every complaint of the cell from the window before the opening on is linked,
    # the burst's among them; nothing of another cell is.
    view = service.one(rt, "system", incident.id)
    linked = set(view["complaints"])
    of_cell = {
        v["number"]: a for v, a in zip(views, rest, strict=True) if (a.category, a.city) == CELL
    }
    after_open = {n for n, a in of_cell.items() if a.at >= incident.opened_at}
    assert after_open and after_open <= linked
    assert {v["number"] for v, a in zip(views, rest, strict=True) if a in outage} <= linked
    assert linked <= set(of_cell) | _numbers_in_window(rt, incident)
    # The supervisors were told once (the agent, who cannot approve, was not).
    notices = _notices(rt)
    assert [(n.username, n.kind) for n in notices] == [("t-supervisor", "incident_opened")]
    assert "开封市·资费计费" in notices[0].text
    joined = [x for x in view["linked"] if x["how"] == "joined"]
    assert joined  # later complaints joined at registration
    # The complaints that joined carry the flag, its evidence naming the incident.
    flagged = {v["number"] for v in views if "mass_incident" in v["risk_flags"]}
    assert {x["number"] for x in joined} <= flagged

    # One reviewed message: an agent drafts, a supervisor approves, each customer once.
    service.draft(
        rt, _agent(rt), incident.id, "开封市部分用户账单重复扣费，已全部冲正，请留意短信。"
    )
    sent = service.approve(rt, _supervisor(rt), incident.id)
    assert sent["message"]["state"] == "sent" and sent["message"]["untold"] == 0
    sms = _sms(rt)
    assert len(sms) == len(linked)  # every customer a distinct phone here
    assert Counter(r.recipient for r in sms).most_common(1)[0][1] == 1
    assert all("已全部冲正" in r.body for r in sms)
    told = _events(rt, "incident_message_sent")
    assert set(told) == linked and set(told.values()) == {1}

    # Closed with a summary: the cell's next complaints join nothing, open nothing.
    service.close(rt, _supervisor(rt), incident.id, "计费系统故障已修复，重复扣费已冲正。")
    clock.advance(hours=1)
    tail = burst(12, clock.now, 1, 3, *CELL, "河南省")
    after = intake.live(rt, clock, tail)
    assert len(_incidents(rt)) == 1
    assert not set(service.one(rt, "system", incident.id)["complaints"]) & {
        v["number"] for v in after
    }


def _notices(rt) -> list:
    with rt.engine.connect() as conn:
        return conn.execute(select(t.staff_notices)).all()


def _numbers_in_window(rt, incident) -> set[str]:
    c = t.complaints.c
    with rt.engine.connect() as conn:
        return set(
            conn.execute(
                select(c.number).where(
                    c.category == incident.category,
                    c.customer_city == incident.area,
                    c.received_at >= incident.window_start,
                )
            ).scalars()
        )


def _agent(rt):
    from kesu.accounts.roles import for_role

    return for_role("t-agent", "agent")


def _supervisor(rt):
    from kesu.accounts.roles import for_role

    return for_role("t-supervisor", "supervisor")
