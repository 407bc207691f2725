"""Validity suggestions (pure): reasons a complaint may be invalid, for the agent to confirm."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from kesu.data_files import load_yaml


@dataclass(frozen=True)
class Suggestion:
    reason: str
    evidence: str


def suggest(text: str, has_contact: bool = True, operator: str | None = None) -> list[Suggestion]:
    rules = load_yaml("triage/validity.yaml")
    norm = unicodedata.normalize("NFKC", text).strip()
    compact = re.sub(r"[\s,，。.!！?？、;；:：]", "", norm)
    out: list[Suggestion] = []
    if not has_contact:
        out.append(Suggestion("no_contact", "未留有效联系方式"))
    spec = rules["not_specific"]
    rest = compact
    for word in sorted(spec["vague_only"], key=len, reverse=True):
        rest = rest.replace(word, "")
    if len(compact) < spec["min_chars"] or not re.sub(r"[我你们的了啊吧呢很太就是]", "", rest):
        out.append(Suggestion("not_specific", f"内容过于笼统：“{norm[:20]}”"))
    scope = rules["out_of_scope"]
    hits = [w for w in scope["words"] if w in norm]
    if hits and not any(w in norm for w in scope["unless"]):
        out.append(Suggestion("out_of_scope", "、".join(hits)))
    ours = operator or rules["not_our_operator"]["ours"]
    if ours:
        named = [
            name
            for name, aliases in rules["not_our_operator"]["operators"].items()
            if name != ours and any(a in norm for a in aliases)
        ]
        mine = rules["not_our_operator"]["operators"].get(ours, [ours])
        if named and not any(a in norm for a in mine):
            out.append(Suggestion("not_our_operator", "、".join(named)))
    return out
