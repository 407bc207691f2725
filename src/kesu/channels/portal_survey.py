"""The satisfaction survey answered by the customer through the link sent with the reply.

The link (complaints.surveys.link_url, in the `replied` SMS) is the customer's only
credential here: signed by this kesu, naming one complaint and its handling round, valid
`link_days` days (data/complaints/survey.yaml). Answering is the lifecycle's callback
done by the portal (complaints.transitions), so the overall answer is the complaint's
callback result, written with the survey row in one transaction; the row's unique key
makes a second answer fail (409 survey_already_answered), also when two arrive at once.
Nothing personal is shown: the number, the questions, whether it can still be answered.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from kesu.accounts import roles as r
from kesu.accounts.audit import audit
from kesu.appeals.recourse import appeal_info
from kesu.channels.portal_words import PORTAL_ACTOR
from kesu.complaints import queries, surveys, transitions
from kesu.complaints.survey_form import Survey, survey
from kesu.problems import Problem
from kesu.store.db import read, write

if TYPE_CHECKING:
    from kesu.runtime import Runtime


def _state(rt: Runtime, token: str) -> tuple[Any, str]:
    """The complaint the link names and whether its survey is open / answered / closed."""
    link = surveys.read_link(token, rt.clock())
    with read(rt.engine) as conn:
        row = queries.find(conn, link.number)
        if row is None:
            raise surveys.invalid_link()  # a signed link names a complaint: removed since?
        done = any(s["round"] == link.round for s in surveys.of_complaint(conn, row.id))
    if done:
        return row, "answered"
    if row.reopen_count != link.round or row.status != "replied":
        return row, "closed"
    return row, "open"


def questions(rt: Runtime, token: str, lang: str = "zh") -> dict[str, Any]:
    """What the survey page shows: the number, the questions, its state."""
    row, state = _state(rt, token)
    return {"number": row.number, "state": state, "questions": _questions(survey(), lang)}


def _questions(s: Survey, lang: str) -> list[dict[str, Any]]:
    en = lang == "en"
    return [
        {
            "code": q.code,
            "text": q.en if en else q.text,
            "required": q.required,
            "answers": [{"code": a.code, "text": a.en if en else a.text} for a in q.answers],
        }
        for q in s.questions
    ]


def answer(
    rt: Runtime, token: str, answers: Mapping[str, Any], ip: str | None = None
) -> dict[str, Any]:
    """Record the customer's answers once; a dissatisfied customer is told how to appeal."""
    row, state = _state(rt, token)
    if state == "answered":
        raise surveys.already_answered(row.number)
    if state == "closed":
        raise Problem(
            409,
            "survey_not_open",
            "Survey not open",
            f"投诉 {row.number} 目前不在待评价阶段（已回访、已重新处理或已结束），"
            "此链接不能再评价；如有意见，请拨打客服热线。",
        )
    actor = replace(r.system(PORTAL_ACTOR), ip=ip)
    params = {
        "survey": dict(answers),
        "survey_how": "portal",
        "note": "客户通过满意度调查链接评价",
    }
    try:
        view = transitions.transition(rt, row.number, "callback", params, actor, row.version)
    except Problem as problem:
        if problem.status == 409 and _state(rt, token)[1] == "answered":
            raise surveys.already_answered(row.number) from None  # answered meanwhile
        raise
    result = view["callback_result"]
    with write(rt.engine) as conn:
        audit(conn, actor, rt.clock(), "portal.survey", "complaint", row.number, {"result": result})
    return {
        "number": row.number,
        "result": result,
        "appeal": appeal_info(rt, row.customer_province) if result == "dissatisfied" else None,
    }
