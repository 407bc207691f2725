"""Demo: a broadband outage in 洛阳市 two days ago. Its complaints arrive within two
hours through the one registration, so the spike detector opens a mass incident the
way it would in production (data/incidents/spikes.yaml); an agent has drafted the
message to the customers, waiting for a supervisor to approve it on /incidents.
The outage's complaints come on top of the demo's count, in demos of FROM_COUNT
complaints or more (the small ones of the tests have none)."""

from __future__ import annotations

import random
from datetime import datetime, time, timedelta

from kesu.clock import BEIJING, FrozenClock
from kesu.complaints import registration
from kesu.demo import plans
from kesu.incidents import service

CITY, PROVINCE = "洛阳市", "河南省"
FROM_COUNT = 100
TEXTS = [
    "家里宽带从早上九点多开始断网，光猫LOS灯红色闪烁，重启也没用，要求尽快修复。",
    "小区整栋楼宽带都上不了网，邻居也一样，打了几次客服都没说什么时候能好。",
    "宽带突然断了，在家办公开不了视频会议，影响工作，要求说明原因和修复时间。",
    "光猫红灯一直闪，宽带和IPTV都用不了，孩子上网课也受影响，请尽快派人处理。",
    "上午宽带中断到现在还没恢复，要求减免本月宽带费并给出书面说明。",
    "整个小区宽带故障，物业说是运营商线路问题，希望尽快抢修。",
]
DRAFT = (
    "您好，洛阳市部分小区因施工挖断光缆导致宽带中断，现已抢修恢复。"
    "如仍无法上网，请重启光猫；中断期间的费用将按天减免。"
)


def outage(sim, clock: FrozenClock, rng: random.Random, now: datetime, count: int = 10) -> None:
    """`count` complaints of the outage, then the agent's draft of the one message."""
    day = (now - timedelta(days=2)).astimezone(BEIJING).date()
    start = datetime.combine(day, time(9, 40), tzinfo=BEIJING)
    for i in range(count):
        clock.now = start + timedelta(minutes=7 * i + rng.randrange(0, 6))
        customer = {**plans.new_customer(rng), "province": PROVINCE, "city": CITY}
        body = {
            "channel": "hotline",
            "received_at": clock.now,
            "customer": customer,
            "kind": "complaint",
            "category": "network",
            "title": "宽带中断",
            "description": TEXTS[i % len(TEXTS)],
            "first_receiver": rng.choice(plans.AGENTS),
        }
        registration.register(sim, body, actor=rng.choice(plans.AGENTS))
    clock.now += timedelta(hours=3)
    for item in service.listing(sim, "system", "open"):
        if item["area"] == CITY and item["category"] == "network":
            service.draft(sim, plans.AGENTS[0], item["id"], DRAFT)
