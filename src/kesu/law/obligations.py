"""From the facts of a complaint to the obligations the law imposes (pure).

Rules are data (data/law/obligations.yaml). This module checks them against
the corpus at load time and evaluates them against a complaint's facts,
returning for each applicable rule the reason, the evidence that made it
apply, the articles (quoted), the duties with their deadline rules, and the
remedies.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from kesu.law.citations import CitationError
from kesu.law.corpus import Corpus

RISK_ORDER = {"low": 0, "medium": 1, "high": 2}
RISK_NAMES = {"low": "低", "medium": "中", "high": "高"}
RAISING_FLAGS = frozenset({"legal", "regulator", "media"})
_LEAVES = {
    "category",
    "kind",
    "flags",
    "province",
    "channel_level",
    "text_any",
    "text_all",
    "hours_over",
    "deadline_breached",
    "deadline",
}


class RuleError(ValueError):
    pass


@dataclass(frozen=True)
class Facts:
    category: str | None
    kind: str
    text: str
    flags: frozenset[str] = frozenset()
    province: str | None = None
    area: str = "urban"
    channel_level: str | None = None
    durations_hours: tuple[float, ...] = ()
    deadlines: Mapping[str, bool] = field(default_factory=dict)  # rule → breached
    category_name: str | None = None


@dataclass(frozen=True)
class Rule:
    id: str
    title: str
    when: Mapping[str, Any]
    reason: str
    articles: tuple[str, ...]
    duties: tuple[Mapping[str, Any], ...]
    remedies: tuple[str, ...]
    risk: str


def _norm(text: str) -> str:
    return unicodedata.normalize("NFKC", text).lower()


def parse_rules(
    data: Mapping[str, Any],
    corpus: Corpus,
    deadline_rules: Sequence[str],
    categories: Sequence[str],
) -> list[Rule]:
    out: list[Rule] = []
    seen: set[str] = set()
    for raw in data.get("obligations", []):
        rid = raw.get("id")
        if not rid or rid in seen:
            raise RuleError(f"obligation without a unique id: {rid!r}")
        seen.add(rid)
        risk = raw.get("risk", "low")
        if risk not in RISK_ORDER:
            raise RuleError(f"{rid}: unknown risk {risk!r}")
        for citation in raw.get("articles", []):
            try:
                corpus.resolve(citation)
            except CitationError as err:
                raise RuleError(f"{rid}: {err}") from None
        for duty in raw.get("duties", []):
            for d in duty.get("deadline_rules", []):
                if d not in deadline_rules:
                    raise RuleError(f"{rid}: unknown deadline rule {d}")
        _check_condition(rid, raw.get("when") or {}, categories)
        out.append(
            Rule(
                id=rid,
                title=raw["title"],
                when=raw.get("when") or {},
                reason=raw["reason"],
                articles=tuple(raw.get("articles", [])),
                duties=tuple(raw.get("duties", [])),
                remedies=tuple(raw.get("remedies", [])),
                risk=risk,
            )
        )
    return out


def _check_condition(rid: str, cond: Mapping[str, Any], categories: Sequence[str]) -> None:
    for key, value in cond.items():
        if key in ("any", "all"):
            for sub in value:
                _check_condition(rid, sub, categories)
        elif key == "not":
            _check_condition(rid, value, categories)
        elif key not in _LEAVES:
            raise RuleError(f"{rid}: unknown condition {key!r}")
        elif key == "category":
            unknown = set(value) - set(categories)
            if unknown:
                raise RuleError(f"{rid}: unknown categories {sorted(unknown)}")


def _eval(cond: Mapping[str, Any], f: Facts, evidence: list[str]) -> bool:
    """True when every condition of the mapping holds; evidence collects why."""
    for key, value in cond.items():
        if key == "any":
            if not any(_eval(sub, f, evidence) for sub in value):
                return False
        elif key == "all":
            if not all(_eval(sub, f, evidence) for sub in value):
                return False
        elif key == "not":
            if _eval(value, f, []):
                return False
        elif not _leaf(key, value, f, evidence):
            return False
    return True


def _leaf(key: str, value: Any, f: Facts, evidence: list[str]) -> bool:
    text = _norm(f.text)
    if key == "category":
        ok = f.category in value
        if ok:
            evidence.append(f"分类：{f.category_name or f.category}")
        return ok
    if key == "kind":
        return f.kind in value
    if key == "flags":
        hit = sorted(set(value) & f.flags)
        if hit:
            evidence.append("风险标记：" + "、".join(hit))
        return bool(hit)
    if key == "province":
        return f.province == value
    if key == "channel_level":
        return f.channel_level in value
    if key == "text_any":
        word = next((w for w in value if _norm(str(w)) in text), None)
        if word is not None:
            evidence.append(f"描述提到“{word}”")
        return word is not None
    if key == "text_all":
        words = []
        for group in value:
            word = next((w for w in group if _norm(str(w)) in text), None)
            if word is None:
                return False
            words.append(word)
        evidence.append("描述提到“" + "”“".join(words) + "”")
        return True
    if key == "hours_over":
        limit = value.get(f.area, max(value.values())) if isinstance(value, Mapping) else value
        longest = max(f.durations_hours, default=0.0)
        if longest >= limit:
            evidence.append(f"描述中的时长约{longest:g}小时，超过{limit:g}小时")
            return True
        return False
    if key == "deadline_breached":
        hit = [r for r in value if f.deadlines.get(r)]
        if hit:
            evidence.append("时限已超期：" + "、".join(hit))
        return bool(hit)
    if key == "deadline":
        return any(r in f.deadlines for r in value)
    raise RuleError(f"unknown condition {key}")


@dataclass(frozen=True)
class Applied:
    rule: Rule
    evidence: tuple[str, ...]


def evaluate(rules: Sequence[Rule], facts: Facts) -> list[Applied]:
    out = []
    for rule in rules:
        evidence: list[str] = []
        if _eval(rule.when, facts, evidence):
            out.append(Applied(rule, tuple(dict.fromkeys(evidence))))
    out.sort(key=lambda a: -RISK_ORDER[a.rule.risk])
    return out


def legal_risk(applied: Sequence[Applied], flags: frozenset[str]) -> str:
    level = max((RISK_ORDER[a.rule.risk] for a in applied), default=0)
    if flags & RAISING_FLAGS:
        level = RISK_ORDER["high"]
    return next(k for k, v in RISK_ORDER.items() if v == level)
