"""Deadline rules as data, and the computation of due times (pure).

Only this module computes a due time. It takes the rule, the instant the
period starts and a WorkCalendar, and counts as the Civil Code counts
(民法典 第二百零一条至第二百零四条). A rule's basis cites its article with the
law slice's Citation (kesu.law.citations, pure).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from functools import cached_property
from typing import Any

from kesu.clock import BEIJING, as_utc
from kesu.deadlines.calendar import WorkCalendar
from kesu.law.citations import Citation

UNITS = ("hours", "calendar_days", "working_days")
TRIGGERS = ("received", "reopened")
ON_BREACH = (None, "convert_to_complaint", "escalate")
CONDITIONS = ("area", "province", "priority", "channel", "category")


class RuleError(ValueError):
    """The rules file is wrong; kesu refuses to start with it."""


@dataclass(frozen=True)
class Basis:
    """What a rule rests on: an article of law (its quote checked) or operator policy."""

    regulation: str  # the regulation's title, or the name of the operator's policy
    cited: Citation | None  # the article (of `regulation`); None for operator policy
    verified: bool = False
    file: str | None = None
    quote: str | None = None
    note: str | None = None

    @property
    def policy(self) -> bool:
        return self.cited is None

    @property
    def article(self) -> str | None:
        return None if self.cited is None else self.cited.article

    @property
    def paragraph(self) -> str | None:
        return None if self.cited is None else self.cited.paragraph

    @property
    def item(self) -> str | None:
        return None if self.cited is None else self.cited.item

    @property
    def citation(self) -> str:
        if self.cited is None:
            return f"{self.regulation}（运营商内部政策）"
        return self.cited.text

    def as_json(self) -> dict[str, Any]:
        return {
            "regulation": self.regulation,
            "article": self.article,
            "citation": self.citation,
            "policy": self.policy,
            "verified": self.verified,
            "quote": self.quote,
            "note": self.note,
        }


@dataclass(frozen=True)
class Rule:
    id: str
    name: str
    name_en: str
    statutory: bool
    kinds: frozenset[str]
    trigger: str
    length: int
    unit: str
    met_by: frozenset[str]
    basis: tuple[Basis, ...]
    when: Mapping[str, frozenset[str]] = field(default_factory=dict)
    on_breach: str | None = None
    remedy: str | None = None
    remedy_basis: tuple[Basis, ...] = ()
    # How long before the due time the watcher warns (operator policy).
    warn_before: timedelta = timedelta(0)

    @cached_property
    def basis_json(self) -> list[dict[str, Any]]:
        """The basis as stored on each deadline row (one shared object per rule)."""
        return [b.as_json() for b in self.basis]

    def applies(self, facts: Mapping[str, Any]) -> bool:
        if facts.get("kind") not in self.kinds:
            return False
        return all(facts.get(key) in allowed for key, allowed in self.when.items())


@dataclass(frozen=True)
class Due:
    due_at: datetime
    estimated: bool


ArticleLookup = Callable[[str, str], str | None]


def _basis(raw: Mapping[str, Any], rule_id: str, lookup: ArticleLookup) -> Basis:
    policy = bool(raw.get("policy", False))
    article = raw.get("article")
    if not raw.get("regulation"):
        raise RuleError(f"{rule_id}: a basis needs its regulation")
    if policy:
        if article:
            raise RuleError(f"{rule_id}: operator policy cites no article")
        return Basis(regulation=raw["regulation"], cited=None, note=raw.get("note"))
    if not article:
        raise RuleError(f"{rule_id}: a statutory basis needs its article")
    file, quote = raw.get("file"), raw.get("quote")
    verified = False
    if raw.get("verified") is False:
        verified = False
    elif file and quote:
        text = lookup(file, article)
        if text is None:
            raise RuleError(f"{rule_id}: {article} is not held in {file}; mark it verified: false")
        if quote not in text:
            raise RuleError(f"{rule_id}: the quote is not in {file} {article}")
        verified = True
    else:
        raise RuleError(f"{rule_id}: a statutory basis needs file and quote, or verified: false")
    return Basis(
        regulation=raw["regulation"],
        cited=Citation(raw["regulation"], article, raw.get("paragraph"), raw.get("item")),
        verified=verified,
        file=file,
        quote=quote,
        note=raw.get("note"),
    )


def parse_rules(
    data: Mapping[str, Any], lookup: ArticleLookup, known_kinds: Iterable[str]
) -> dict[str, Rule]:
    kinds_known = set(known_kinds)
    warn_default = data.get("warn_before") or {}
    if set(warn_default) - set(UNITS):
        raise RuleError(f"warn_before: units must be among {UNITS}")
    rules: dict[str, Rule] = {}
    for raw in data.get("rules", []):
        rid = raw.get("id")
        if not rid or rid in rules:
            raise RuleError(f"missing or duplicate rule id: {rid!r}")
        if raw.get("unit") not in UNITS:
            raise RuleError(f"{rid}: unit must be one of {UNITS}")
        if raw.get("trigger") not in TRIGGERS:
            raise RuleError(f"{rid}: trigger must be one of {TRIGGERS}")
        if raw.get("on_breach") not in ON_BREACH:
            raise RuleError(f"{rid}: on_breach must be one of {ON_BREACH}")
        length = raw.get("length")
        if not isinstance(length, int) or length <= 0:
            raise RuleError(f"{rid}: length must be a positive integer")
        kinds = frozenset(raw.get("kinds") or ())
        if not kinds or not kinds <= kinds_known:
            raise RuleError(f"{rid}: kinds must be a non-empty subset of {sorted(kinds_known)}")
        when = raw.get("when") or {}
        if set(when) - set(CONDITIONS):
            raise RuleError(f"{rid}: unknown condition {set(when) - set(CONDITIONS)}")
        basis = tuple(_basis(b, rid, lookup) for b in raw.get("basis") or ())
        if not basis:
            raise RuleError(f"{rid}: a rule needs its basis")
        if bool(raw.get("statutory")) == all(b.policy for b in basis):
            raise RuleError(f"{rid}: statutory must match whether its basis is law or policy")
        remedy = raw.get("remedy") or {}
        warn_hours = raw.get("warn_before_hours", warn_default.get(raw["unit"], 0))
        if not isinstance(warn_hours, int | float) or warn_hours < 0:
            raise RuleError(f"{rid}: warn_before_hours must be a number of hours, 0 or more")
        rules[rid] = Rule(
            id=rid,
            name=raw["name"],
            name_en=raw.get("name_en", raw["name"]),
            statutory=bool(raw.get("statutory")),
            kinds=kinds,
            trigger=raw["trigger"],
            length=length,
            unit=raw["unit"],
            met_by=frozenset(raw.get("met_by") or ()),
            basis=basis,
            when={k: frozenset(v) for k, v in when.items()},
            on_breach=raw.get("on_breach"),
            remedy=remedy.get("text"),
            remedy_basis=tuple(_basis(b, rid, lookup) for b in remedy.get("basis") or ()),
            warn_before=timedelta(hours=warn_hours),
        )
    return rules


def end_of_day(day: date) -> datetime:
    """24:00 of a Beijing day, as the last representable instant before midnight."""
    return datetime.combine(day, time(23, 59, 59, 999999), tzinfo=BEIJING)


def compute_due(rule: Rule, start: datetime, calendar: WorkCalendar) -> Due:
    """When the period of `rule` that starts at `start` ends."""
    start = as_utc(start)
    if rule.unit == "hours":
        return Due(start + timedelta(hours=rule.length), estimated=False)
    first = start.astimezone(BEIJING).date()
    # A period in days ends at the end of a day that depends only on the first day and
    # the calendar (its version names its content): imports ask for the same ones often.
    key = (calendar.version, rule.unit, rule.length, first)
    found = _DAY_ENDS.get(key)
    if found is None:
        if rule.unit == "calendar_days":
            nominal = first + timedelta(days=rule.length)
            last = calendar.next_working_day(nominal)
        else:
            last = calendar.add_working_days(first, rule.length)
        if len(_DAY_ENDS) > 100_000:
            _DAY_ENDS.clear()
        found = _DAY_ENDS[key] = Due(
            end_of_day(last).astimezone(BEIJING), calendar.estimated_between(first, last)
        )
    return found


_DAY_ENDS: dict[tuple[str, str, int, date], Due] = {}


def due_on(day: date) -> Due:
    """A due date set from outside (a regulator's referral names the day it wants the
    answer by): the end of that Beijing day, as given (not moved off a rest day)."""
    return Due(end_of_day(day).astimezone(BEIJING), estimated=False)


def select(rules: Mapping[str, Rule], facts: Mapping[str, Any], trigger: str) -> list[Rule]:
    return [r for r in rules.values() if r.trigger == trigger and r.applies(facts)]
