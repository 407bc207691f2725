"""First start and demo mode: the first admin with a one-time password; one demo user
per role with a documented password.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import func, select

from kesu.accounts import roles as r
from kesu.accounts.users import create_user
from kesu.problems import Problem
from kesu.store import tables as t
from kesu.store.db import read

if TYPE_CHECKING:
    from kesu.runtime import Runtime

DEMO_PASSWORD = "kesu-demo-{role}"


def has_users(rt: Runtime) -> bool:
    with read(rt.engine) as conn:
        return bool(conn.execute(select(func.count()).select_from(t.users)).scalar())


def bootstrap_admin(rt: Runtime) -> str | None:
    """On the first start, an admin with a one-time password (returned once, to print)."""
    if has_users(rt):
        return None
    try:
        _, password = create_user(rt, "kesu-setup", "admin", "admin", display_name="管理员")
    except Problem as err:
        if err.code == "user_exists":  # another process was first
            return None
        raise
    return password


def demo_users(rt: Runtime) -> list[tuple[str, str, str | None]]:
    """One user per role with a documented password: demo mode only."""
    made = []
    for role in r.roles():
        username = f"demo-{role}"
        org = "示例代理商甲" if r.roles()[role].get("scope") == "org" else None
        password = DEMO_PASSWORD.format(role=role)
        try:
            create_user(
                rt,
                "kesu-demo",
                username,
                role,
                password,
                org=org,
                display_name=f"演示{r.roles()[role]['name']}",
            )
        except Problem as err:
            if err.code != "user_exists":
                raise
        made.append((username, password, org))
    return made
