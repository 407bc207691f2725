"""Opening is once per burst, also when the complaints that make the spike are
registered at the same moment (real concurrent transactions on PostgreSQL: each
registration decides the spike on its own; the unique partial index lets one open
the incident, the others join it)."""

from __future__ import annotations

import threading
from datetime import timedelta

from sqlalchemy import func, select

from kesu.clock import as_utc
from kesu.complaints import registration
from kesu.incidents import service
from kesu.store import tables as t
from tests.incidents import intake
from tests.incidents.background import Arrival


def test_a_spike_registered_all_at_once_opens_one_incident(rt, clock):
    now = clock()
    # Ten days of history: one 宽带 complaint from 新乡市 every other day.
    past = [
        Arrival(now - timedelta(days=d, hours=3), "network", "河南省", "新乡市", f"1360000{d:04d}")
        for d in range(2, 12, 2)
    ]
    past.append(Arrival(now - timedelta(days=12), "billing", "河南省", "郑州市", "13600009999"))
    intake.history(rt, past)
    # Four in the last hour (fewer than the minimum count: no incident yet) …
    first = [
        Arrival(now - timedelta(minutes=50 - i), "network", "河南省", "新乡市", f"1350000000{i}")
        for i in range(4)
    ]  # noqa: E501
    intake.live(rt, clock, first)
    clock.now = as_utc(now)
    with rt.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(t.incidents)).scalar_one() == 0
    # … then twelve at once: each of them sees a spike.
    crowd = [Arrival(now, "network", "河南省", "新乡市", f"1351111{i:04d}") for i in range(12)]
    start = threading.Barrier(len(crowd))
    numbers: list[str] = []
    errors: list[BaseException] = []

    def one(a: Arrival) -> None:
        try:
            start.wait()
            view, _ = registration.register(rt, intake.item(a), "system")
            numbers.append(view["number"])
        except BaseException as err:  # reported below
            errors.append(err)

    threads = [threading.Thread(target=one, args=(a,)) for a in crowd]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert errors == []
    with rt.engine.connect() as conn:
        rows = conn.execute(select(t.incidents)).all()
    assert len(rows) == 1 and rows[0].state == "open"
    view = service.one(rt, "system", rows[0].id)
    assert set(numbers) <= set(view["complaints"])
    assert len(view["complaints"]) == 16  # the four before and the twelve
    assert len([h for h in view["history"] if h["type"] == "opened"]) == 1
