"""The appeal centre's demo (KESU_MODE=centre or both): the operators with their user
bases, the centre's staff, and about twenty appeals received over the last two quarters,
each taken through appeals.service at the time it happened (a clock set to that moment),
so the rows, the history, the deadlines and the notices are what the centre's own work
would have left: some waiting for materials, some not accepted (with the article's
reason), redirected to the operator, referred, answered, in mediation, agreed, ended,
withdrawn, and one answered after its 30 days.

The texts, people and operators are in data/demo/appeals.yaml (invented appellants)."""

from __future__ import annotations

import dataclasses
from datetime import date, datetime, time, timedelta
from typing import Any

from kesu.accounts import users
from kesu.appeals import operators, records, service
from kesu.appeals.schemas import AppealIn
from kesu.clock import BEIJING, FrozenClock, to_beijing
from kesu.data_files import load_yaml
from kesu.problems import Problem
from kesu.store.db import read

OFFICERS = ("demo-appeal_officer", "gao.ying")
SUPERVISOR = "demo-appeal_supervisor"
# The centre's staff besides the documented demo users (accounts.bootstrap.demo_users).
STAFF = [("gao.ying", "高颖", "appeal_officer"), ("tang.jun", "唐军", "appeal_supervisor")]
CONFIRM = {"direct_interest": True, "settled": False, "other_body": False, "other_law": False}

AGREED = "企业同意按申诉请求处理，双方确认后签署调解协议。"
# Each plan: (day after receipt, action, parameters); "{today}" and "{perform_by}" are
# filled in at the step's own time.
_ACCEPT = [(2, "accept", {"confirm": CONFIRM}), (3, "refer", {})]
_ANSWER = (9, "answer", {"answer": "经核查，我公司正在处理，将与申诉人联系。"})
_MEDIATE = (
    14,
    "mediate",
    {
        "held_on": "{today}",
        "participants": "申诉人、被申诉企业客户服务部代表、申诉受理中心调解员",
        "notes": "双方陈述事实，中心释明相关规定，企业表示愿意协商解决。",
    },
)
PLANS: dict[str, list[tuple[int, str, dict[str, Any]]]] = {
    "agreement": [
        *_ACCEPT,
        _ANSWER,
        _MEDIATE,
        (
            16,
            "agree",
            {
                "terms": "企业退还争议费用并致歉，于协议签署后10日内完成。",
                "perform_by": "{perform_by}",
            },
        ),  # fmt: skip
        (24, "perform", {"note": "申诉人确认已收到退款。"}),
    ],
    "mediation_ended": [
        *_ACCEPT,
        (10, "answer", {"answer": "经核查，我公司计费准确，宣传资料已明示活动期限，不同意退费。"}),
        (15, "mediate", {**_MEDIATE[2], "notes": "企业坚持原处理意见，申诉人不接受。"}),
        (
            19,
            "end_mediation",
            {"reason": "双方分歧较大，企业不同意申诉人的请求，调解未能达成协议。"},
        ),
    ],
    "resolved": [
        (1, "accept", {"confirm": CONFIRM}),
        (2, "refer", {}),
        (8, "answer", {"answer": "已与申诉人联系，按申诉请求处理完毕，申诉人表示认可。"}),
        (12, "conclude", {"note": "企业已处理，申诉人电话确认认可处理结果。"}),
    ],
    "resolved_late": [
        (4, "accept", {"confirm": CONFIRM}),
        (5, "refer", {}),
        (20, "answer", {"answer": "已安排维修人员上门修复宽带故障，并向申诉人致歉。"}),
        (34, "conclude", {"note": "企业处理后申诉人认可；企业答复迟延，本中心答复超过30日期限。"}),
    ],
    "not_accepted_late": [
        (2, "reject", {"reason": "11-1", "note": "收费争议发生已超过五个月，不予受理。"}),
    ],
    "not_accepted_other_body": [
        (3, "reject", {"reason": "11-4", "note": "申诉人已向消费者协会投诉，消费者协会已受理。"}),
    ],
    "redirected": [(1, "redirect", {"note": "申诉人尚未向企业投诉，已告知先向企业投诉。"})],
    "withdrawn": [*_ACCEPT, (7, "withdraw", {"note": "企业已办理降档，申诉人来电撤回申诉。"})],
    "supplemented_agreed": [
        (3, "supplement", {"appellant.postcode": "{postcode}", "appellant.address": "{address}"}),
        (5, "accept", {"confirm": CONFIRM}),
        (6, "refer", {}),
        (14, "answer", {"answer": "经核查，该小区室内分布系统已纳入建设计划。"}),
        (18, "mediate", {**_MEDIATE[2], "held_on": "{today}"}),
        (
            20,
            "agree",
            {
                "terms": "企业于30日内完成小区室内覆盖，期间减免月租一个月。",
                "perform_by": "{perform_by}",
            },
        ),  # fmt: skip
    ],
    "mediating": [*_ACCEPT, (10, *_ANSWER[1:]), _MEDIATE],
    "answered": [*_ACCEPT, (10, *_ANSWER[1:])],
    "referred": list(_ACCEPT),
    "accepted": [(3, "accept", {"confirm": CONFIRM})],
    "missing_materials": [],
    "reviewing": [],
}
CHANNELS = ("web", "letter", "import", "phone", "web", "import")


