"""The admin page of the audit log: filters, paging, and each entry's details as an
auditor may see them (secrets dropped, numbers masked, a change as before → after).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import date, datetime, time, timedelta
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response

from kesu.accounts import audit, masking
from kesu.accounts import roles as r
from kesu.clock import BEIJING, supported_date
from kesu.complaints import lifecycle
from kesu.problems import Problem
from kesu.web.pages import Page, PageRoute, render, staff

router = APIRouter(route_class=PageRoute, include_in_schema=False)

AUDIT_PAGE = 50
# Codes of the audit log's target_type column, as the services write them.
AUDIT_TARGETS = ("user", "complaint", "calendar", "token", "session", "phone")
# Actors that are not users: their "role" as the audit log records it.
EXTRA_ROLES = {
    "system": {"name": "系统", "en": "System"},
    "anonymous": {"name": "未登录", "en": "Not signed in"},
    "customer": {"name": "客户", "en": "Customer"},
}
# Keys that must never reach a page, whatever a service one day writes in a detail.
SECRET_KEYS = ("password", "secret", "token", "cookie", "csrf", "code_hash", "key_material")


def _roles_table() -> dict[str, dict[str, Any]]:
    """Role code → {name, en}, for name() in templates; with the non-user actors."""
    table = {code: {"name": v["name"], "en": v.get("en")} for code, v in r.roles().items()}
    table.update(EXTRA_ROLES)
    return table


def _day(value: str | None, label: str) -> date | None:
    if not value:
        return None
    try:
        day = date.fromisoformat(value.strip())
    except ValueError:
        raise Problem(
            422, "invalid_date", "Invalid date", f"{label}日期格式应为 YYYY-MM-DD。"
        ) from None
    return supported_date(day, label)


def _safe_detail(detail: Any) -> Any:
    """Details as an auditor may see them: secrets dropped, numbers in texts masked."""
    if isinstance(detail, Mapping):
        return {
            k: ("（已隐藏）" if any(s in str(k).lower() for s in SECRET_KEYS) else _safe_detail(v))
            for k, v in detail.items()
        }
    if isinstance(detail, list):
        return [_safe_detail(v) for v in detail]
    return masking.deep_text(detail)


def _short(value: Any, limit: int = 120) -> str:
    if value is None:
        return "—"
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def detail_parts(detail: Any) -> list[tuple[str, str | None, str]]:
    """An entry's details as lines (key, before, after): for a change, only what changed."""
    safe = _safe_detail(detail)
    if not safe:
        return []
    if not isinstance(safe, Mapping):
        return [("", None, _short(safe))]
    parts: list[tuple[str, str | None, str]] = []
    before, after = safe.get("before"), safe.get("after")
    rest = dict(safe)
    if isinstance(before, Mapping) and isinstance(after, Mapping):
        rest.pop("before"), rest.pop("after")
        for key in [*after, *(k for k in before if k not in after)]:
            if before.get(key) != after.get(key):
                parts.append((key, _short(before.get(key), 60), _short(after.get(key), 60)))
    parts += [(key, None, _short(value)) for key, value in rest.items()]
    return parts


def action_label(t, lang: str, code: str) -> str:
    key = f"admin.action.{code}"
    text = t(key)
    if text != key:
        return text
    kind, _, action = code.partition(".")
    if kind == "complaint" and action in lifecycle.ACTIONS:
        entry = lifecycle.ACTIONS[action]
        return t("admin.action.complaint_prefix") + (entry["en"] if lang == "en" else entry["name"])
    return code


def _audit_actions(t, lang: str) -> list[tuple[str, str]]:
    from kesu.web.i18n import messages

    codes = [k.removeprefix("admin.action.") for k in messages() if k.startswith("admin.action.")]
    codes = [c for c in codes if c != "complaint_prefix"]
    codes += [f"complaint.{a}" for a in lifecycle.ACTIONS]
    return [(c, action_label(t, lang, c)) for c in codes]


@router.get("/admin/audit")
async def audit_page(pg: Page = Depends(staff)) -> Response:
    q = pg.request.query_params
    if not pg.can("audit.read"):  # the service says the same; said before parsing filters
        raise r.forbidden(pg.p, r.permissions()["audit.read"]["name"])
    keep = {
        k: q.get(k, "").strip()[:100]
        for k in ("actor", "action", "target_type", "target_id", "from", "to")
    }
    status = 200
    try:
        start, end = _day(keep["from"], "起始"), _day(keep["to"], "截止")
    except Problem as problem:
        pg.flash.append(("error", problem.detail))
        status, start, end = problem.status, None, None
    before = q.get("before_id", "")
    f: dict[str, Any] = {
        "actor": keep["actor"].lower() or None,
        "action": keep["action"] or None,
        "target_type": keep["target_type"] or None,
        "target_id": keep["target_id"] or None,
        "from": datetime.combine(start, time(0), tzinfo=BEIJING) if start else None,
        "to": datetime.combine(end + timedelta(days=1), time(0), tzinfo=BEIJING) if end else None,
        "before_id": int(before) if before.isdigit() else None,
        "limit": AUDIT_PAGE,
    }
    result = await run_in_threadpool(audit.audit_entries, pg.rt, pg.p, f)
    filters = {k: v for k, v in keep.items() if v}
    next_url = None
    if result["next_before_id"]:
        next_url = "/admin/audit?" + urlencode({**filters, "before_id": result["next_before_id"]})
    items = [
        {
            **e,
            "action_name": action_label(pg.t, pg.lang, e["action"]),
            "detail_parts": detail_parts(e["detail"]),
        }
        for e in result["items"]
    ]
    return render(
        pg,
        "admin/audit.html",
        status=status,
        items=items,
        f=keep,
        next_url=next_url,
        first_url="/admin/audit?" + urlencode(filters) if f["before_id"] else None,
        actions=_audit_actions(pg.t, pg.lang),
        targets=AUDIT_TARGETS,
        roles_table=_roles_table(),
    )
