"""The satisfaction surveys' rows: one per complaint and handling round.

`record` is called by complaints.transitions in the callback's own transaction (the
survey and the callback result it sets are written together or not at all); the
unique key (complaint, round) refuses a second survey of the same round, whether it
comes by phone or through the portal link. `link` makes the portal link sent with the
reply; `dissatisfied_between` answers the quality sampler's question.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, exc, insert, select

from kesu.accounts import crypto
from kesu.accounts.roles import Actor, as_principal
from kesu.clock import BEIJING, to_beijing
from kesu.complaints.queries import load_visible
from kesu.complaints.survey_form import Link, read_token, survey, token
from kesu.problems import Problem
from kesu.store import tables as t
from kesu.store.db import read

if TYPE_CHECKING:
    from kesu.runtime import Runtime

S = t.complaint_surveys.c
C = t.complaints.c


def already_answered(number: str) -> Problem:
    return Problem(
        409,
        "survey_already_answered",
        "Survey already answered",
        f"投诉 {number} 本轮处理的满意度调查已经完成，不能重复提交。",
    )


def record(
    conn: Connection,
    complaint_id: int,
    number: str,
    round_: int,
    answers: Mapping[str, str],
    overall: str,
    by: str,
    how: str,
    now: datetime,
) -> None:
    """The survey of this round; 409 survey_already_answered when there is one (the
    failed insert ends the transaction: the caller's whole change is refused)."""
    try:
        conn.execute(
            insert(t.complaint_surveys).values(
                complaint_id=complaint_id,
                round=round_,
                answers=dict(answers),
                overall=overall,
                answered_by=by,
                how=how,
                answered_at=now,
            )
        )
    except exc.IntegrityError:
        raise already_answered(number) from None


def of_complaint(conn: Connection, complaint_id: int) -> list[dict[str, Any]]:
    """Every survey of a complaint, the latest round first."""
    rows = conn.execute(
        select(t.complaint_surveys)
        .where(S.complaint_id == complaint_id)
        .order_by(S.round.desc(), S.id.desc())
    ).all()
    return [
        {
            "round": r.round,
            "answers": dict(r.answers or {}),
            "overall": r.overall,
            "answered_by": r.answered_by,
            "how": r.how,
            "answered_at": to_beijing(r.answered_at).isoformat(),
        }
        for r in rows
    ]


def answered(rt: Runtime, number: str, actor: Actor) -> list[dict[str, Any]]:
    """The surveys of a complaint the caller may see, the latest round first."""
    with read(rt.engine) as conn:
        row = load_visible(conn, number, as_principal(actor))
        return of_complaint(conn, row.id)


def dissatisfied_between(conn: Connection, lo: datetime, hi: datetime) -> list[str]:
    """The numbers of the complaints rated dissatisfied (overall answer) by a survey
    answered in [lo, hi), by phone or portal, oldest answer first (for quality sampling)."""
    rows = conn.execute(
        select(C.number)
        .join(t.complaint_surveys, S.complaint_id == C.id)
        .where(S.overall == "dissatisfied", S.answered_at >= lo, S.answered_at < hi)
        .order_by(S.answered_at, S.id)
    ).all()
    return list(dict.fromkeys(r.number for r in rows))


# -- the portal link -------------------------------------------------------------------


def _sign(body: str) -> str:
    return crypto.keyring().lookup_hash("survey-link:" + body)


def link_token(number: str, round_: int, now: datetime) -> str:
    """The token of the portal link sent with a reply: valid until the end of the
    `link_days`-th Beijing day after `now`."""
    last = to_beijing(now).date() + timedelta(days=survey().link_days)
    return token(Link(number, round_, last), _sign)


def link_url(public_url: str, number: str, round_: int, now: datetime) -> str:
    return f"{public_url.rstrip('/')}/portal/survey/{link_token(number, round_, now)}"


def read_link(text: str, now: datetime) -> Link:
    """The link a token names, checked: signed by this kesu and not expired (404
    survey_link_invalid / 410 survey_link_expired otherwise)."""
    link = read_token(text, _sign)
    if link is None:
        raise invalid_link()
    if now.astimezone(BEIJING).date() > link.last_day:
        raise Problem(
            410,
            "survey_link_expired",
            "Survey link expired",
            f"满意度调查链接已于{_day(link.last_day)}过期；如有意见，请拨打客服热线。",
        )
    return link


def invalid_link() -> Problem:
    return Problem(
        404,
        "survey_link_invalid",
        "Survey link invalid",
        "满意度调查链接无效，请核对短信中的链接。",
    )


def _day(d: date) -> str:
    return f"{d.year}年{d.month}月{d.day}日"
