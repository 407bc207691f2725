"""The deadline watcher and calendar loading, on every configured database."""

import threading
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from kesu.complaints import registration
from kesu.deadlines import watcher
from kesu.runtime import Runtime
from kesu.settings import Settings
from kesu.store import tables as t


def breach_events(rt):
    with rt.engine.connect() as conn:
        return (
            conn.execute(
                select(t.complaint_events.c.data).where(
                    t.complaint_events.c.type == "deadline_breached"
                )
            )
            .scalars()
            .all()
        )


def test_breach_is_marked_once_with_an_event(client, rt, make_complaint, clock):
    c = make_complaint(kind="fault", customer={"phone": "13700000000", "area": "rural"})
    clock.advance(hours=71)
    assert watcher.watch_once(rt) == 0
    clock.advance(hours=2)
    assert watcher.watch_once(rt) == 1
    assert watcher.watch_once(rt) == 0
    events = breach_events(rt)
    assert len(events) == 1 and events[0]["rule"] == "repair_rural_72h"
    assert "月租" in events[0]["remedy"]
    view = client.get(f"/api/v1/complaints/{c['number']}").json()
    assert view["deadlines"][0]["breached"] is True
    assert view["overdue"] is True
    assert [x["number"] for x in client.get("/api/v1/complaints?overdue=true").json()["items"]] == [
        c["number"]
    ]


def test_a_late_reply_meets_the_deadline_but_it_stays_breached(
    client, rt, make_complaint, act, clock
):
    n = make_complaint(kind="fault")["number"]
    act(n, "accept")
    clock.advance(hours=50)
    watcher.watch_once(rt)
    c = act(n, "reply", resolution="已修复")
    d = c["deadlines"][0]
    assert d["breached"] is True and d["met_by"] == "reply"
    assert c["overdue"] is False


def test_consultation_past_its_time_limit_becomes_a_complaint(client, rt, make_complaint, clock):
    n = make_complaint(kind="consultation")["number"]
    clock.advance(hours=49)
    watcher.watch_once(rt)
    c = client.get(f"/api/v1/complaints/{n}").json()
    assert c["kind"] == "complaint" and c["status"] == "registered"
    assert c["converted_at"] == "2026-11-30T11:00:00+08:00"
    new = {d["rule"]: d for d in c["deadlines"]}
    assert new["ack_24h"]["started_at"] == c["converted_at"]
    assert new["consult_answer_48h"]["breached"] is True
    types = [e["type"] for e in client.get(f"/api/v1/complaints/{n}/events").json()["items"]]
    assert types == ["registered", "deadline_breached", "converted_to_complaint"]


def test_urgent_sla_breach_escalates(client, rt, make_complaint, clock):
    n = make_complaint(priority="urgent")["number"]
    clock.advance(days=5)
    watcher.watch_once(rt)
    c = client.get(f"/api/v1/complaints/{n}").json()
    assert c["escalation_level"] == 1
    types = [e["type"] for e in client.get(f"/api/v1/complaints/{n}/events").json()["items"]]
    assert types.count("escalated") == 1


def test_several_workers_record_each_breach_once(rt, database_url, clock):
    from kesu.complaints.schemas import ComplaintIn
    from tests.conftest import complaint_body

    items = [
        ComplaintIn.model_validate(complaint_body(customer={"phone": f"139{i:08d}"})).model_dump()
        for i in range(60)
    ]
    registration.bulk_import(rt, items, "test")
    clock.advance(days=20)
    runtimes = [
        Runtime.start(
            Settings(database_url=database_url, embedded_worker=False),
            clock=clock,
            migrate_db=False,
        )
        for _ in range(3)
    ]
    totals: list[int] = []
    barrier = threading.Barrier(3)

    def work(r):
        barrier.wait()
        totals.append(watcher.watch_once(r, batch=7))

    threads = [threading.Thread(target=work, args=(r,)) for r in runtimes]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    for r in runtimes:
        r.close()
    assert sum(totals) == 120  # 60 × (ack_24h, reply_15d)
    assert len(breach_events(rt)) == 120
    with rt.engine.connect() as conn:
        assert (
            conn.execute(
                select(func.count())
                .select_from(t.deadlines)
                .where(t.deadlines.c.breached.is_(True))
            ).scalar_one()
            == 120
        )


