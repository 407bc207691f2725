"""Demo data: a living complaint centre over the last 90 days.

The complaints are replayed in time order through the real service layer
(register, transitions, the deadline watcher every two simulated hours), so
their events, deadlines, breaches, conversions and merges are exactly what
kesu would have recorded. Texts come from data/demo/texts.yaml, written for
the project.
"""

from __future__ import annotations

import dataclasses
import heapq
import random
from collections.abc import Callable
from datetime import datetime, time, timedelta
from typing import Any

from kesu.clock import BEIJING, FrozenClock
from kesu.complaints import lookups, registration, transitions
from kesu.data_files import load_yaml
from kesu.deadlines import watcher
from kesu.demo import corrective, incidents, plans, quality, staff
from kesu.problems import Problem
from kesu.store.db import read

DEFAULT_COUNT = 320
DAYS = 90


def has_data(rt) -> bool:
    with read(rt.engine) as conn:
        return lookups.tally(conn, rt.clock())["complaints"] > 0


def load(
    rt, count: int = DEFAULT_COUNT, seed: int = 2026, progress: Callable[[int], None] | None = None
) -> dict[str, int]:
    staff.ensure(rt)
    rng = random.Random(seed)
    entries = list(load_yaml("demo/texts.yaml")["entries"])
    rng.shuffle(entries)
    real_now = rt.clock()
    clock = FrozenClock(real_now)
    sim = dataclasses.replace(rt, clock=clock)
    start = real_now - timedelta(days=DAYS)

    queue: list[tuple[datetime, int, int, int]] = []
    specs: list[dict[str, Any]] = []
    seq = 0
    for i in range(count):
        entry = entries[i % len(entries)]
        day = (real_now - timedelta(days=rng.uniform(0, DAYS))).astimezone(BEIJING).date()
        minute = rng.randrange(8 * 60, 22 * 60)
        received = datetime.combine(day, time(minute // 60, minute % 60), tzinfo=BEIJING)
        if received >= real_now:
            received = real_now - timedelta(minutes=rng.randrange(5, 600))
        duplicate_of = None
        if specs and rng.random() < 0.04:
            duplicate_of = rng.randrange(len(specs))
            original = specs[duplicate_of]
            entry = original["entry"]
            received = max(
                original["received"] + plans.hours(rng, 1, 30),
                received if received > original["received"] else original["received"],
            )
            if received >= real_now:
                received = original["received"] + timedelta(minutes=30)
        customer = (
            specs[duplicate_of]["customer"] if duplicate_of is not None else plans.new_customer(rng)
        )
        spec = {
            "entry": entry,
            "received": received,
            "customer": customer,
            "duplicate_of": duplicate_of,
            "number": None,
        }
        if duplicate_of is not None:
            spec["steps"] = [
                (
                    plans.hours(rng, 0.5, 8),
                    "merge",
                    {"note": "同一客户同一问题重复来电，合并处理。"},
                    rng.choice(plans.AGENTS),
                )
            ]
        else:
            spec["steps"] = plans.plan(rng, entry, received)
        specs.append(spec)
        heapq.heappush(queue, (received + timedelta(minutes=rng.randrange(1, 15)), seq, i, -1))
        seq += 1

    next_watch = start
    registered = 0
    while queue:
        at, _, i, step = heapq.heappop(queue)
        if at > real_now:
            continue
        while next_watch <= at:
            clock.now = next_watch
            watcher.watch_once(sim, now=next_watch)
            watcher.warn_once(sim, now=next_watch)
            next_watch += timedelta(hours=2)
        clock.now = at
        spec = specs[i]
        try:
            if step == -1:
                view, _ = registration.register(
                    sim,
                    plans.payload(rng, spec["entry"], spec["customer"], spec["received"], i),
                    actor=rng.choice(plans.AGENTS),
                )
                spec["number"] = view["number"]
                registered += 1
                if progress:
                    progress(registered)
            else:
                delay, action, params, actor = spec["steps"][step]
                params = dict(params)
                if action == "merge":
                    params["into"] = specs[spec["duplicate_of"]]["number"]
                    if params["into"] is None:
                        continue
                transitions.transition(
                    sim,
                    spec["number"],
                    action,
                    {k: v for k, v in params.items() if v is not None},
                    actor,
                )
        except Problem:
            continue  # the complaint took another turn (converted, merged ...): stop its plan
        if step + 1 < len(spec["steps"]):
            delay = spec["steps"][step + 1][0]
            heapq.heappush(queue, (at + delay, seq, i, step + 1))
            seq += 1
    if count >= incidents.FROM_COUNT:  # a burst on top: a mass incident opens
        incidents.outage(sim, clock, rng, real_now)
    clock.now = real_now
    watcher.watch_once(sim, now=real_now)
    watcher.warn_once(sim, now=real_now)
    quality.load(rt, rng)
    corrective.load(rt)  # corrective actions on the replayed complaints
    return summary(rt)


def summary(rt) -> dict[str, int]:
    with read(rt.engine) as conn:
        return lookups.tally(conn, rt.clock())
