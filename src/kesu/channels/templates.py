"""Customer notification templates as admins see and edit them.

data/notifications.yaml holds the defaults. An admin's edit is a new version in the
database (who, when, why); the newest version is in force for the next message, and a
version without text restores the file's default. Nothing is overwritten, so the text a
customer was sent on any day can be traced. Edits are checked before they are saved: only
the fields the template's event fills in, balanced braces, and no more than three SMS
parts with the operator's signature. Needs `outbox.manage`; each edit is audited.
"""

from __future__ import annotations

from string import Formatter
from typing import TYPE_CHECKING, Any

from sqlalchemy import insert, select

from kesu.accounts.audit import audit
from kesu.accounts.roles import Actor, as_principal, require
from kesu.channels import notices, sms_text
from kesu.clock import BEIJING
from kesu.problems import Problem, not_found
from kesu.store import tables as t
from kesu.store.db import read, write

if TYPE_CHECKING:
    from sqlalchemy import Connection

    from kesu.runtime import Runtime

PERMISSION = "outbox.manage"
V = t.notification_template_versions.c
MAX_PARTS = 3
MAX_NOTE = 200

# What each field says, and a sample value for the preview.
FIELDS: dict[str, tuple[str, str]] = {
    "number": ("投诉单号", "TS20261207000123"),
    "portal": ("客户门户中该投诉的查询链接", "{public}/portal/complaints/TS20261207000123"),
    "reply_due": ("法定答复期限（日期）", "2026年12月21日"),
    "basis": ("期限依据（条款）", "（时限依据《电信用户申诉处理办法》第十条）"),
    "expected": ("新的预计答复日期", "2026年12月25日"),
    "reason": ("延期原因", "需协调网络部门现场测试"),
    "survey": (
        "满意度调查链接（一次有效，有效天数见 survey.yaml）",
        "{public}/portal/survey/TS20261207000123-0-20261214-0123456789ab",
    ),
}
COMMON = ("number", "portal")
BY_EVENT: dict[str, tuple[str, ...]] = {
    "accepted": ("reply_due", "basis"),
    "delay_told": ("expected", "reason"),
    "replied": ("survey",),
}


def fields_of(event: str) -> tuple[str, ...]:
    """The fields a template sent on `event` may use."""
    return COMMON + BY_EVENT.get(event, ())


def _bad(code: str, detail: str) -> Problem:
    return Problem(422, code, "Invalid template", detail)


def check(tpl: notices.Template, text: str, signature: str, public_url: str) -> str:
    """The edited text, tidied, or a 422 naming what is wrong."""
    text = "\n".join(line.rstrip() for line in text.strip().splitlines())
    if not text:
        raise _bad("template_empty", "模板内容不能为空；要恢复默认内容请用“恢复默认”。")
    allowed = fields_of(tpl.event)
    try:
        parsed = list(Formatter().parse(text))
    except ValueError:
        raise _bad(
            "template_bad_braces",
            "花括号不成对：字段请写成 {number} 这样，单独的括号请写成 {{ 或 }}。",
        ) from None
    used = {name for _, name, _, _ in parsed if name is not None}
    unknown = sorted(n for n in used if n not in allowed or any(c in n for c in ".[")) + sorted(
        {n for _, n, spec, conv in parsed if n and (spec or conv)}
    )
    if unknown:
        names = "、".join(f"{{{n}}}" for n in allowed)
        raise _bad(
            "template_unknown_field",
            f"模板中的字段 {'、'.join(f'{{{n}}}' for n in unknown)} 不可用（或带了格式），"
            f"此模板可用的字段：{names}。",
        )
    sample = preview(tpl, text, signature, public_url)
    if sms_text.parts(sample) > MAX_PARTS:
        raise _bad(
            "template_too_long",
            f"按示例内容发送将达 {len(sample)} 字、{sms_text.parts(sample)} 条短信，"
            f"请精简到 {MAX_PARTS} 条以内。",
        )
    return text


def preview(tpl: notices.Template, text: str, signature: str, public_url: str) -> str:
    """The text as a customer would receive it, with sample values."""
    public = public_url.rstrip("/")
    sample = {k: v.replace("{public}", public) for k, (_, v) in FIELDS.items()}
    return sms_text.signed(notices.render(tpl, sample, text), signature)


def _template(key: str) -> notices.Template:
    found = next((x for x in notices.all_templates() if x.key == key), None)
    if found is None:
        raise not_found("通知模板", key)
    return found


def _versions(conn: Connection, key: str) -> list[dict[str, Any]]:
    rows = conn.execute(
        select(t.notification_template_versions).where(V.key == key).order_by(V.id.desc())
    )
    return [
        {
            "id": r.id,
            "text": r.text,
            "restored_default": r.text is None,
            "note": r.note,
            "by": r.created_by,
            "at": r.created_at.astimezone(BEIJING).isoformat(),
        }
        for r in rows
    ]


def _view(rt: Runtime, conn: Connection, tpl: notices.Template, history: bool) -> dict[str, Any]:
    s = rt.settings
    text = notices.in_force(conn, tpl)
    versions = _versions(conn, tpl.key)
    shown = preview(tpl, text, s.sms_signature, s.public_url)
    out: dict[str, Any] = {
        "key": tpl.key,
        "event": tpl.event,
        "kinds": sorted(tpl.kinds),
        "essential": tpl.essential,
        "text": text,
        "default_text": tpl.text,
        "edited": text != tpl.text,
        "fields": {f: FIELDS[f][0] for f in fields_of(tpl.event)},
        "preview": shown,
        "preview_parts": sms_text.parts(shown),
        "versions": len(versions),
    }
    if history:
        out["history"] = versions
    return out


def listing(rt: Runtime, actor: Actor) -> dict[str, Any]:
    require(as_principal(actor), PERMISSION)
    with read(rt.engine) as conn:
        return {"items": [_view(rt, conn, x, False) for x in notices.all_templates()]}


def one(rt: Runtime, actor: Actor, key: str) -> dict[str, Any]:
    require(as_principal(actor), PERMISSION)
    tpl = _template(key)
    with read(rt.engine) as conn:
        return _view(rt, conn, tpl, True)


def save(rt: Runtime, actor: Actor, key: str, text: str | None, note: str | None) -> dict:
    """A new version of the template (`text` None: back to the file's default)."""
    p = as_principal(actor)
    require(p, PERMISSION)
    tpl = _template(key)
    note = (note or "").strip()[:MAX_NOTE] or None
    if text is not None:
        text = check(tpl, text, rt.settings.sms_signature, rt.settings.public_url)
    now = rt.clock()
    with write(rt.engine) as conn:
        current = notices.in_force(conn, tpl)
        if text == current or (text is None and current == tpl.text):
            return _view(rt, conn, tpl, True)  # nothing changes: no new version
        conn.execute(
            insert(t.notification_template_versions).values(
                key=key, text=text, note=note, created_by=p.name, created_at=now
            )
        )
        audit(
            conn,
            p,
            now,
            "notification_template.restore" if text is None else "notification_template.edit",
            "notice_template",
            key,
            {"note": note},
        )
        return _view(rt, conn, tpl, True)
