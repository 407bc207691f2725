"""Message sources for admins (`channel_sources.manage`): list, add (the secret shown
once), change (label, paused or active, a new secret shown once), delete. Every change
is audited; a secret is never shown again after the answer that made it."""

from __future__ import annotations

import re
import secrets
from typing import TYPE_CHECKING, Any

from sqlalchemy.exc import IntegrityError

from kesu.accounts.audit import audit
from kesu.accounts.roles import Actor, as_principal, require
from kesu.channels import sources
from kesu.clock import to_beijing
from kesu.problems import Problem, not_found
from kesu.store.db import read, write

if TYPE_CHECKING:
    from kesu.runtime import Runtime

PERMISSION = "channel_sources.manage"
NAME_PATTERN = r"^[a-z0-9][a-z0-9_-]{1,39}$"  # the {source} of the URL
SECRET_PATTERN = r"^[!-~]{16,200}$"  # printable ASCII, no space
KIND_NAMES = {"sms": "短信", "wechat": "微信", "app": "App"}


def _iso(value: Any) -> str | None:
    return to_beijing(value).isoformat() if value is not None else None


def shown(s: dict[str, Any]) -> dict[str, Any]:
    """One source as the API and the page show it (never its secret)."""
    return {
        "name": s["name"],
        "kind": s["kind"],
        "label": s["label"],
        "state": s["state"],
        "created_by": s["created_by"],
        "created_at": _iso(s["created_at"]),
        "paused_at": _iso(s["paused_at"]),
        "messages": s.get("messages", 0),
        "last_message_at": _iso(s.get("last_message_at")),
        "url": f"/api/v1/channels/{s['name']}/messages",
    }


def check_name(name: Any) -> str:
    if not isinstance(name, str) or not re.fullmatch(NAME_PATTERN, name):
        raise Problem(
            422,
            "invalid_source_name",
            "Invalid source name",
            "来源名称须为 2–40 个小写英文字母、数字、“-”或“_”，"
            "以字母或数字开头（用在接收地址中）。",
            field="name",
        )
    return name


def check_kind(kind: Any) -> str:
    if kind not in sources.KINDS:
        raise Problem(
            422,
            "unknown_source_kind",
            "Unknown source kind",
            f"来源类型只能是 {'、'.join(f'{k}（{v}）' for k, v in KIND_NAMES.items())}。",
            field="kind",
        )
    return str(kind)


def _label(label: Any) -> str | None:
    if label is None or label == "":
        return None
    if not isinstance(label, str) or len(label.strip()) > 100:
        raise Problem(422, "text_too_long", "Label too long", "说明最多 100 个字。", field="label")
    return label.strip() or None


def _secret(given: Any) -> str:
    if given is None or given == "":
        return secrets.token_urlsafe(32)
    if not isinstance(given, str) or not re.fullmatch(SECRET_PATTERN, given):
        raise Problem(
            422,
            "invalid_source_secret",
            "Invalid source secret",
            "签名密钥须为 16–200 个英文字母、数字或符号（不含空格）；留空则由系统生成。",
            field="secret",
        )
    return given


def _one(conn: Any, name: str) -> dict[str, Any]:
    s = sources.get(conn, name)
    if s is None:
        raise not_found("消息来源", name)
    return s


def listing(rt: Runtime, actor: Actor) -> dict[str, Any]:
    require(as_principal(actor), PERMISSION)
    with read(rt.engine) as conn:
        items = [shown(s) for s in sources.listing(conn)]
    return {"items": items, "kinds": list(sources.KINDS)}


def one(rt: Runtime, actor: Actor, name: str) -> dict[str, Any]:
    require(as_principal(actor), PERMISSION)
    with read(rt.engine) as conn:
        found = [s for s in sources.listing(conn) if s["name"] == name]
        if not found:
            raise not_found("消息来源", name)
        return shown(found[0])


def create(
    rt: Runtime, actor: Actor, name: Any, kind: Any, label: Any = None, secret: Any = None
) -> dict[str, Any]:
    """A new active source; the answer carries its secret, this once."""
    p = as_principal(actor)
    require(p, PERMISSION)
    name, kind, label, key = check_name(name), check_kind(kind), _label(label), _secret(secret)
    now = rt.clock()
    exists = Problem(
        409, "source_exists", "Source exists", f"消息来源“{name}”已存在，请换一个名称。"
    )
    try:
        with write(rt.engine) as conn:
            if sources.get(conn, name) is not None:
                raise exists
            sources.add(conn, now, name, kind, label, key, p.name)  # unique: one of two wins
            audit(
                conn,
                p,
                now,
                "channel_source.create",
                "channel_source",
                name,
                {"kind": kind, "label": label, "secret_given": bool(secret)},
            )
            return {**shown(_one(conn, name)), "secret": key}
    except IntegrityError:
        raise exists from None


def change(
    rt: Runtime,
    actor: Actor,
    name: str,
    label: Any = None,
    active: bool | None = None,
    new_secret: bool = False,
) -> dict[str, Any]:
    """Label changed; `active` False pauses it (its requests are refused), True resumes;
    `new_secret` replaces the secret (the answer carries the new one, this once)."""
    p = as_principal(actor)
    require(p, PERMISSION)
    values: dict[str, Any] = {}
    if label is not None:
        values["label"] = _label(label)
    now = rt.clock()
    with write(rt.engine) as conn:
        before = _one(conn, name)
        if active is not None and (before["state"] == "active") != active:
            values["state"] = "active" if active else "paused"
            values["paused_at"] = None if active else now
        key = secrets.token_urlsafe(32) if new_secret else None
        if key is not None:
            values["secret"] = key
        if values:
            sources.change(conn, name, **values)
        detail: dict[str, Any] = {
            k: [before[k], v] for k, v in values.items() if k in ("label", "state")
        }
        if key is not None:
            detail["secret"] = "replaced"
        if detail:
            audit(conn, p, now, "channel_source.change", "channel_source", name, detail)
        out = shown(_one(conn, name))
        return {**out, "secret": key} if key is not None else out


def delete(rt: Runtime, actor: Actor, name: str) -> None:
    """The source removed: its requests are refused from now on (what it sent stays)."""
    p = as_principal(actor)
    require(p, PERMISSION)
    now = rt.clock()
    with write(rt.engine) as conn:
        s = _one(conn, name)
        sources.remove(conn, name)
        audit(
            conn,
            p,
            now,
            "channel_source.delete",
            "channel_source",
            name,
            {"kind": s["kind"], "label": s["label"]},
        )
