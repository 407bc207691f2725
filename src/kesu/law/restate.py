"""The customer's words restated for a reply (pure): summarised, not quoted.

A careful handler does not copy a caller's statement into the letter: they restate the
facts and the demand to the customer ("您反映，您家宽带断网三天……"), leave out threats
and outbursts ("我要去工信部投诉", "再不修就曝光", "骗子") and the agent's framing
("用户来电反映"). `restate` does that clause by clause: the caller decides which clause
is a threat (`is_threat`, e.g. from triage's risk signals), the rest is kept in the
customer's order with the pronouns turned to the reader (我 → 您, 你们 → 我们).
"""

from __future__ import annotations

import re
from collections.abc import Callable

# The agent's framing at the start of a statement: 用户来电反映：…, 客户称…
_FRAME = re.compile(
    r"^(?:该)?(?:用户|客户|机主|来电人|顾客)"
    r"(?:通过\S{1,8}?|多次|再次|又)?(?:来电|致电|来信|留言|到厅)?"
    r"(?:反映|反应|称|表示|投诉|诉称|说|咨询)?[：:，,\s]*"
)
_SENTENCES = re.compile(r"[。！？!?；;\n]+")
_CLAUSES = re.compile(r"[，,、]+")
# Longest first: 我们家 before 我们 before 我.
_PRONOUNS = {
    # The operator as an agent's note names it stays the operator.
    "我公司": "我公司",
    "我司": "我公司",
    "我们家": "您家",
    "我家": "您家",
    "我们": "您",
    "本人": "您",
    "俺": "您",
    "我": "您",
    "你们公司": "我公司",
    "贵公司": "我公司",
    "你们": "我们",
    "你司": "我公司",
}
_PRONOUN = re.compile("|".join(map(re.escape, sorted(_PRONOUNS, key=len, reverse=True))))
_NOISE = re.compile(r"[~～…]+|\.{3,}|[“”\"'‘’]")


def _turn(clause: str) -> str:
    return _PRONOUN.sub(lambda m: _PRONOUNS[m.group(0)], clause)


def restate(text: str, is_threat: Callable[[str], bool], limit: int = 200) -> str:
    """The statement as sentences of kept clauses, or "" when nothing is left to restate.

    Cut at a clause boundary near `limit` characters (then "等情况。")."""
    sentences: list[str] = []
    size = 0
    cut = False
    for raw in _SENTENCES.split(_NOISE.sub("", text or "")):
        kept = []
        for clause in _CLAUSES.split(_FRAME.sub("", raw.strip())):
            clause = _FRAME.sub("", clause.strip())
            if not clause or is_threat(clause):
                continue
            if size + len(clause) > limit and (kept or sentences):
                cut = True
                break
            kept.append(_turn(clause))
            size += len(clause) + 1
        if kept:
            sentences.append("，".join(kept))
        if cut:
            break
    if not sentences:
        return ""
    if cut:
        return "。".join(sentences) + "等情况。"
    return "。".join(sentences) + "。"
