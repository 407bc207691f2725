"""The practice round for new agents: N cases of the library (reviewed good and bad
examples first), shown anonymised and without their answer; the agent classifies each,
then sees the reviewed answer (the case's category) and its lesson. Answers and the
round's score are recorded (practice_rounds, practice_answers).

What a case shows before it is answered is its facts only, scrubbed once more of
personal data (law.cases.scrub) — never its title, outcome or complaint number.
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, func, insert, select, update
from sqlalchemy.exc import IntegrityError

from kesu.accounts.roles import Actor, Principal, as_principal, require
from kesu.complaints import vocabulary as vocab
from kesu.complaints.views import iso
from kesu.law import cases as case_data
from kesu.law import library
from kesu.problems import Problem
from kesu.quality import sampling
from kesu.quality.scorecard import round_half_up
from kesu.store import tables as t
from kesu.store.db import read, write

if TYPE_CHECKING:
    from kesu.runtime import Runtime

P = t.practice_rounds.c
A = t.practice_answers.c


def round_size() -> int:
    return int(sampling.config()["practice"]["cases"])


def _category_name(code: str | None) -> str | None:
    return vocab.CATEGORIES.get(code or "", {}).get("name")


def _scrub(text: str | None) -> str:
    return case_data.scrub(text or "")


def _not_found(round_id: int) -> Problem:
    return Problem(
        404, "practice_not_found", "Practice round not found", f"练习 {round_id} 不存在。"
    )


def start(rt: Runtime, actor: Actor) -> dict[str, Any]:
    """A new round of `round_size()` cases for the one who asks."""
    p = as_principal(actor)
    require(p, "case.practice")
    pool = library.practice_pool(rt)
    rng = random.Random()
    reviewed = [c["id"] for c in pool if c["verdict"]]
    others = [c["id"] for c in pool if not c["verdict"]]
    rng.shuffle(reviewed)
    rng.shuffle(others)
    chosen = (reviewed + others)[: round_size()]
    if not chosen:
        raise Problem(409, "practice_no_cases", "No cases", "案例库中还没有案例，无法练习。")
    now = rt.clock()
    with write(rt.engine) as conn:
        rid = conn.execute(
            insert(t.practice_rounds)
            .values(username=p.name, case_ids=chosen, started_at=now)
            .returning(P.id)
        ).scalar_one()
        return _view(conn, _load(conn, p, rid), {c["id"]: c for c in pool})


def _load(conn: Connection, p: Principal, round_id: int, lock: bool = False):
    q = select(t.practice_rounds).where(P.id == round_id)
    if lock:
        q = q.with_for_update()
    row = conn.execute(q).first()
    if row is None or row.username != p.name:  # another's round is not there for you
        raise _not_found(round_id)
    return row


def _reveal(case: Mapping[str, Any] | None, answer) -> dict[str, Any]:
    out = {
        "case_id": answer.case_id,
        "answer": answer.answer,
        "answer_name": _category_name(answer.answer),
        "expected": answer.expected,
        "expected_name": _category_name(answer.expected),
        "correct": bool(answer.correct),
    }
    if case is not None:
        out.update(
            title=_scrub(case["title"]),
            outcome=_scrub(case["outcome"]),
            lessons=[_scrub(x) for x in case["lessons"] or []],
            verdict=case["verdict"],
            verdict_name=case_data.VERDICTS.get(case["verdict"] or ""),
            articles=[a.get("citation") for a in case["articles"] or []],
        )
    return out


def _view(conn: Connection, row, pool: Mapping[str, Mapping[str, Any]]) -> dict[str, Any]:
    answers = {
        a.case_id: a for a in conn.execute(select(t.practice_answers).where(A.round_id == row.id))
    }
    cases = []
    for i, cid in enumerate(row.case_ids, start=1):
        case = pool.get(cid)
        cases.append(
            {
                # The case's id (a promoted case's names its complaint) only once answered.
                "position": i,
                "facts": _scrub(case["facts"]) if case else "（该案例已不在案例库中）",
                "source_name": case_data.SOURCE_NAMES.get(case["source"]) if case else None,
                "result": _reveal(case, answers[cid]) if cid in answers else None,
            }
        )
    correct = sum(1 for a in answers.values() if a.correct)
    return {
        "id": row.id,
        "username": row.username,
        "started_at": iso(row.started_at),
        "finished_at": iso(row.finished_at),
        "total": len(row.case_ids),
        "answered": len(answers),
        "correct": correct,
        "score": row.score,
        "finished": row.finished_at is not None,
        "cases": cases,
        "categories": {code: c["name"] for code, c in vocab.CATEGORIES.items()},
    }


def get(rt: Runtime, actor: Actor, round_id: int) -> dict[str, Any]:
    p = as_principal(actor)
    require(p, "case.practice")
    pool = {c["id"]: c for c in library.practice_pool(rt)}
    with read(rt.engine) as conn:
        return _view(conn, _load(conn, p, round_id), pool)


def mine(rt: Runtime, actor: Actor, limit: int = 20) -> list[dict[str, Any]]:
    """One's own rounds, newest first (id, started, finished, score)."""
    p = as_principal(actor)
    require(p, "case.practice")
    with read(rt.engine) as conn:
        rows = conn.execute(
            select(t.practice_rounds).where(P.username == p.name).order_by(P.id.desc()).limit(limit)
        ).all()
    return [
        {
            "id": r.id,
            "started_at": iso(r.started_at),
            "finished_at": iso(r.finished_at),
            "total": len(r.case_ids),
            "correct": r.correct,
            "score": r.score,
        }
        for r in rows
    ]