def has_data(rt) -> bool:
    with read(rt.engine) as conn:
        return records.count(conn, []) > 0


def _staff(rt) -> None:
    for username, display, role in STAFF:
        try:
            users.create_user(rt, "kesu-demo", username, role, display_name=display)
        except Problem as err:
            if err.code != "user_exists":
                raise


def _at(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=BEIJING)


def _body(entry: dict[str, Any], i: int, data: dict[str, Any], received: datetime) -> AppealIn:
    matter = data["matters"][entry["matter"]]
    name, phone, address, postcode = data["appellants"][entry["appellant"]]
    day = to_beijing(received).date()
    late = entry["plan"] == "not_accepted_late"
    occurred = day - timedelta(days=215 if late else 40)
    complained = day - timedelta(days=20)
    redirected = entry["plan"] == "redirected"
    missing = entry["plan"] in ("missing_materials", "supplemented_agreed")
    channel = CHANNELS[i % len(CHANNELS)]
    return AppealIn.model_validate(
        {
            "appellant": {
                "name": name,
                "phone": phone,
                "address": None if missing else address,
                "postcode": None if missing else postcode,
            },
            "operator": entry["operator"],
            "request": matter["request"],
            "reasons": matter["reasons"],
            "facts": matter["facts"],
            "dispute": matter["dispute"],
            "category": matter["category"],
            "occurred_at": occurred.isoformat(),
            "complained_at": None if redirected else complained.isoformat(),
            "operator_answered_at": None if redirected else (complained + timedelta(days=6)),
            "appeal_date": day.isoformat(),
            "received_at": received,
            "channel": channel,
            "external_ref": f"BJ{day:%Y%m%d}{i + 1:04d}" if channel == "import" else None,
        }
    )


def _fill(params: dict[str, Any], today: date, appellant: list[str]) -> dict[str, Any]:
    values = {
        "today": today.isoformat(),
        "perform_by": (today + timedelta(days=30)).isoformat(),
        "address": appellant[2],
        "postcode": appellant[3],
    }
    return {
        k: v.format(**values) if isinstance(v, str) and "{" in v else v for k, v in params.items()
    }


def load(rt, progress=None) -> dict[str, int]:
    """The operators, the centre's staff and the demo appeals (once: nothing is added when
    appeals exist). Returns how many appeals were made and how many are open."""
    data = load_yaml("demo/appeals.yaml")
    real_now = rt.clock()
    for op in data["operators"]:
        operators.save(rt, "kesu-demo", op["code"], op["name"], op["address"], op["users"])
    _staff(rt)
    if has_data(rt):
        return {"appeals": 0, "open": 0}
    clock = FrozenClock(real_now)
    sim = dataclasses.replace(rt, clock=clock)
    today = to_beijing(real_now).date()
    made = opened = 0
    for i, entry in enumerate(data["appeals"]):
        received = _at(today - timedelta(days=entry["days_ago"]), 9 + i % 8, (i * 17) % 60)
        if received > real_now:
            received = real_now - timedelta(hours=1)
        clock.now = received
        officer = OFFICERS[i % len(OFFICERS)]
        view, _ = service.receive(sim, _body(entry, i, data, received), officer)
        for offset, action, params in PLANS[entry["plan"]]:
            at = _at(to_beijing(received).date() + timedelta(days=offset), 10, i % 60)
            if at >= real_now:
                break
            clock.now = at
            actor = SUPERVISOR if action in ("agree", "end_mediation", "reject") else officer
            filled = _fill(params, to_beijing(at).date(), data["appellants"][entry["appellant"]])
            view = service.act(sim, view["number"], action, filled, actor)
        made += 1
        opened += view["status"] not in ("concluded", "not_accepted", "redirected")
        if progress is not None:
            progress(made)
    clock.now = real_now
    return {"appeals": made, "open": opened}


def count() -> int:
    return len(load_yaml("demo/appeals.yaml")["appeals"])
