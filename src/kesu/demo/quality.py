"""Demo data of quality inspection: demo-quality reviews part of last month's sample
(marks drawn from a seeded generator, a few critical items failed), one handler contests a
review and demo-supervisor upholds it; two closed complaints go to the case library as a
good and a bad example with their lessons; so /quality, /quality/mine and /cases have
something to show."""

from __future__ import annotations

import random
from datetime import timedelta
from typing import Any

from kesu.clock import to_beijing
from kesu.law import promotion
from kesu.problems import Problem
from kesu.quality import reviews, sample, scorecard

REVIEWER = "demo-quality"
FINDINGS = [
    "开头未报工号，其余规范。",
    "答复引用条款准确，告知了处理时限。",
    "未核实机主身份即告知账户信息，否决项不通过。",
    "语气生硬，客户两次要求解释才说明计费规则。",
    "处理及时，回访记录完整。",
]
EXAMPLES = [
    ("good", ["答复时写明处理时限和依据条款，客户一次即满意。"]),
    ("bad", ["未核实身份即办理业务，险些泄露客户信息；任何账户操作前先核实机主身份。"]),
]


def _marks(rng: random.Random) -> dict[str, object]:
    marks: dict[str, object] = {}
    for item in scorecard.current().items:
        if item.kind == "points":
            marks[item.code] = rng.choice([item.max, item.max, item.max - 1, item.max - 2])
        else:
            marks[item.code] = rng.random() > (0.06 if item.critical else 0.2)
    return marks


def load(rt: Any, rng: random.Random, count: int = 14) -> dict[str, int]:
    today = to_beijing(rt.clock()).date()
    found = sample.sample(rt, REVIEWER, today - timedelta(days=30), today)
    by_handler: dict[str, list[dict[str, Any]]] = {}
    for x in found["items"]:
        by_handler.setdefault(x["handler"] or "", []).append(x)
    # Round robin over the handlers, so that every one of them has a review or two.
    turns = [xs[i] for i in range(count) for xs in by_handler.values() if i < len(xs)]
    made: list[dict[str, Any]] = []
    for x in turns[:count]:
        body = {"complaint": x["number"], "marks": _marks(rng), "findings": rng.choice(FINDINGS)}
        try:
            made.append(reviews.create(rt, REVIEWER, body))
        except Problem:
            continue
    low = [r for r in made if r["final_score"] < 90]
    if low:
        r = low[0]
        reviews.contest(rt, r["handler"], r["id"], "录音中已告知处理时限，请复核。")
        reviews.decide(rt, "demo-supervisor", r["id"], "upheld", min(100.0, r["score"] + 15),
                       "复听录音属实，改分。")  # fmt: skip
    promoted = 0
    for (verdict, lessons), r in zip(EXAMPLES, [made[-1], made[0]] if len(made) > 1 else [],
                                     strict=False):  # fmt: skip
        try:
            promotion.promote(
                rt, r["complaint"], {"verdict": verdict, "lessons": lessons}, REVIEWER
            )
            promoted += 1
        except Problem:
            continue
    return {"reviews": len(made), "promoted": promoted}
