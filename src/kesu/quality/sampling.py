"""Which closed complaints a quality reviewer gets for a period (pure).

Every complaint that was reopened, escalated, breached a time limit or was rated
dissatisfied is always in; besides them, `per_handler` complaints drawn at random from
each handler's other closed complaints. The draw is seeded by the period (and an
optional seed) and by the handler, so the same period gives the same sample, and one
handler's draw does not depend on anyone else's complaints.
"""

from __future__ import annotations

import random
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from kesu.data_files import load_yaml

ALWAYS = ("reopened", "escalated", "breached", "dissatisfied")


@dataclass(frozen=True)
class Closed:
    """A closed complaint as sampling sees it."""

    number: str
    handler: str | None
    reasons: tuple[str, ...] = ()  # of ALWAYS: why it must be reviewed


@dataclass(frozen=True)
class Picked:
    number: str
    handler: str | None
    reasons: tuple[str, ...]


def config() -> Mapping[str, Any]:
    return load_yaml("quality/config.yaml")


def per_handler() -> int:
    return int(config()["sample"]["per_handler"])


def reason_names() -> dict[str, str]:
    return dict(config()["sample"]["reasons"])


def default_seed(start: date, end: date) -> str:
    return f"{start.isoformat()}/{end.isoformat()}"


def draw(closed: Iterable[Closed], n: int, seed: str) -> list[Picked]:
    """The sample: every complaint with a reason, plus up to `n` others per handler,
    drawn with a generator seeded by (`seed`, handler). Ordered by handler, number."""
    always: list[Picked] = []
    pools: dict[str, list[str]] = {}
    for c in closed:
        if c.reasons:
            always.append(Picked(c.number, c.handler, tuple(r for r in ALWAYS if r in c.reasons)))
        elif c.handler:
            pools.setdefault(c.handler, []).append(c.number)
    picked = list(always)
    for handler in sorted(pools):
        pool = sorted(pools[handler])
        rng = random.Random(f"{seed}|{handler}")
        for number in rng.sample(pool, min(max(n, 0), len(pool))):
            picked.append(Picked(number, handler, ("random",)))
    return sorted(picked, key=lambda p: (p.handler or "", p.number))
