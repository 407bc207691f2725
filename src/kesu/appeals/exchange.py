"""The operator's answer coming back to the centre (`POST /api/v1/appeals/operator-answers`):
the `referral.replied` callback an operator's kesu sends when its staff answer a referral
(channels.referrals.reply → channels.senders.ReferralSender), signed with the secret the
centre keeps for that operator (appeal_operators.secret).

Who sent it: the operator named in `X-Kesu-Source` (its code at the centre) or, when the
header is absent (an operator's kesu does not know its code here), the operator the appeal
`ref` was referred to. The signature is checked as for every signed request in
(channels.sources.check: `sha256=` HMAC of `<timestamp>.<body>`, within five minutes, each
signature taken once), so an unsigned, badly signed, late or replayed request is a 401 and
writes nothing.

What it does: on an appeal in status `referred` the answer is recorded through
appeals.service.act (action `answer`, via `operator`; the answer text is the operator's
handling and result, `operator_complaint` its complaint number). The same answer again (the
outbox delivering twice) is 200 `already_recorded`; a different answer to an appeal no
longer waiting for one is 409 `appeal_answer_conflict`. An appeal that was redirected and
handed over (第十三条) takes the operator's answer as a note in its history (it stays
closed).
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from kesu.accounts.audit import audit
from kesu.accounts.roles import Principal
from kesu.appeals import records, service
from kesu.channels import sources
from kesu.problems import Problem, field_error
from kesu.store.db import read, write

if TYPE_CHECKING:
    from kesu.runtime import Runtime

EVENT = "referral.replied"
_TEXT = Field(min_length=1, max_length=4000)


class OperatorComplaint(BaseModel):
    model_config = ConfigDict(extra="ignore")
    number: Annotated[str, Field(min_length=1, max_length=40)]
    status: Annotated[str, Field(max_length=40)] | None = None
    category: Annotated[str, Field(max_length=40)] | None = None
    received_at: Annotated[str, Field(max_length=40)] | None = None


class AnswerIn(BaseModel):
    """The `referral.replied` callback as the operator's kesu sends it."""

    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True)
    id: Annotated[str, Field(min_length=1, max_length=64)]
    event: Annotated[str, Field(max_length=40)]
    ref: Annotated[str, Field(min_length=1, max_length=60)]
    replied_at: Annotated[str, Field(max_length=40)] | None = None
    operator_complaint: OperatorComplaint
    handling: Annotated[str, _TEXT]
    result: Annotated[str, _TEXT]


def answer_text(handling: str, result: str) -> str:
    """The answer as the appeal records it (the operator's two parts, labelled)."""
    return f"处理过程：{handling}\n处理结果：{result}"


def caller(code: str) -> Principal:
    """The operator, acting for this one request: it may record an answer, nothing else."""
    return Principal(
        name=f"operator:{code}"[:64],
        role="appeal_operator",
        permissions=frozenset({"appeal.handle", "appeal.read"}),
        kind="system",
    )


def _replay_key(code: str) -> str:
    return f"operator:{code}"[:40]


def parse(body: bytes) -> AnswerIn:
    try:
        data = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as err:
        raise Problem(
            422, "invalid_json", "Invalid JSON", f"请求体不是合法的 UTF-8 JSON：{err}"
        ) from None
    if not isinstance(data, dict):
        raise Problem(422, "invalid_type", "Invalid body", "请求体应为 JSON 对象。")
    try:
        answer = AnswerIn.model_validate(data)
    except ValidationError as err:
        errors = [field_error(e) for e in err.errors()]  # type: ignore[arg-type]
        first = errors[0]
        raise Problem(422, first["code"], "Invalid input", first["detail"], errors=errors) from None
    if answer.event != EVENT:
        raise Problem(
            422,
            "unknown_event",
            "Unknown event",
            f"不受理的事件“{answer.event[:40]}”：此地址只接收 {EVENT}。",
        )
    return answer