def answer(
    rt: Runtime, actor: Actor, round_id: int, position: int, category: str
) -> dict[str, Any]:
    """Record the category the agent gave the round's case at `position` (1..N); the
    reveal (the reviewed answer, the lesson) and the round so far."""
    p = as_principal(actor)
    require(p, "case.practice")
    if category not in vocab.CATEGORIES:
        raise Problem(
            422,
            "unknown_category",
            "Unknown category",
            f"未知的分类“{category}”，可选：{'、'.join(vocab.CATEGORIES)}",
        )
    pool = {c["id"]: c for c in library.practice_pool(rt)}
    now = rt.clock()
    try:
        with write(rt.engine) as conn:
            row = _load(conn, p, round_id, lock=True)
            if not 1 <= position <= len(row.case_ids):
                raise Problem(
                    422,
                    "case_not_in_round",
                    "Not in this round",
                    f"本次练习只有 {len(row.case_ids)} 个案例，没有第 {position} 个。",
                )
            case_id = row.case_ids[position - 1]
            if conn.execute(
                select(A.id).where(A.round_id == round_id, A.case_id == case_id)
            ).first():
                raise _answered(position)
            case = pool.get(case_id)
            if case is None:
                raise Problem(
                    409,
                    "practice_case_gone",
                    "Case removed",
                    f"第 {position} 个案例已不在案例库中。",
                )
            conn.execute(
                insert(t.practice_answers).values(
                    round_id=round_id,
                    case_id=case_id,
                    answer=category,
                    expected=case["category"],
                    correct=category == case["category"],
                    answered_at=now,
                )
            )
            n = conn.execute(
                select(func.count()).select_from(t.practice_answers).where(A.round_id == round_id)
            ).scalar_one()
            right = conn.execute(
                select(func.count())
                .select_from(t.practice_answers)
                .where(A.round_id == round_id, A.correct)
            ).scalar_one()
            if n == len(row.case_ids):
                conn.execute(
                    update(t.practice_rounds)
                    .where(P.id == round_id, P.finished_at.is_(None))
                    .values(
                        finished_at=now,
                        correct=int(right),
                        score=round_half_up(Decimal(100 * right) / Decimal(n)),
                    )
                )
            view = _view(conn, _load(conn, p, round_id), pool)
    except IntegrityError:  # the same case answered at the same moment twice
        raise _answered(position) from None
    result = view["cases"][position - 1]["result"]
    return {"result": result, "round": view}


def _answered(case_id: str) -> Problem:
    return Problem(
        409, "practice_answered", "Already answered", f"案例 {case_id} 已作答，不能更改。"
    )
