"""What customers are told, and when: the templates of data/notifications.yaml rendered
for one complaint event and put in the outbox, in the transaction of the change.

Non-urgent SMS wait for the end of the quiet hours (Beijing time); a customer who opted
out gets only the essential messages (the complaint accepted, answered).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from functools import cache
from typing import Any

from sqlalchemy import Connection, delete, insert, select

from kesu.accounts import crypto
from kesu.channels import outbox
from kesu.clock import BEIJING, as_utc
from kesu.data_files import load_yaml
from kesu.store import tables as t


@dataclass(frozen=True)
class Template:
    key: str
    event: str
    kinds: frozenset[str]
    essential: bool
    text: str


@dataclass(frozen=True)
class Notices:
    customer: dict[str, list[Template]]  # by event; the first for the kind is used


def quiet_window(text: str) -> tuple[time, time] | None:
    """`21:00-08:00` → (21:00, 08:00); empty or `off` → None (no quiet hours)."""
    text = text.strip()
    if text.lower() in ("", "off", "none"):
        return None
    start, _, end = text.partition("-")

    def clock(part: str) -> time:
        hours, _, minutes = part.strip().partition(":")
        return time(int(hours), int(minutes or 0))

    return clock(start), clock(end)


@cache
def notices() -> Notices:
    raw = load_yaml("notifications.yaml")
    customer: dict[str, list[Template]] = {}
    for key, item in raw["customer"].items():
        tpl = Template(
            key, item["event"], frozenset(item["kinds"]), bool(item["essential"]), item["text"]
        )
        customer.setdefault(tpl.event, []).append(tpl)
    return Notices(customer)


def after_quiet_hours(now: datetime, start: time, end: time) -> datetime | None:
    """When a non-urgent SMS may go if `now` is in the quiet hours (Beijing), else None."""
    local = now.astimezone(BEIJING)
    at = local.time()
    quiet = (at >= start or at < end) if start > end else (start <= at < end)
    if not quiet:
        return None
    day = local.date() if at < end else local.date() + timedelta(days=1)
    return as_utc(datetime.combine(day, end, tzinfo=BEIJING))


def render(tpl: Template, fields: Mapping[str, Any], text: str | None = None) -> str:
    """The template's text (or `text`, the one in force) with the fields filled in; the
    file's line breaks are only for reading and are dropped."""
    return "".join((tpl.text if text is None else text).split("\n")).format_map(dict(fields))


def in_force(conn: Connection, tpl: Template) -> str:
    """The text in force: the newest version an admin saved, or the file's default."""
    v = t.notification_template_versions.c
    newest = conn.execute(
        select(v.text).where(v.key == tpl.key).order_by(v.id.desc()).limit(1)
    ).first()
    return tpl.text if newest is None or newest.text is None else newest.text


def opted_out(conn: Connection, phone: str) -> bool:
    return opted_out_hash(conn, crypto.phone_hash(phone))


def opted_out_hash(conn: Connection, phone_hash: str) -> bool:
    o = t.notification_optouts.c
    found = conn.execute(select(o.phone_hash).where(o.phone_hash == phone_hash))
    return found.first() is not None


def set_opt_out(conn: Connection, phone: str, out: bool, now: datetime) -> None:
    set_opt_out_hash(conn, crypto.phone_hash(phone), out, now)


def set_opt_out_hash(conn: Connection, phone_hash: str, out: bool, now: datetime) -> None:
    """A customer's choice: only the essential messages (out) or all of them."""
    o = t.notification_optouts.c
    conn.execute(delete(t.notification_optouts).where(o.phone_hash == phone_hash))
    if out:
        conn.execute(insert(t.notification_optouts).values(phone_hash=phone_hash, created_at=now))


def all_templates() -> list[Template]:
    """Every customer template of the file, in its order."""
    return [tpl for group in notices().customer.values() for tpl in group]


def template(event: str, kind: str) -> Template | None:
    """The customer's template for `event` on a complaint of `kind`, if there is one."""
    return next((x for x in notices().customer.get(event, ()) if kind in x.kinds), None)


def wanted(event: str, kind: str) -> bool:
    """Whether customers are told of `event` on a complaint of `kind`."""
    return template(event, kind) is not None


def tell_customer(
    conn: Connection,
    now: datetime,
    event: str,
    kind: str,
    phone: str | None,
    fields: Mapping,
    quiet: tuple[time, time] | None = None,
) -> str | None:
    """The customer's SMS for `event`, if there is one for this kind of complaint; the
    outbox id, or None when nothing is sent (no template, no number, opted out)."""
    tpl = template(event, kind)
    if tpl is None or not phone:
        return None
    if not tpl.essential and opted_out(conn, phone):
        return None
    wait = after_quiet_hours(now, *quiet) if quiet else None
    body = render(tpl, fields, in_force(conn, tpl))
    return outbox.enqueue(conn, now, "sms", phone, body, f"customer.{tpl.key}", not_before=wait)