def test_loading_a_year_recomputes_estimated_deadlines(client, rt, make_complaint, clock, as_role):
    clock.advance(days=29)  # 2026-12-27, a Sunday; 15 days later is in 2027
    c = make_complaint(customer={"phone": "13800001234", "province": "河南省"})
    henan = {d["rule"]: d for d in c["deadlines"]}["henan_reply_5wd"]
    reply = {d["rule"]: d for d in c["deadlines"]}["reply_15d"]
    assert henan["estimated"] is True and reply["estimated"] is True
    # Estimated 2027: Jan 1 (Fri) is a holiday, so the 5th working day is Monday 01-04.
    assert henan["due_at"].startswith("2027-01-04")
    body = {
        "official": True,
        "source": "测试：虚构的2027年放假安排",
        "holidays": {"2027-01-01": "元旦", "2027-01-04": "元旦调休"},
        "workdays": {"2027-01-09": "调休上班"},
    }
    r = client.put("/api/v1/calendar/years/2027", json=body, headers=as_role("admin"))
    assert r.status_code == 200, r.text
    assert r.json()["complaints_recomputed"] == 1
    after = client.get(f"/api/v1/complaints/{c['number']}").json()
    d = {x["rule"]: x for x in after["deadlines"]}
    assert d["henan_reply_5wd"]["estimated"] is False
    assert d["henan_reply_5wd"]["due_at"].startswith("2027-01-05")
    assert d["henan_reply_5wd"]["calendar_version"] != henan["calendar_version"]
    assert d["reply_15d"]["due_at"].startswith("2027-01-11")  # 01-11 Monday
    types = [
        e["type"] for e in client.get(f"/api/v1/complaints/{c['number']}/events").json()["items"]
    ]
    assert "deadline_recomputed" in types
    workdays = client.get(
        "/api/v1/calendar/workdays", params={"start": "2027-01-08", "add": 1}
    ).json()
    assert workdays == {**workdays, "date": "2027-01-09", "estimated": False}
    year = client.get("/api/v1/calendar/years/2027").json()
    assert year["estimated"] is False
    assert {"date": "2027-01-09", "name": "调休上班"} in year["make_up_workdays"]


def test_calendar_input_errors(client, as_role):
    admin = as_role("admin")
    r = client.put(
        "/api/v1/calendar/years/2027", json={"holidays": {"2026-01-01": "x"}}, headers=admin
    )
    assert r.status_code == 422 and r.json()["code"] == "invalid_calendar"
    r = client.put(
        "/api/v1/calendar/years/2027", json={"holidays": {"2027-13-01": "x"}}, headers=admin
    )
    assert r.status_code == 422 and "YYYY-MM-DD" in r.json()["detail"]
    r = client.get("/api/v1/calendar/workdays", params={"start": "2026-02-30", "add": 1})
    assert r.status_code == 422 and r.json()["code"] == "invalid_date"
    r = client.get("/api/v1/calendar/workdays", params={"start": "2026-09-30", "add": -1})
    assert r.status_code == 422


@pytest.mark.parametrize(
    ("start", "add", "expected"),
    [
        ("2026-09-30", 5, "2026-10-13"),
        ("2026-09-30", 0, "2026-09-30"),
        ("2026-02-13", 1, "2026-02-14"),
    ],
)
def test_workdays_endpoint(client, start, add, expected):
    r = client.get("/api/v1/calendar/workdays", params={"start": start, "add": add})
    assert r.status_code == 200 and r.json()["date"] == expected


def test_deadline_rules_endpoint_lists_bases(client):
    items = {r["id"]: r for r in client.get("/api/v1/deadline-rules").json()["items"]}
    assert items["appeal_accept_5wd"]["basis"][0]["article"] == "第十四条"
    assert items["ack_24h"]["statutory"] is False


def test_watcher_time_travel_sanity(rt, make_complaint, clock):
    make_complaint()
    assert watcher.watch_once(rt, now=clock() + timedelta(hours=23)) == 0
    assert watcher.watch_once(rt, now=clock() + timedelta(hours=25)) == 1


def test_a_near_deadline_is_warned_about_once(client, rt, make_complaint, act, clock):
    n = make_complaint(kind="fault")["number"]  # 48 hours, warned 6 hours before
    clock.advance(hours=41)
    assert watcher.warn_once(rt) == 0
    clock.advance(hours=1, minutes=30)
    assert watcher.warn_once(rt) == 1
    assert watcher.warn_once(rt) == 0
    c = client.get(f"/api/v1/complaints/{n}").json()
    assert c["deadlines"][0]["warned_at"] == "2026-11-30T04:30:00+08:00"
    events = client.get(f"/api/v1/complaints/{n}/events").json()["items"]
    assert events[-1]["type"] == "deadline_warning"
    assert events[-1]["data"]["hours_left"] == 5.5
    assert "障碍修复" in events[-1]["note"]


def test_met_or_far_deadlines_are_not_warned_about(rt, make_complaint, act, clock):
    n = make_complaint(kind="fault")["number"]
    act(n, "accept")
    act(n, "reply", resolution="已修复")
    make_complaint()  # ack_24h: warned in its last 6 hours
    make_complaint(kind="appeal")  # 5 working days / 30 days: far off
    clock.advance(hours=17)
    assert watcher.warn_once(rt) == 0
    clock.advance(hours=2)
    assert watcher.warn_once(rt) == 1  # the ack; not the met repair, not the appeal


def test_many_deadlines_with_one_due_time_are_all_warned(rt, clock):
    from kesu.complaints.schemas import ComplaintIn
    from tests.conftest import complaint_body

    item = ComplaintIn.model_validate(complaint_body(kind="fault")).model_dump()
    registration.bulk_import(rt, [item] * 30, "import")
    clock.advance(hours=43)
    assert watcher.warn_once(rt, batch=7) == 30
