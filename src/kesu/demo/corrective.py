"""The demo's corrective actions (data/demo/corrective.yaml), opened, worked on and closed
through kesu.corrective in simulated time after the complaints are replayed, so the
dashboard's card shows open, overdue and closed actions with their effect."""

from __future__ import annotations

import dataclasses
from datetime import timedelta

from kesu.clock import FrozenClock, to_beijing
from kesu.corrective import overdue, service
from kesu.data_files import load_yaml


def load(rt) -> int:
    """Open the demo's actions; how many."""
    real_now = rt.clock()
    clock = FrozenClock(real_now)
    sim = dataclasses.replace(rt, clock=clock)

    def at(days_ago: float) -> None:
        clock.now = real_now - timedelta(days=days_ago)

    n = 0
    for spec in load_yaml("demo/corrective.yaml")["actions"]:
        at(spec["opened"])
        body = {
            "title": spec["title"],
            "description": spec["description"],
            "owner": spec["owner"],
            "due_on": to_beijing(real_now).date() - timedelta(days=spec["due"]),
            "group": spec["group"],
        }
        action_id = service.open_action(sim, body, spec["by"])
        n += 1
        if "started" in spec:
            at(spec["started"])
            service.transition(sim, action_id, "start", {}, spec["owner"])
        for days_ago, note in spec.get("progress", ()):
            at(days_ago)
            service.progress(sim, action_id, note, spec["owner"])
        if "closed" in spec:
            at(spec["closed"])
            service.transition(sim, action_id, "close", {"outcome": spec["outcome"]}, spec["owner"])
    clock.now = real_now
    overdue.tell_overdue(sim)
    return n
