"""The demo's people and teams: who works in which team (with category skills), and each
team's assignment policy, so that every team's queue and each person's 我的待办 has work.

The documented demo users (demo-agent, demo-handler, …; accounts.bootstrap) are among
them; the others are actors of the replay only (their passwords are never shown).
"""

from __future__ import annotations

from typing import Any

from kesu.accounts import bootstrap, teams, users
from kesu.problems import Problem

# (username, display name, role, team, skills)
STAFF: list[tuple[str, str, str, str, list[str]]] = [
    ("demo-agent", "演示客服/受理员", "agent", "frontline", []),
    ("li.na", "李娜", "agent", "frontline", []),
    ("wang.lei", "王磊", "agent", "frontline", []),
    ("zhao.min", "赵敏", "agent", "frontline", []),
    ("chen.jing", "陈静", "agent", "frontline", []),
    ("demo-handler", "演示处理员", "handler", "billing", ["billing", "unauthorized"]),
    ("sun.li", "孙丽", "handler", "billing", ["billing"]),
    ("zhou.tao", "周涛", "handler", "network", ["network"]),
    ("ma.chao", "马超", "handler", "network", ["network", "usage"]),
    ("zhu.yan", "朱燕", "handler", "marketing", ["marketing"]),
    ("hu.ming", "胡明", "handler", "marketing", ["marketing", "service"]),
    ("demo-supervisor", "演示班组长/主管", "supervisor", "escalation", []),
    ("guo.jianguo", "郭建国", "supervisor", "escalation", []),
    ("he.chunmei", "何春梅", "supervisor", "frontline", []),
    ("demo-legal", "演示法务", "legal", "legal", ["security"]),
    ("xu.fawu", "徐法务", "legal", "legal", ["security", "unauthorized"]),
]
# Each team's assignment policy: (policy, by skill).
POLICIES: dict[str, tuple[str, bool]] = {
    "frontline": ("least_open", False),
    "billing": ("round_robin", True),
    "network": ("round_robin", False),
    "marketing": ("least_open", False),
    "escalation": ("round_robin", False),
    "legal": ("least_open", True),
}

AGENTS = [u for u, _, role, _, _ in STAFF if role == "agent"]
HANDLERS = [u for u, _, role, _, _ in STAFF if role == "handler"]
SUPERVISORS = [u for u, _, role, _, _ in STAFF if role == "supervisor"]


def ensure(rt: Any) -> None:
    """The demo users (documented passwords), the other staff, their teams and skills, and
    the teams' policies: made once, left as they are when they exist."""
    bootstrap.demo_users(rt)
    for username, display, role, team, skills in STAFF:
        try:
            users.create_user(rt, "kesu-demo", username, role, display_name=display)
        except Problem as err:
            if err.code != "user_exists":
                raise
        teams.set_user(rt, "kesu-demo", username, {"team": team, "skills": skills})
    for code, (policy, by_skill) in POLICIES.items():
        teams.change(rt, "kesu-demo", code, {"policy": policy, "by_skill": by_skill})
