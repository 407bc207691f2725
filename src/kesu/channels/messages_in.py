"""Messages in: an SMS reply, a WeChat or an app message posted by a configured source
(`POST /api/v1/channels/{source}/messages`, signed: channels.sources).

What a message becomes (docs/channels.md, "Messages in"):

1. It refers to a complaint when it names one (`complaint_number`, or a number TS… in
   its text) that is open and the same customer's (the same phone number); without a
   number, when the customer has exactly one open complaint and triage does not read the
   message as another matter (a confident category other than that complaint's).
   It is then added to that complaint as the customer's supplement (an event
   `customer_info_added`, the text as its note, the source and message id in its data),
   and the complaint's assignee is told (channels.staff_notices.customer_wrote, as for
   mail). A message naming a complaint of the same customer that is no longer open
   (closed, merged, invalid) is recorded on it as `reopen_requested` (result
   `reopen_requested`): the assignee and the team's supervisors are told and decide
   whether to reopen it; no new complaint is registered.
2. Otherwise it is registered as a new complaint through `channels.intake.receive`: the
   channel is the source's kind (sms, wechat, app), the kind from triage when it is
   confident (else complaint), the category from triage at registration; idempotent by
   `hook:<source>:<message id>`; the registration event keeps `intake` (source, kind,
   message id, the number it named if any).

Each source's message id is taken once (channel_messages): sent again with a fresh
signature it is answered with what became of it the first time, and changes nothing.
Bad input is refused before anything is written.
"""

from __future__ import annotations

import json
import re
from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError
from pydantic_core import PydanticCustomError

from kesu.accounts import crypto
from kesu.accounts.audit import audit
from kesu.channels import intake, phones, sources, staff_notices
from kesu.complaints import events, lookups
from kesu.complaints.queries import find, load
from kesu.complaints.schemas import MAX_DESCRIPTION, PHONE_PATTERN, ComplaintIn
from kesu.problems import Problem, field_error
from kesu.store.db import read, write
from kesu.triage import model

if TYPE_CHECKING:
    from kesu.runtime import Runtime

NUMBER = re.compile(r"TS\d{14}")
# channel_messages.result holds 12 characters: what is stored → what the API answers.
RESULTS = {"reopen": "reopen_requested"}


def _number(value: str) -> str:
    if not NUMBER.fullmatch(value):
        raise PydanticCustomError(
            "invalid_value", "投诉单号“{value}”格式不对，应为 TS 加 14 位数字。", {"value": value}
        )
    return value


class MessageIn(BaseModel):
    """A customer's message as a source posts it."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, populate_by_name=True)

    id: Annotated[str, Field(min_length=1, max_length=100, pattern=r"^[!-~]+$")]
    sender: Annotated[str, Field(alias="from", min_length=1, max_length=100)]
    phone: Annotated[str, Field(max_length=32, pattern=PHONE_PATTERN)] | None = None
    text: Annotated[str, Field(min_length=1, max_length=MAX_DESCRIPTION)]
    received_at: Annotated[str, Field(max_length=40)] | None = None
    complaint_number: Annotated[str, Field(max_length=16), AfterValidator(_number)] | None = None


class _Taken(Exception):
    """The message id was taken in meanwhile (a concurrent copy): answer what it became."""


def _invalid(err: ValidationError) -> Problem:
    errors = [field_error(e) for e in err.errors()]  # type: ignore[arg-type]
    first = errors[0]
    return Problem(422, first["code"], "Invalid input", first["detail"], errors=errors)


def parse(body: bytes) -> MessageIn:
    """The body as a message (422 naming what is wrong)."""
    try:
        data = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as err:
        raise Problem(
            422, "invalid_json", "Invalid JSON", f"请求体不是合法的 UTF-8 JSON：{err}"
        ) from None
    if not isinstance(data, dict):
        raise Problem(422, "invalid_type", "Invalid body", "请求体应为 JSON 对象。")
    try:
        return MessageIn.model_validate(data)
    except ValidationError as err:
        raise _invalid(err) from None


def customer_phone(m: MessageIn) -> str:
    """The customer's number: `phone`, else `from` when it is a number (an SMS)."""
    for value in (m.phone, m.sender):
        number = phones.digits(value)
        if value and phones.is_phone(number):
            return number
    raise Problem(
        422,
        "phone_required",
        "Customer phone required",
        "无法确定客户号码：发送方（from）不是电话号码时（如微信 openid），"
        "请在 phone 中给出客户绑定的手机号码。",
        field="phone",
    )


def _kind(text: str) -> tuple[str, str | None]:
    """(kind, category) as triage reads the text: the kind when it is confident, else
    complaint; the category None when triage wants a person to decide."""
    try:
        clf = model.shipped()
    except model.ModelMissing:
        return "complaint", None
    [p] = clf.predict([text])
    confident = (p.kind_confidence or 0) >= model.config()["confidence_threshold"]
    return (p.kind if p.kind and confident else "complaint"), (
        None if p.needs_review else p.category
    )


