"""One meaning for 重复投诉: the repeat flag on the complaints and the repeat KPI.

The flag is decided by one rule (complaints.repeats: same customer, same category, within
30 days) at registration, in imports and when the category or kind changes; nobody sets
it by hand; the KPI's numerator is the complaints of the period that carry it.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import select

from kesu.clock import as_utc
from kesu.complaints import registration, repeats
from kesu.complaints.schemas import ComplaintIn
from kesu.reports import catalog, kpi_report
from kesu.store import tables as t
from kesu.store.db import read
from tests.conftest import complaint_body
from tests.reports.conftest import TEXT, bj, kpi

C = t.complaints.c


def _flags(rt) -> dict[str, list[str]]:
    with read(rt.engine) as conn:
        return {r.number: list(r.risk_flags) for r in conn.execute(select(C.number, C.risk_flags))}


def _flagged_in_period(rt, lo, hi) -> set[str]:
    """What a supervisor sees: complaints received in the period, counted by the KPI's
    population, with the 重复投诉 flag on them."""
    pop = catalog.definitions()["repeat_rate"].population
    with read(rt.engine) as conn:
        rows = conn.execute(
            select(C.number, C.risk_flags, C.kind, C.status).where(
                C.received_at >= lo, C.received_at < hi
            )
        ).all()
    return {
        r.number
        for r in rows
        if "repeat" in r.risk_flags and r.kind in pop.kinds and r.status not in pop.exclude_statuses
    }


def test_the_rule_has_one_home_and_the_kpi_says_it():
    assert repeats.WITHIN_DAYS == 30
    text = catalog.definitions()["repeat_rate"].definition
    assert f"{repeats.WITHIN_DAYS}天" in text and "重复投诉" in text


def test_the_kpi_counts_exactly_the_flagged_complaints(rt, desk):
    a, b, c, d, e, f = (f"1380000{i:04d}" for i in range(1, 7))
    desk.register(bj(10, 10), phone=a)
    a2 = desk.register(bj(11, 5), phone=a)  # 26 days after: repeat
    desk.register(bj(11, 6), phone=a, category="billing")  # another category: not
    desk.register(bj(9, 20), phone=b)
    desk.register(bj(11, 2), phone=b)  # 43 days later: not
    desk.register(bj(11, 3, 10), phone=c)
    c2 = desk.register(bj(11, 3, 12), phone=c)  # 2 hours later: repeat
    x = desk.register(bj(10, 30), phone=d)
    desk.act(x, "invalidate", bj(10, 30, 11), reason="not_specific")
    desk.register(bj(11, 4), phone=d)  # the earlier one was invalid: not
    desk.register(bj(10, 31), phone=e, kind="consultation")
    desk.register(bj(11, 2, 9), phone=e)  # the earlier one was a consultation: not
    # Registered without a category (the classifier unsure), corrected later: decided then.
    desk.register(bj(11, 1, 9), phone=f, category="billing")
    f2 = desk.register(bj(11, 4, 9), phone=f, category="usage")
    assert "repeat" not in _flags(rt)[f2]
    desk.act(f2, "classify", bj(11, 4, 10), category="billing")
    # An import of hotline records: decided against the history and the import itself.
    desk.clock.now = as_utc(bj(11, 7, 12))
    imported = registration.bulk_import(
        rt,
        [
            ComplaintIn.model_validate(
                complaint_body(
                    category=cat,
                    kind="complaint",
                    description=TEXT,
                    received_at=at.isoformat(),
                    customer={"phone": phone},
                )
            ).model_dump()
            for phone, cat, at in [
                (c, "network", bj(11, 6, 8)),  # c's third: repeat
                ("13900009999", "network", bj(11, 6, 9)),  # new customer: not
                ("13900009999", "network", bj(11, 6, 10)),  # its second, same import: repeat
            ]
        ],
        "import",
    )
    desk.done()

    flags = _flags(rt)
    flagged = {n for n, fl in flags.items() if "repeat" in fl}
    assert flagged == {a2, c2, f2, imported[0], imported[2]}
    r = kpi_report.kpis(rt, "system", date(2026, 11, 1), date(2026, 11, 7))
    k = kpi(r, "repeat_rate")
    assert k["numerator"] == len(_flagged_in_period(rt, bj(11, 1, 0), bj(11, 8, 0))) == 5
    assert k["denominator"] == 12  # the twelve complaints of the period (d's invalid one before it)


def test_nobody_sets_or_clears_the_repeat_flag_by_hand(client, make_complaint, act):
    first = make_complaint(category="billing", customer={"phone": "13700002222"})
    again = make_complaint(category="billing", customer={"phone": "13700002222"})
    assert "repeat" not in first["risk_flags"] and "repeat" in again["risk_flags"]

    r = client.post(
        "/api/v1/complaints", json=complaint_body(risk_flags=["repeat"], category="billing")
    )
    assert r.status_code == 422 and r.json()["code"] == "derived_flag"
    assert "系统按规则判定" in r.json()["detail"]
    for params in ({"add_flags": ["repeat"]}, {"remove_flags": ["repeat"]}):
        number = first["number"] if "add_flags" in params else again["number"]
        r = act(number, "flag", expect=422, **params)
        assert r["code"] == "derived_flag"
    assert "repeat" in client.get(f"/api/v1/complaints/{again['number']}").json()["risk_flags"]
    # Other flags are still set by hand.
    act(first["number"], "flag", add_flags=["vip"])
