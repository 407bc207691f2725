"""Pure: the satisfaction survey's questions (data/complaints/survey.yaml) and the
answers checked against them.

The overall question's answer is the callback result (lifecycle's `callback` action):
`checked` returns the answers kept and that result, so the survey and the complaint's
`callback_result` can never say two things. The portal link's token (number, handling
round, last valid day, signature) is built and read here; the signature itself is made
by the caller's key (complaints.surveys).
"""

from __future__ import annotations

import hmac
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from typing import Any

from kesu.complaints.lifecycle_table import CALLBACK_DONE
from kesu.data_files import load_yaml
from kesu.problems import Problem

HOW = ("phone", "portal")


@dataclass(frozen=True)
class Answer:
    code: str
    text: str
    en: str


@dataclass(frozen=True)
class Question:
    code: str
    text: str
    en: str
    required: bool
    answers: tuple[Answer, ...]

    def answer(self, code: str) -> Answer | None:
        return next((a for a in self.answers if a.code == code), None)


@dataclass(frozen=True)
class Survey:
    link_days: int
    overall: str
    questions: tuple[Question, ...]

    def question(self, code: str) -> Question | None:
        return next((q for q in self.questions if q.code == code), None)


def parse(data: Mapping[str, Any]) -> Survey:
    """The survey file checked: codes unique, the overall question answered by the
    callback results."""
    questions = []
    for q in data["questions"]:
        answers = tuple(
            Answer(str(a["code"]), str(a["text"]), str(a.get("en") or a["text"]))
            for a in q["answers"]
        )
        if len({a.code for a in answers}) != len(answers) or not answers:
            raise ValueError(f"survey question {q['code']}: answer codes must be unique")
        questions.append(
            Question(
                str(q["code"]),
                str(q["text"]),
                str(q.get("en") or q["text"]),
                bool(q.get("required", False)),
                answers,
            )
        )
    if len({q.code for q in questions}) != len(questions):
        raise ValueError("survey question codes must be unique")
    survey = Survey(int(data["link_days"]), str(data["overall"]), tuple(questions))
    overall = survey.question(survey.overall)
    if overall is None or {a.code for a in overall.answers} != set(CALLBACK_DONE):
        raise ValueError(
            f"survey: the overall question's answers must be {sorted(CALLBACK_DONE)} "
            "(they are the callback result)"
        )
    if survey.link_days < 1:
        raise ValueError("survey: link_days must be at least 1")
    return survey


@lru_cache(maxsize=1)
def survey() -> Survey:
    return parse(load_yaml("complaints/survey.yaml"))


def _bad(code: str, detail: str) -> Problem:
    return Problem(422, code, "Invalid survey", detail)


def checked(answers: Mapping[str, Any] | None, result: str | None) -> tuple[dict[str, str], str]:
    """The answers kept (question code → answer code) and the callback result they give.

    `result` (the callback's own field) may stand for the overall answer; given both,
    they must agree. Unknown questions or answers, a missing required answer: 422.
    """
    s = survey()
    kept: dict[str, str] = {}
    for code, value in (answers or {}).items():
        q = s.question(str(code))
        if q is None:
            raise _bad("survey_unknown_question", f"满意度调查没有问题“{code}”。")
        value = str(value or "").strip()
        if not value:
            continue
        if q.answer(value) is None:
            choices = "、".join(f"{a.code}（{a.text}）" for a in q.answers)
            raise _bad(
                "survey_invalid_answer", f"问题“{q.text}”的回答“{value}”无效，可选：{choices}。"
            )
        kept[q.code] = value
    overall = kept.get(s.overall)
    if result in CALLBACK_DONE and overall is None:
        kept[s.overall] = overall = result
    elif overall is not None and result not in (None, overall):
        raise _bad(
            "survey_result_mismatch",
            f"回访结果（{result}）与调查的总体评价（{overall}）不一致。",
        )
    missing = [q.text for q in s.questions if q.required and q.code not in kept]
    if missing:
        raise _bad("survey_incomplete", "满意度调查须回答：" + "；".join(missing))
    return kept, overall  # type: ignore[return-value]


# -- the portal link -------------------------------------------------------------------

SIG = 12  # hex characters of the signature kept (48 bits; the link also expires)
_TOKEN = re.compile(r"(TS\d{14})-(\d{1,3})-(\d{8})-([0-9a-f]{12})")


@dataclass(frozen=True)
class Link:
    number: str
    round: int
    last_day: date


def token(link: Link, sign: Callable[[str], str]) -> str:
    """The link's token: number-round-lastday-signature (the signature over the rest)."""
    body = f"{link.number}-{link.round}-{link.last_day:%Y%m%d}"
    return f"{body}-{sign(body)[:SIG]}"


def read_token(text: str, sign: Callable[[str], str]) -> Link | None:
    """The link a token names, or None when it is malformed or its signature is wrong."""
    m = _TOKEN.fullmatch(text or "")
    if m is None:
        return None
    number, rnd, day, sig = m.groups()
    if not hmac.compare_digest(sign(f"{number}-{rnd}-{day}")[:SIG], sig):
        return None
    try:
        last = date(int(day[:4]), int(day[4:6]), int(day[6:]))
    except ValueError:
        return None
    return Link(number, int(rnd), last)