def complaint_of(m: MessageIn, source: dict[str, Any], kind: str, now: datetime) -> ComplaintIn:
    """The complaint a message would register (422 when it cannot be one)."""
    body: dict[str, Any] = {
        "channel": source["kind"],
        "customer": {"phone": customer_phone(m)},
        "kind": kind,
        "description": m.text,
    }
    if m.received_at:
        body["received_at"] = m.received_at
    complaint = intake.validate(body)
    if complaint.received_at is not None and complaint.received_at > now + sources.WINDOW:
        raise Problem(
            422,
            "received_in_future",
            "Receipt time in the future",
            "消息时间（received_at）不能晚于当前时间。",
            field="received_at",
        )
    return complaint


def named(m: MessageIn) -> str | None:
    """The complaint number the message names (its field, else the first in its text)."""
    if m.complaint_number:
        return m.complaint_number
    found = NUMBER.search(m.text)
    return found.group(0) if found else None


def refers_to(conn, m: MessageIn, phone: str, category: str | None) -> str | None:
    """The complaint of this customer the message is about, or None (the rule above):
    the one it names (open or not), else its one open complaint."""
    phone_hash = crypto.phone_hash(phone)
    number = named(m)
    if number is not None:
        row = find(conn, number)
        mine = row is not None and row.customer_phone_hash == phone_hash
        return number if mine and row.anonymised_at is None else None
    found = lookups.open_numbers_of_customer(conn, phone_hash)
    if len(found) != 1:
        return None
    other_matter = category is not None and found[0].category not in (None, category)
    return None if other_matter else found[0].number


def take(
    rt: Runtime, name: str, stamp: str | None, sig: str | None, body: bytes
) -> tuple[dict[str, Any], bool]:
    """A signed request of source `name`: ({result, number, …}, whether a complaint was
    registered now). Refused (401) unless signed right and fresh and not seen before;
    bad input (422) writes nothing."""
    now = rt.clock()
    with read(rt.engine) as conn:
        source = sources.verify(conn, name, stamp, sig, body, now)
    m = parse(body)
    kind, category = _kind(m.text)
    complaint = complaint_of(m, source, kind, now)
    with write(rt.engine) as conn:
        sources.seen(conn, name, str(sig), now)  # one of two identical requests gets past
    try:
        return _take(rt, source, m, complaint, category, now)
    except BaseException:
        with write(rt.engine) as conn:  # not taken: the same signed request may come again
            sources.forget(conn, name, str(sig))
        raise


def _answer(done: dict[str, Any], again: bool) -> dict[str, Any]:
    result = RESULTS.get(done["result"], done["result"])
    return {"result": result, "number": done["number"], "already_received": again}


def _take(
    rt: Runtime,
    source: dict[str, Any],
    m: MessageIn,
    complaint: ComplaintIn,
    category: str | None,
    now: datetime,
) -> tuple[dict[str, Any], bool]:
    name = source["name"]
    with read(rt.engine) as conn:
        done = sources.taken(conn, name, m.id)
        if done is not None:
            return _answer(done, True), False
        target = refers_to(conn, m, complaint.customer.phone, category)
    try:
        if target is not None:
            added = _supplement(rt, source, m, target, complaint.customer.phone, now)
            if added is not None:
                return _answer(added, False), False
        return _register(rt, source, m, complaint)
    except _Taken:
        with read(rt.engine) as conn:
            done = sources.taken(conn, name, m.id)
        if done is None:
            raise
        return _answer(done, True), False


def _supplement(
    rt: Runtime, source: dict[str, Any], m: MessageIn, number: str, phone: str, now: datetime
) -> dict[str, Any] | None:
    """The message added to the complaint (on one no longer open that it names: a
    request to reopen it); None if that complaint closed meanwhile and the message did not
    name it (then it is registered)."""
    name, actor = source["name"], f"hook:{source['name']}"
    with write(rt.engine) as conn:
        row = load(conn, number, lock=True)
        closed = not row.is_open
        if (closed and named(m) != number) or row.customer_phone_hash != crypto.phone_hash(phone):
            return None
        result = "reopen" if closed else "supplemented"
        if not sources.record(conn, name, m.id, result, number, now):
            raise _Taken
        data: dict[str, Any] = {
            "chars": len(m.text),
            "source": "hook",
            "channel": source["kind"],
            "channel_source": name,
            "ref": m.id,
        }
        if closed:
            data["status_then"] = row.status
        kind = "reopen_requested" if closed else "customer_info_added"
        events.append(conn, row.id, now, kind, actor, None, None, m.text, data)
        staff_notices.customer_wrote(conn, now, rt.settings.public_url, row, closed, "发来消息")
        audit(
            conn,
            actor,
            now,
            "channel.message",
            "complaint",
            number,
            {"source": name, "message_id": m.id, "result": RESULTS.get(result, result)},
        )
    return {"result": result, "number": number}


def _register(
    rt: Runtime, source: dict[str, Any], m: MessageIn, complaint: ComplaintIn
) -> tuple[dict[str, Any], bool]:
    name = source["name"]

    def then(conn, row, now) -> None:
        if not sources.record(conn, name, m.id, "registered", row.number, now):
            raise _Taken

    fields = {"id": m.id, "from": m.sender, "phone": m.phone, "text": m.text}
    view, created = intake.receive(
        rt,
        complaint,
        f"hook:{name}",
        idempotency_key=f"hook:{name}:{m.id}",
        fingerprint=intake.request_hash(fields),
        then=then,
        intake={"source": name, "kind": source["kind"], "ref": m.id, "named": named(m)},
    )
    return _answer({"result": "registered", "number": view["number"]}, not created), created