def _sender(conn: Any, code: str | None, body: bytes) -> tuple[str | None, dict[str, Any] | None]:
    """The operator the request says it comes from (header), else the one the appeal was
    referred to; (code, its row) or (None, None)."""
    if not code:
        try:
            ref = json.loads(body.decode("utf-8")).get("ref")
        except (UnicodeDecodeError, json.JSONDecodeError, AttributeError):
            ref = None
        if isinstance(ref, str) and len(ref) <= 60:
            try:
                code = records.load(conn, ref).operator
            except Problem:
                code = None
    if not code:
        return None, None
    return code, records.operator(conn, code)


def take(
    rt: Runtime, code: str | None, stamp: str | None, sig: str | None, body: bytes
) -> dict[str, Any]:
    """The operator's signed answer taken in: {result: recorded | already_recorded | noted,
    number, status}. 401 unless signed right and fresh and not seen before."""
    now = rt.clock()
    with read(rt.engine) as conn:
        code, op = _sender(conn, code, body) if stamp and sig else (code, None)
        unknown = (
            f"未登记的被申诉企业“{(code or '')[:40]}”，或其未配置转办密钥：请本中心管理员先添加。"
        )
        sources.check(op["secret"] if op else None, stamp, sig, body, now, unknown)
    assert code is not None
    answer = parse(body)
    with write(rt.engine) as conn:
        sources.seen(conn, _replay_key(code), str(sig), now)
    try:
        return _record(rt, code, answer)
    except BaseException:
        with write(rt.engine) as conn:  # not taken: the same signed request may come again
            sources.forget(conn, _replay_key(code), str(sig))
        raise


def _record(rt: Runtime, code: str, answer: AnswerIn) -> dict[str, Any]:
    text = answer_text(answer.handling, answer.result)
    complaint = answer.operator_complaint.number
    with read(rt.engine) as conn:
        row = records.load(conn, answer.ref)
    if row.operator != code:
        raise Problem(
            404, "not_found", "Not found", f"没有转给贵企业的申诉“{answer.ref}”（申诉编号）。"
        )
    if row.status == "referred":
        params = {
            "answer": text,
            "operator_complaint": complaint,
            "via": "operator",
            "replied_at": answer.replied_at,
            "delivery": answer.id,
        }
        try:
            view = service.act(rt, answer.ref, "answer", params, caller(code))
            return {"result": "recorded", "number": answer.ref, "status": view["status"]}
        except Problem as err:
            if err.status != 409:
                raise
        with read(rt.engine) as conn:  # answered meanwhile (a concurrent copy)
            row = records.load(conn, answer.ref)
    if row.operator_answer == text and (row.operator_complaint or "") == complaint[:40]:
        return {"result": "already_recorded", "number": answer.ref, "status": row.status}
    if row.status == "redirected" and row.operator_answer is None:
        return _note(rt, code, answer, text, complaint)
    raise Problem(
        409,
        "appeal_answer_conflict",
        "The appeal does not wait for this answer",
        f"申诉“{answer.ref}”当前不在等待企业答复（状态：{row.status}），且已登记的答复与本次不同："
        "请与申诉受理中心联系。",
        status_now=row.status,
    )


def _note(rt: Runtime, code: str, answer: AnswerIn, text: str, complaint: str) -> dict[str, Any]:
    """A handed-over appeal (第十三条): the operator's answer kept in its history."""
    now = rt.clock()
    who = caller(code)
    with write(rt.engine) as conn:
        row = records.load(conn, answer.ref, lock=True)
        if row.operator_answer is not None:
            raise Problem(
                409,
                "appeal_answer_conflict",
                "Already answered",
                f"申诉“{answer.ref}”已登记过企业答复，且与本次不同：请与申诉受理中心联系。",
                status_now=row.status,
            )
        changes = {
            "operator_answer": text,
            "operator_answer_at": now,
            "operator_complaint": complaint[:40],
        }
        records.change(conn, row.id, changes)
        data = {"via": "operator", "delivery": answer.id, "handed_over": True}
        records.append(
            conn, row.id, now, "operator_answered", who.name, row.status, row.status, None, data
        )
        audit(conn, who, now, "appeal.answer", "appeal", answer.ref, {"status": row.status})
    return {"result": "noted", "number": answer.ref, "status": row.status}
