"""Demo complaints' plans: who complains, from where, through which channel, and the steps
of each complaint's life (accept, transfer, propose, approve, reply, call back, close,
reopen ...) with their delays. Seeded randomness only: no database, no clock.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from kesu.complaints import vocabulary as vocab
from kesu.demo import staff

SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘蒋蔡余"
    "杜叶程魏苏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙"
    "史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
)
GIVEN = (
    "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰飞红鹏辉建国志宏新春梅海燕晨"
    "阳欣怡子涵浩然宇轩梓萱思远佳琪文博雨桐"
)
PROVINCES: list[tuple[str, list[str], int]] = [
    ("河南省", ["郑州市", "洛阳市", "南阳市", "新乡市", "周口市"], 20),
    ("重庆市", ["渝中区", "江北区", "万州区", "涪陵区", "沙坪坝区"], 14),
    ("广东省", ["广州市", "深圳市", "佛山市", "东莞市"], 12),
    ("江苏省", ["南京市", "苏州市", "无锡市", "徐州市"], 9),
    ("四川省", ["成都市", "绵阳市", "南充市"], 8),
    ("浙江省", ["杭州市", "宁波市", "温州市"], 8),
    ("北京市", ["朝阳区", "海淀区", "丰台区"], 7),
    ("上海市", ["浦东新区", "徐汇区", "闵行区"], 7),
    ("湖北省", ["武汉市", "宜昌市", "襄阳市"], 6),
    ("山东省", ["济南市", "青岛市", "临沂市"], 6),
    ("安徽省", ["合肥市", "芜湖市"], 3),
]
CHANNELS_BY_STYLE = {
    "workorder": [
        ("hotline", 60),
        ("store", 12),
        ("kiosk", 3),
        ("sms", 4),
        ("letter", 3),
        ("group_hotline", 8),
        ("media", 4),
        ("chat", 6),
    ],
    "first_person": [("app", 30), ("web", 20), ("wechat", 20), ("weibo", 12), ("chat", 18)],
    "email": [("email", 85), ("letter", 15)],
}
TEAM_BY_CATEGORY = {
    "network": "network",
    "billing": "billing",
    "unauthorized": "billing",
    "marketing": "marketing",
    "security": "legal",
}
# The demo's people are users of kesu in teams (demo/staff.py): accepting makes a
# complaint the accepter's, a transfer goes by the receiving team's policy.
AGENTS = staff.AGENTS
HANDLERS = staff.HANDLERS
SUPERVISORS = staff.SUPERVISORS
# Complaints with these flags, and appeals, go to the escalations team.
ESCALATED_FLAGS = frozenset({"media", "regulator", "legal"})
REASONS = list(vocab.VALIDITY_REASONS)


def _pick(rng: random.Random, weighted: list[tuple[str, int]]) -> str:
    values, weights = zip(*weighted, strict=True)
    return rng.choices(values, weights)[0]


def new_customer(rng: random.Random) -> dict[str, Any]:
    province, cities, _ = rng.choices(PROVINCES, [p[2] for p in PROVINCES])[0]
    surname = rng.choice(SURNAMES)
    given = "".join(rng.choice(GIVEN) for _ in range(rng.choice((1, 2))))
    prefix = rng.choice(["133", "135", "138", "139", "153", "177", "180", "186", "189", "199"])
    return {
        "phone": prefix + "".join(str(rng.randrange(10)) for _ in range(8)),
        "name": surname + given,
        "account": f"{rng.randrange(10**9, 10**10)}",
        "province": province,
        "city": rng.choice(cities),
        "area": "rural" if rng.random() < 0.2 else "urban",
    }


# The satisfaction survey's other answers as the demo's customers give them with their
# overall rating (no random draw: the rest of the demo stays as it was).
_ALONG = {
    "satisfied": {"resolved": "yes", "attitude": "satisfied", "speed": "satisfied"},
    "basically_satisfied": {"resolved": "partly", "attitude": "satisfied", "speed": "fair"},
    "dissatisfied": {"resolved": "no", "attitude": "fair", "speed": "dissatisfied"},
}


def survey_of(result: str) -> dict[str, str]:
    """A handler's phone survey (data/complaints/survey.yaml) with this overall answer."""
    return {"overall": result, **_ALONG[result]}


