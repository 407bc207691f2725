"""The appeal kind's time limits, as the deadline rules state them (pure).

The rules are data (data/deadline_rules.yaml, kinds: [appeal]) and due times are
computed only by deadlines/; this module answers "which limits govern an appeal,
and on which article": the 5-working-day acceptance decision (电信用户申诉处理办法
第十四条), the 30-day answer (电信条例 第三十九条), and provincial ones where a
province's regulation sets them.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from kesu.deadlines.rules import Rule


def for_appeals(rules: Mapping[str, Rule], province: str | None = None) -> list[dict[str, Any]]:
    """The rules that apply to an appeal received (in the province, if given)."""
    facts = {"kind": "appeal", "province": province}
    out = []
    for rule in rules.values():
        if "appeal" not in rule.kinds or rule.trigger != "received":
            continue
        if not rule.applies(facts):
            continue
        out.append(
            {
                "rule": rule.id,
                "name": rule.name,
                "length": rule.length,
                "unit": rule.unit,
                "statutory": rule.statutory,
                "basis": list(rule.basis_json),
            }
        )
    return out
