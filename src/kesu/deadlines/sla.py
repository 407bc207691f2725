"""Internal SLA policies (pure): which policy of a rule a complaint gets, and the checks
on a policy an admin writes.

An internal SLA rule of data/deadline_rules.yaml (statutory: false) keeps what it is
(its name, what starts and meets it, what a breach sets off, its basis); its policies
say how long it runs. Each rule has one unnarrowed policy (seeded from the file) and may
have narrower ones for a kind, a category and a priority. A complaint gets, per rule,
the most specific policy that matches it: a priority counts more than a category, a
category more than a kind. A narrower policy only narrows: it applies where its rule
applies. Statutory rules have no policies: the law sets them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import timedelta
from typing import Any

from kesu.deadlines.rules import UNITS, Rule

ANY = "*"
# The longest period a policy may set, per unit (a sane bound, not law).
MAX_LENGTH = {"hours": 720, "calendar_days": 90, "working_days": 60}
MAX_WARN_HOURS = 720
UNIT_NAMES = {"hours": "小时", "calendar_days": "自然日", "working_days": "工作日"}


@dataclass(frozen=True)
class Policy:
    rule: str
    kind: str | None
    category: str | None
    priority: str | None
    length: int
    unit: str
    warn_before_hours: float
    id: int | None = None

    @property
    def scope(self) -> str:
        return scope_key(self.kind, self.category, self.priority)

    @property
    def narrowed(self) -> bool:
        return (self.kind, self.category, self.priority) != (None, None, None)

    @property
    def specificity(self) -> int:
        return (
            4 * (self.priority is not None)
            + 2 * (self.category is not None)
            + (self.kind is not None)
        )

    def matches(self, facts: Mapping[str, Any]) -> bool:
        return all(
            want is None or facts.get(key) == want
            for key, want in (
                ("kind", self.kind),
                ("category", self.category),
                ("priority", self.priority),
            )
        )

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "rule": self.rule,
            "kind": self.kind,
            "category": self.category,
            "priority": self.priority,
            "length": self.length,
            "unit": self.unit,
            "warn_before_hours": self.warn_before_hours,
        }


def scope_key(kind: str | None, category: str | None, priority: str | None) -> str:
    return "|".join(x or ANY for x in (kind, category, priority))


def default_policy(rule: Rule) -> Policy:
    """The unnarrowed policy of an internal rule as the rules file states it."""
    return Policy(
        rule=rule.id,
        kind=None,
        category=None,
        priority=None,
        length=rule.length,
        unit=rule.unit,
        warn_before_hours=rule.warn_before.total_seconds() / 3600,
    )


@dataclass(frozen=True)
class PolicySet:
    """The policies in force; `version` is the history's highest id when they were read."""

    version: int
    by_rule: Mapping[str, tuple[Policy, ...]]

    def choose(self, rule: Rule, facts: Mapping[str, Any]) -> Policy | None:
        """The most specific policy of `rule` matching `facts` (None: the rule as filed)."""
        found = [p for p in self.by_rule.get(rule.id, ()) if p.matches(facts)]
        return max(found, key=lambda p: p.specificity, default=None)


EMPTY = PolicySet(0, {})


def group(version: int, policies: list[Policy]) -> PolicySet:
    by_rule: dict[str, list[Policy]] = {}
    for p in policies:
        by_rule.setdefault(p.rule, []).append(p)
    return PolicySet(version, {k: tuple(v) for k, v in by_rule.items()})


def applied(rule: Rule, policy: Policy | None) -> Rule:
    """The rule with the policy's period and warning lead (the rule itself without one)."""
    if policy is None or rule.statutory:
        return rule
    return replace(
        rule,
        length=policy.length,
        unit=policy.unit,
        warn_before=timedelta(hours=policy.warn_before_hours),
    )


def describe(policy: Policy, names: Mapping[str, Mapping[str, Mapping[str, str]]]) -> str:
    """'投诉 · 资费计费 · 紧急' (or the whole rule) for a page or an error."""
    parts = [
        names[key].get(value, {}).get("name", value)
        for key, value in (
            ("kinds", policy.kind),
            ("categories", policy.category),
            ("priorities", policy.priority),
        )
        if value is not None
    ]
    return " · ".join(parts) or "规则的全部适用范围"


def check_period(length: Any, unit: Any, warn: Any) -> list[dict[str, str]]:
    """Problems with a period and its warning lead (field, code, Chinese detail)."""
    out: list[dict[str, str]] = []
    if unit not in UNITS:
        known = "、".join(f"{u}（{UNIT_NAMES[u]}）" for u in UNITS)
        out.append(_err("unit", "unknown_unit", f"时限单位“{unit}”无效，可选：{known}。"))
        return out
    top = MAX_LENGTH[unit]
    if isinstance(length, bool) or not isinstance(length, int) or not 0 < length <= top:
        out.append(
            _err(
                "length",
                "invalid_length",
                f"时限长度须为 1 至 {top} 之间的整数（单位：{UNIT_NAMES[unit]}）。",
            )
        )
        return out
    if isinstance(warn, bool) or not isinstance(warn, int | float) or warn < 0:
        out.append(
            _err("warn_before_hours", "invalid_warning", "预警提前量须为 0 或正数（小时）。")
        )
        return out
    span = length if unit == "hours" else length * 24
    if warn > MAX_WARN_HOURS or warn >= span:
        out.append(
            _err(
                "warn_before_hours",
                "invalid_warning",
                f"预警提前量须小于时限本身（{length} {UNIT_NAMES[unit]}），且不超过 "
                f"{MAX_WARN_HOURS} 小时。",
            )
        )
    return out


def check_scope(
    rule: Rule,
    kind: str | None,
    category: str | None,
    priority: str | None,
    vocabulary: Mapping[str, Mapping[str, Any]],
) -> list[dict[str, str]]:
    """Problems with a policy's kind, category and priority for `rule` (it only narrows)."""
    out: list[dict[str, str]] = []
    for field, key, value, allowed in (
        ("kind", "kinds", kind, rule.kinds),
        ("category", "categories", category, rule.when.get("category")),
        ("priority", "priorities", priority, rule.when.get("priority")),
    ):
        if value is None:
            continue
        names = vocabulary[key]
        if value not in names:
            known = "、".join(f"{k}（{v['name']}）" for k, v in names.items())
            out.append(_err(field, f"unknown_{field}", f"“{value}”不是已知的取值，可选：{known}。"))
        elif allowed is not None and value not in allowed:
            fits = "、".join(names[v]["name"] for v in sorted(allowed) if v in names)
            out.append(
                _err(
                    field,
                    "policy_outside_rule",
                    f"“{rule.name}”只适用于{fits}，“{names[value]['name']}”的政策不会生效。",
                )
            )
    return out


def _err(field: str, code: str, detail: str) -> dict[str, str]:
    return {"field": field, "code": code, "detail": detail}