def hours(rng: random.Random, low: float, high: float) -> timedelta:
    return timedelta(hours=rng.uniform(low, high))


def plan(rng: random.Random, entry: dict[str, Any], received: datetime) -> list[tuple]:
    """The steps of one complaint's life: (delay after the previous step, action, params, actor)."""
    kind = entry["kind"]
    handler = rng.choice(HANDLERS)
    steps: list[tuple] = []
    roll = rng.random()
    # Closing needs a root cause (complaints.lifecycle): the entry's, as the handler found it.
    cause = {"root_cause": entry.get("root_cause") or "other"}
    if kind in ("inquiry", "consultation"):
        if kind == "consultation" and roll < 0.12:
            return steps  # never answered: the watcher turns it into a complaint
        steps.append(
            (
                hours(rng, 0.05, 20),
                "reply",
                {"resolution": entry["resolution"]},
                rng.choice(AGENTS),
            )
        )
        if rng.random() < 0.7:
            steps.append(
                (
                    hours(rng, 4, 30),
                    "callback",
                    {
                        "result": _pick(
                            rng,
                            [("satisfied", 75), ("basically_satisfied", 17), ("dissatisfied", 8)],
                        )
                    },
                    handler,
                )
            )
            steps.append((hours(rng, 0.1, 3), "close", cause, handler))
        return steps
    if roll < 0.04:
        steps.append((hours(rng, 0.5, 20), "accept", {}, rng.choice(AGENTS)))
        steps.append(
            (
                hours(rng, 2, 48),
                "invalidate",
                {"reason": rng.choice(REASONS), "note": "经核实不符合有效投诉条件，已告知客户。"},
                handler,
            )
        )
        return steps
    late_ack = rng.random() < 0.06
    steps.append(
        (
            hours(rng, 25, 40) if late_ack else hours(rng, 0.2, 18),
            "accept",
            {},
            rng.choice(AGENTS),
        )
    )
    compensation = Decimal(str(entry.get("compensation") or 0))
    needs_approval = compensation > 100 or bool(
        set(entry.get("risk_flags") or ()) & vocab.APPROVAL_FLAGS
    )
    team = TEAM_BY_CATEGORY.get(entry["category"])
    if kind == "appeal" or set(entry.get("risk_flags") or ()) & ESCALATED_FLAGS:
        team = "escalation"
    if team and (kind != "fault" or team == "network") and rng.random() < 0.6:
        steps.append(
            (
                hours(rng, 0.2, 6),
                "transfer",
                {"team": team, "note": "转专业班组核查，首问受理员继续跟踪。"},
                rng.choice(AGENTS),
            )
        )
    if kind == "fault":
        late = rng.random() < 0.15
        steps.append(
            (
                hours(rng, 50, 90) if late else hours(rng, 2, 40),
                "reply",
                {"resolution": entry["resolution"], "root_cause": entry.get("root_cause")},
                handler,
            )
        )
    else:
        steps.append((hours(rng, 1, 48), "investigate", {}, handler))
        if rng.random() < 0.08:
            return steps  # stalled in investigation: it will run past its deadlines
        propose = {"resolution": entry["resolution"], "root_cause": entry.get("root_cause")}
        if compensation:
            propose["compensation"] = compensation
            propose["remedy_kind"] = _remedy_kind(entry["resolution"])
        slow = rng.random() < 0.1
        steps.append(
            (
                hours(rng, 24 * 12, 24 * 18) if slow else hours(rng, 6, 24 * 5),
                "propose",
                propose,
                handler,
            )
        )
        if rng.random() < 0.05:
            return steps  # waiting in the approval queue or for the handler to reply
        if needs_approval:
            steps.append(
                (
                    hours(rng, 1, 30),
                    "approve",
                    {"note": "同意该处理方案。"},
                    rng.choice(SUPERVISORS),
                )
            )
            if rng.random() < 0.15:
                return steps
        steps.append((hours(rng, 0.5, 24), "reply", {}, handler))
    outcome = rng.random()
    if outcome < 0.05:
        for _ in range(3):
            steps.append((hours(rng, 3, 20), "callback", {"result": "unreachable"}, handler))
        unreached = {**cause, "note": "三次回访未联系上，按规定归档。"}
        steps.append((hours(rng, 0.1, 2), "close", unreached, handler))
        return steps
    result = _pick(rng, [("satisfied", 66), ("basically_satisfied", 20), ("dissatisfied", 14)])
    steps.append((hours(rng, 6, 48), "callback", {"survey": survey_of(result)}, handler))
    if rng.random() < 0.05:
        return steps  # called back, not yet archived
    steps.append((hours(rng, 0.1, 4), "close", cause, handler))
    if (result == "dissatisfied" and rng.random() < 0.6) or rng.random() < 0.02:
        steps.append(
            (
                hours(rng, 12, 24 * 6),
                "reopen",
                {"note": "客户对处理结果不满意，再次来电，重开核查。"},
                rng.choice(AGENTS),
            )
        )
        steps.append(
            (
                hours(rng, 24, 24 * 4),
                "propose",
                {"resolution": "重新核查后：" + entry["resolution"]},
                handler,
            )
        )
        if needs_approval:
            steps.append((hours(rng, 1, 12), "approve", {}, rng.choice(SUPERVISORS)))
        steps.append((hours(rng, 1, 24), "reply", {}, handler))
        steps.append(
            (hours(rng, 12, 48), "callback", {"survey": survey_of("basically_satisfied")}, handler)
        )
        steps.append((hours(rng, 0.1, 3), "close", cause, handler))
    return steps


