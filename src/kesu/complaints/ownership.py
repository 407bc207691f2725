"""Who owns a complaint (pure): the `assign` and `claim` actions, and how a team's
assignment policy picks a person for a new complaint.

The lifecycle registers these actions in its table (complaints.lifecycle imports this
module, never the other way round). Which users exist and who belongs to a team is read
by complaints.assignment; this module only decides on what it is given.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

ACTIONS: dict[str, dict[str, str]] = {
    "assign": {"name": "指派", "en": "Assign"},
    "claim": {"name": "认领", "en": "Claim"},
}

# A team's assignment policy: who gets a complaint routed to the team.
POLICIES: dict[str, dict[str, str]] = {
    "manual": {"name": "手动指派", "en": "Manual"},
    "round_robin": {"name": "轮流分配", "en": "Round robin"},
    "least_open": {"name": "在办最少优先", "en": "Least open work"},
}


class Refused(Exception):
    def __init__(self, code: str, detail: str) -> None:
        super().__init__(detail)
        self.code = code
        self.detail = detail


def _name(params: Mapping[str, Any], key: str) -> str | None:
    value = params.get(key)
    value = None if value is None else str(value).strip().lower()
    return value or None


def assign(current: str | None, params: Mapping[str, Any]) -> dict[str, Any]:
    """The changes of `assign`: the complaint goes to `assignee` (a person of its team)."""
    assignee = _name(params, "assignee")
    if assignee is None:
        raise Refused("assignee_required", "指派须指明处理人（assignee，本班组的用户名）。")
    if assignee == current:
        raise Refused("same_assignee", f"投诉单已由“{assignee}”处理，无需重新指派。")
    return {"assignee": assignee}


def claim(current: str | None, params: Mapping[str, Any]) -> dict[str, Any]:
    """The changes of `claim`: the person acting (`by`) takes the complaint."""
    by = _name(params, "by")
    if by is None:
        raise Refused("assignee_required", "认领须由具体的用户操作。")
    if by == current:
        raise Refused("same_assignee", "这件投诉单已经由您处理。")
    return {"assignee": by}


OUTCOMES = {"assign": assign, "claim": claim}


@dataclass(frozen=True)
class Member:
    username: str
    skills: frozenset[str] = frozenset()


def candidates(members: Sequence[Member], category: str | None, by_skill: bool) -> list[str]:
    """Who may get a complaint of `category`: the members in name order; by skill, those
    whose skills include it (if nobody has the skill, every member: no complaint waits)."""
    names = sorted(m.username for m in members)
    if not by_skill or category is None:
        return names
    skilled = sorted(m.username for m in members if category in m.skills)
    return skilled or names


def round_robin(names: Sequence[str], counter: int) -> str | None:
    """The person whose turn it is; `counter` is the team's counter after it advanced."""
    return names[(counter - 1) % len(names)] if names else None


def least_open(names: Sequence[str], open_counts: Mapping[str, int]) -> str | None:
    """The person with the fewest open complaints (the first by name among equals)."""
    return min(names, key=lambda n: (open_counts.get(n, 0), n)) if names else None
