"""Roles, permissions and the principal acting (pure).

Every use case asks `require(principal, permission)`; the API, the pages and
the CLI pass their principal to the same service functions, so they cannot
disagree. The CLI and internal jobs act as the system principal.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from kesu.data_files import load_yaml
from kesu.problems import Problem


@lru_cache(maxsize=1)
def _data() -> dict[str, Any]:
    data = load_yaml("accounts/roles.yaml")
    perms = set(data["permissions"])
    for name, role in data["roles"].items():
        unknown = set(role["permissions"]) - perms
        if unknown:
            raise ValueError(f"role {name}: unknown permissions {sorted(unknown)}")
        if role.get("scope", "all") not in ("all", "org"):
            raise ValueError(f"role {name}: scope must be all or org")
    for action, allowed in data["actions"].items():
        if set(allowed) - perms:
            raise ValueError(f"action {action}: unknown permissions")
    return data


def roles() -> dict[str, dict[str, Any]]:
    return _data()["roles"]


def permissions() -> dict[str, dict[str, Any]]:
    return _data()["permissions"]


def action_permissions(action: str) -> list[str]:
    return list(_data()["actions"].get(action, ["complaint.handle"]))


@dataclass(frozen=True)
class Principal:
    """Who is acting: a user (by session or token), a customer, or the system."""

    name: str
    role: str
    permissions: frozenset[str]
    kind: str = "user"  # user | token | customer | system
    org: str | None = None  # reseller organisation, for scope "org"
    scope: str = "all"
    user_id: int | None = None
    phone_hash: str | None = None  # customers: the number they proved they hold
    ip: str | None = None
    session_id: str | None = None
    extra: dict[str, Any] = field(default_factory=dict, compare=False, hash=False)

    @property
    def role_name(self) -> str:
        if self.kind == "system":
            return "系统"
        if self.kind == "customer":
            return "客户"
        return roles().get(self.role, {}).get("name", self.role)

    def can(self, permission: str) -> bool:
        return permission in self.permissions

    def can_any(self, perms: Iterable[str]) -> bool:
        return any(p in self.permissions for p in perms)


def for_role(
    name: str,
    role: str,
    *,
    kind: str = "user",
    org: str | None = None,
    user_id: int | None = None,
    scopes: Iterable[str] | None = None,
    ip: str | None = None,
    session_id: str | None = None,
) -> Principal:
    r = roles()[role]
    perms = frozenset(r["permissions"])
    if scopes is not None:  # a token limited to some of its user's permissions
        perms = perms & frozenset(scopes)
    return Principal(
        name=name,
        role=role,
        permissions=perms,
        kind=kind,
        org=org,
        scope=r.get("scope", "all"),
        user_id=user_id,
        ip=ip,
        session_id=session_id,
    )


def system(name: str = "system") -> Principal:
    """The CLI, the worker, the demo loader: trusted code on the server itself."""
    return Principal(name=name, role="system", permissions=frozenset(permissions()), kind="system")


Actor = Principal | str


def as_principal(actor: Actor) -> Principal:
    """A plain name is trusted internal code (CLI, worker, imports, tests)."""
    return actor if isinstance(actor, Principal) else system(actor)


def require(principal: Principal, permission: str) -> None:
    if not principal.can(permission):
        raise forbidden(principal, permissions().get(permission, {}).get("name", permission))


def require_any(principal: Principal, perms: Iterable[str], what: str) -> None:
    if not principal.can_any(perms):
        raise forbidden(principal, what)


def forbidden(principal: Principal, what: str) -> Problem:
    return Problem(
        403,
        "forbidden",
        "Forbidden",
        f"当前角色（{principal.role_name}）无权执行此操作：{what}。",
    )