# What a demo resolution's amount is, read from its words (the first that says it).
_REMEDY_WORDS = (
    ("赔偿", "damages"),
    ("退还", "refund"),
    ("退费", "refund"),
    ("退回", "refund"),
    ("减免", "reduction"),
    ("免收", "reduction"),
)


def _remedy_kind(resolution: str) -> str:
    return next((kind for word, kind in _REMEDY_WORDS if word in resolution), "goodwill")


RESELLERS = ("示例代理商甲", "示例代理商乙", None)


def payload(
    rng: random.Random,
    entry: dict[str, Any],
    customer: dict[str, Any],
    received: datetime,
    index: int,
) -> dict[str, Any]:
    kind = entry["kind"]
    channels = list(vocab.CHANNELS)
    if index < len(channels) and kind != "appeal":
        channel = channels[index]  # every channel appears at least once
    elif kind == "appeal":
        channel = "regulator" if rng.random() < 0.8 else "group_hotline"
    else:
        channel = _pick(rng, CHANNELS_BY_STYLE.get(entry["style"], CHANNELS_BY_STYLE["workorder"]))
    return {
        "channel": channel,
        "received_at": received,
        "customer": customer,
        "kind": kind,
        "category": entry["category"],
        "title": entry["title"],
        "description": entry["description"],
        "demands": entry.get("demands") or None,
        # The repeat flag is kesu's to derive (complaints.repeats), never the text's.
        "risk_flags": [
            f
            for f in entry.get("risk_flags") or ()
            if f in vocab.RISK_FLAGS and f not in vocab.DERIVED_FLAGS
        ],
        "first_receiver": rng.choice(AGENTS),
        # Some store sales were made by resellers: demo-reseller (示例代理商甲) sees those.
        "reseller": RESELLERS[index % len(RESELLERS)] if channel == "store" else None,
    }
