"""The appeal centre's use cases: an appeal received (from any channel), an action taken
on it (appeals.lifecycle decides; this writes the row, the event, the audit entry and the
appellant's notice in one transaction), one appeal read, the queue.

The acceptance clock (第十四条, 5 working days) starts when the materials are complete
(第十二条); while items are missing the appellant is told which, and the record shows the
clock waiting. The 30-day answer (电信条例 第三十九条) runs from receipt."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy.exc import IntegrityError

from kesu.accounts import crypto
from kesu.accounts.audit import audit
from kesu.accounts.roles import Actor, as_principal, require
from kesu.appeals import (
    conditions,
    documents,
    lifecycle,
    materials,
    notify,
    operator_record,
    records,
    views,
)
from kesu.appeals.schemas import AppealIn, Declared
from kesu.clock import as_utc, to_beijing
from kesu.complaints import vocabulary as vocab
from kesu.problems import Problem
from kesu.store.db import read, write
from kesu.triage import model

if TYPE_CHECKING:
    from kesu.runtime import Runtime

A = records.A


def _check(rt: Runtime, body: AppealIn, now: datetime) -> datetime:
    received = as_utc(body.received_at) if body.received_at else now
    if received > now:
        raise Problem(
            422, "received_in_future", "Receipt in the future", "收到申诉的时间晚于现在，请核对。"
        )
    today = to_beijing(now).date()
    for key, label in (
        ("occurred_at", "争议事项发生日期"),
        ("complained_at", "向企业投诉的日期"),
        ("operator_answered_at", "企业答复的日期"),
        ("appeal_date", "申诉日期"),
    ):
        value = getattr(body, key)
        if value is not None and value > today:
            raise Problem(
                422,
                "appeal_date_out_of_range",
                "Date in the future",
                f"{label}（{value.isoformat()}）晚于今天，请核对。",
            )
    if body.category is not None and body.category not in vocab.CATEGORIES:
        raise Problem(
            422, "unknown_category", "Unknown category", f"未知的投诉分类“{body.category}”。"
        )
    return received


def receive(rt: Runtime, body: AppealIn, actor: Actor) -> tuple[dict[str, Any], bool]:
    """Register an appeal; (its view, whether it is new). Idempotent by external_ref."""
    p = as_principal(actor)
    require(p, "appeal.register")
    now = rt.clock()
    if body.external_ref:
        with read(rt.engine) as conn:
            found = records.by_external_ref(conn, body.external_ref)
        if found:
            return view(rt, found, p), False
    received = _check(rt, body, now)
    guessed = _guess(body) if body.category is None else None
    a = body.appellant
    try:
        with write(rt.engine) as conn:
            respondent = records.operator(conn, body.operator) if body.operator else None
            if body.operator and respondent is None:
                raise Problem(
                    422,
                    "unknown_operator",
                    "Unknown operator",
                    f"被申诉企业“{body.operator}”未在本中心登记：请核对，或由管理员先添加。",
                )
            number = records.next_number(conn, now)
            values: dict[str, Any] = {
                "number": number,
                "channel": body.channel,
                "external_ref": body.external_ref,
                "operator": body.operator,
                "operator_name": body.operator_name or (respondent or {}).get("name"),
                "appellant_name": a.name,
                "appellant_phone": a.phone,
                "appellant_phone_hash": crypto.phone_hash(a.phone) if a.phone else None,
                "appellant_address": a.address,
                "appellant_postcode": a.postcode,
                "request": body.request,
                "reasons": body.reasons,
                "facts": body.facts,
                "dispute": body.dispute,
                "category": body.category or (guessed or {}).get("category"),
                "occurred_on": body.occurred_at,
                "complained_on": body.complained_at,
                "operator_answered_on": body.operator_answered_at,
                "appeal_date": body.appeal_date or to_beijing(received).date(),
                "declared": body.declared.model_dump(),
                "received_at": received,
                "mediated": False,
                "created_by": p.name,
                "created_at": now,
                "updated_at": now,
            }
            facts = _facts_of(values, respondent)
            missing = materials.missing(facts)
            complete = None if missing else received
            accept_due, reply_due = views.due_times(rt, received, complete, conn)
            status = "awaiting_materials" if missing else "reviewing"
            values.update(
                status=status,
                is_open=True,
                materials_complete_at=complete,
                accept_due_at=accept_due,
                reply_due_at=reply_due,
            )
            aid = records.insert_appeal(conn, values)
            data = {"channel": body.channel, "missing": [m["field"] for m in missing]}
            if guessed:
                data["triage"] = guessed
            records.append(conn, aid, now, "received", p.name, None, status, None, data)
            if missing:
                notify.tell(rt, conn, now, values, "materials_missing", missing=missing)
            else:
                notify.tell(rt, conn, now, values, "received")
            operator_record.ask(conn, now, values, respondent)  # 第十条（四）'s evidence
            audit(conn, p, now, "appeal.receive", "appeal", number, {"channel": body.channel})
    except IntegrityError:
        if body.external_ref:  # the same reference registered by a concurrent request
            with read(rt.engine) as conn:
                found = records.by_external_ref(conn, body.external_ref)
            if found:
                return view(rt, found, p), False
        raise
    return view(rt, number, p), True


def _guess(body: AppealIn) -> dict[str, Any] | None:
    """The category triage reads in the appeal's text (its best guess, with its confidence
    and whether a person should look); the officer corrects it with `classify`."""
    text = "\n".join(x for x in (body.request, body.reasons, body.facts) if x)
    if not text.strip():
        return None
    try:
        clf = model.shipped()
    except model.ModelMissing:
        return None
    [p] = clf.predict([text])
    return {
        "category": p.category,
        "confidence": p.confidence,
        "needs_review": p.needs_review,
        "model": clf.meta["version"],
    }


def _facts_of(values: dict[str, Any], respondent: dict[str, Any] | None) -> dict[str, Any]:
    return {
        "appellant": {
            "name": values["appellant_name"],
            "phone": values["appellant_phone"],
            "address": values["appellant_address"],
            "postcode": values["appellant_postcode"],
        },
        "respondent": {
            "name": (respondent or {}).get("name") or values["operator_name"],
            "address": (respondent or {}).get("address"),
        },
        "request": values["request"],
        "reasons": values["reasons"],
        "facts": values["facts"],
        "date": values["appeal_date"],
    }


SUPPLEMENT_FIELDS = {
    "appellant.name": "appellant_name",
    "appellant.address": "appellant_address",
    "appellant.phone": "appellant_phone",
    "appellant.postcode": "appellant_postcode",
    "request": "request",
    "reasons": "reasons",
    "facts": "facts",
    "operator_name": "operator_name",
    "appeal_date": "appeal_date",
}


def _supplement(rt: Runtime, row: Any, params: dict[str, Any], respondent) -> dict[str, Any]:
    """The fields added; whether the materials are now complete decides the status."""
    try:
        body = AppealIn.model_validate(
            {
                "appellant": {
                    k.split(".")[1]: v for k, v in params.items() if k.startswith("appellant.")
                },
                **{k: v for k, v in params.items() if k in ("request", "reasons", "facts")},
                **{k: v for k, v in params.items() if k in ("operator_name", "appeal_date")},
            }
        )
    except Exception as err:  # pydantic.ValidationError: the same 422 as on receipt
        raise Problem(
            422, "appeal_field_invalid", "Invalid field", f"补正的材料有误：{err}"
        ) from None
    changes: dict[str, Any] = {}
    for key, column in SUPPLEMENT_FIELDS.items():
        if key not in params:
            continue
        obj: Any = body.appellant if key.startswith("appellant.") else body
        value = getattr(obj, key.split(".")[-1])
        if value not in (None, ""):
            changes[column] = value
    if not changes:
        raise Problem(422, "appeal_field_required", "Nothing supplied", "请填写要补正的材料。")
    if "appellant_phone" in changes:
        changes["appellant_phone_hash"] = crypto.phone_hash(changes["appellant_phone"])
    return changes


def act(
    rt: Runtime, number: str, action: str, params: dict[str, Any], actor: Actor
) -> dict[str, Any]:
    """Take one action on an appeal (404 unseen, 409 not now, 422 bad parameters)."""
    p = as_principal(actor)
    require(p, "appeal.handle")
    now = rt.clock()
    today = to_beijing(now).date()
    with write(rt.engine) as conn:
        row = records.load(conn, number, lock=True)
        respondent = records.operator(conn, row.operator) if row.operator else None
        params = dict(params)
        verdict = None
        if action == "accept":
            confirm = params.pop("confirm", None) or {}
            declared = {
                **(row.declared or {}),
                **Declared.model_validate(confirm).model_dump(exclude_unset=True),
            }
            if declared != (row.declared or {}):
                records.change(conn, row.id, {"declared": declared})
                row = records.load(conn, number)
            earlier = records.earlier(conn, row.appellant_phone_hash, row.operator, row.id)
            _, verdict = views.judged(row, respondent, earlier, today)
        if action == "reject":
            codes = {r["code"] for r in conditions.reasons_for_rejection()}
            if params.get("reason") not in codes:
                raise Problem(
                    422,
                    "appeal_reason_required",
                    "Reason required",
                    "不予受理须选择理由（申诉处理办法第十条或第十一条的具体项）："
                    + "、".join(sorted(codes)),
                )
        if action == "classify" and params.get("category") not in vocab.CATEGORIES:
            raise Problem(
                422,
                "unknown_category",
                "Unknown category",
                f"未知的投诉分类“{params.get('category')}”。",
            )
        if action == "refer" and not params.get("operator_due_on"):
            params["operator_due_on"] = notify.default_operator_due(row, today).isoformat()
        outcome = lifecycle.decide(row._mapping, action, params, now, today, verdict)
        changes = dict(outcome.changes)
        status = outcome.status
        if action == "supplement":
            changes = _supplement(rt, row, params, respondent)
            merged = {**row._mapping, **changes}
            missing = materials.missing(_facts_of(merged, respondent))
            if not missing:
                status = "reviewing"
                accept_due, _ = views.due_times(rt, row.received_at, now, conn)
                changes.update(materials_complete_at=now, accept_due_at=accept_due)
            changes["status"] = status
        changes["updated_at"] = now
        records.change(conn, row.id, changes)
        data = dict(outcome.data)
        if action == "supplement":
            data = {
                "fields": sorted(k for k in changes if not k.endswith("_at")),
                "complete": status == "reviewing",
            }
        records.append(
            conn, row.id, now, outcome.event, p.name, row.status, status, outcome.note, data
        )
        after = {**row._mapping, **changes}
        if outcome.notice:
            notify.tell(rt, conn, now, after, outcome.notice, note=outcome.note)
        elif action == "supplement":
            key = "received" if status == "reviewing" else "materials_missing"
            missing = materials.missing(_facts_of(after, respondent))
            notify.tell(rt, conn, now, after, key, missing=missing)
        if action == "refer":
            notify.refer(rt, conn, now, after, respondent)
        if action == "redirect" and outcome.data.get("hand_over"):
            handed = notify.hand_over(rt, conn, now, after, respondent)
            if handed is not None:
                note = "已将申诉转交被申诉企业作为投诉处理（第十三条；转交为本中心政策）。"
                event = "handed_over"
                records.append(conn, row.id, now, event, p.name, status, status, note, handed)
        audit(conn, p, now, f"appeal.{action}", "appeal", number, {"status": status})
    return view(rt, number, p)


def view(rt: Runtime, number: str, actor: Actor) -> dict[str, Any]:
    p = as_principal(actor)
    require(p, "appeal.read")
    now = rt.clock()
    with read(rt.engine) as conn:
        row = records.load(conn, number)
        respondent = records.operator(conn, row.operator) if row.operator else None
        earlier = records.earlier(conn, row.appellant_phone_hash, row.operator, row.id)
        events = records.history(conn, row.id)
    return views.full(rt, row, respondent, earlier, events, now, p)


QUEUES = {
    # The officer's queues: what must be decided first, what must be answered first.
    # Appeals still waiting for materials (no acceptance clock yet) last, on both databases.
    "accept": ([A.is_open.is_(True), A.decided_at.is_(None)], [A.accept_due_at.asc().nulls_last()]),
    "reply": ([A.is_open.is_(True), A.replied_at.is_(None)], [A.reply_due_at]),
    "open": ([A.is_open.is_(True)], [A.reply_due_at]),
    "all": ([], [A.received_at.desc()]),
}


def listing(
    rt: Runtime,
    actor: Actor,
    queue: str = "open",
    status: str | None = None,
    operator: str | None = None,
    limit: int = 100,
) -> dict[str, Any]:
    p = as_principal(actor)
    require(p, "appeal.read")
    if queue not in QUEUES:
        raise Problem(422, "unknown_queue", "Unknown queue", f"未知的队列“{queue}”。")
    if status is not None and status not in lifecycle.STATUSES:
        raise Problem(422, "unknown_status", "Unknown status", f"未知的申诉状态“{status}”。")
    where, order = QUEUES[queue]
    where = list(where)
    if status:
        where.append(A.status == status)
    if operator:
        where.append(A.operator == operator)
    now = rt.clock()
    with read(rt.engine) as conn:
        rows = records.listing(conn, where, order, limit)
        total = records.count(conn, where)
    return {"items": [views.summary(r, now) for r in rows], "total": total, "queue": queue}


def referral_letter(rt: Runtime, number: str, actor: Actor) -> str:
    """The referral letter for an operator that does not run kesu (a draft until referred;
    the operator's answer and its date once recorded)."""
    appeal = view(rt, number, actor)
    name = (rt.settings.company_name or "").strip()
    centre = name if name and not name.startswith("【") else "电信用户申诉受理中心"
    return documents.referral_letter(appeal, centre)
