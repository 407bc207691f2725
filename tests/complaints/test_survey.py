"""The satisfaction survey at the callback: by phone (the API's callback and the page's
form) and by the customer through the one-time link sent with the reply."""

from __future__ import annotations

import re
from datetime import timedelta

from fastapi.testclient import TestClient
from sqlalchemy import func, select

from kesu.app import create_app
from kesu.clock import to_beijing
from kesu.complaints import surveys
from kesu.store import tables as t
from tests.conftest import complaint_body

S = t.complaint_surveys.c


def _replied(client, phone="13700005555") -> str:
    r = client.post("/api/v1/complaints", json=complaint_body(customer={"phone": phone}))
    assert r.status_code == 201, r.text
    number = r.json()["number"]
    for action, params in (("accept", {}), ("reply", {"resolution": "已核实，多扣费用已退回。"})):
        r = client.post(
            f"/api/v1/complaints/{number}/transitions", json={"action": action, **params}
        )
        assert r.status_code == 200, r.text
    return number


def _callback(client, number, **body):
    return client.post(
        f"/api/v1/complaints/{number}/transitions", json={"action": "callback", **body}
    )


def _surveys(rt, number) -> list:
    with rt.engine.connect() as conn:
        return conn.execute(
            select(t.complaint_surveys)
            .join(t.complaints, t.complaints.c.id == S.complaint_id)
            .where(t.complaints.c.number == number)
            .order_by(S.id)
        ).all()


def _sms(rt) -> list[str]:
    with rt.engine.connect() as conn:
        return list(
            conn.execute(select(t.notifications.c.body).order_by(t.notifications.c.id)).scalars()
        )


def _link(rt, number) -> str:
    texts = [b for b in _sms(rt) if number in b and "/portal/survey/" in b]
    assert texts, "the reply SMS carries the survey link"
    return re.search(r"/portal/survey/[\w-]+", texts[-1]).group(0)


def test_the_phone_survey_sets_the_callback_result_and_is_kept(client, rt):
    number = _replied(client)
    wrong = [
        ({"survey": {"overall": "great"}}, "survey_invalid_answer"),
        ({"survey": {"mood": "good", "overall": "satisfied"}}, "survey_unknown_question"),
        ({"survey": {"resolved": "yes"}}, "survey_incomplete"),
        ({"result": "satisfied", "survey": {"overall": "dissatisfied"}}, "survey_result_mismatch"),
    ]
    for body, code in wrong:
        r = _callback(client, number, **body)
        assert r.status_code == 422 and r.json()["code"] == code, r.text
    assert _surveys(rt, number) == []  # nothing written on a refused request
    answers = {"overall": "dissatisfied", "resolved": "no", "attitude": "fair", "speed": ""}
    r = _callback(client, number, survey=answers)
    assert r.status_code == 200, r.text
    assert r.json()["callback_result"] == "dissatisfied" and r.json()["status"] == "callback"
    (row,) = _surveys(rt, number)
    assert row.answers == {"overall": "dissatisfied", "resolved": "no", "attitude": "fair"}
    assert (row.overall, row.how, row.answered_by, row.round) == (
        "dissatisfied",
        "phone",
        "t-supervisor",
        0,
    )
    # A second callback of the same round is refused (by the lifecycle: it is done).
    assert _callback(client, number, result="satisfied").status_code == 409
    assert len(_surveys(rt, number)) == 1
    # The quality sampler finds it among the complaints rated dissatisfied in the period.
    now = rt.clock()
    with rt.engine.connect() as conn:
        found = surveys.dissatisfied_between(conn, now - timedelta(days=1), now + timedelta(1))
        before = surveys.dissatisfied_between(conn, now - timedelta(days=9), now)
    assert found == [number] and before == []


def test_a_result_alone_is_the_overall_answer_and_unreachable_records_none(client, rt):
    number = _replied(client)
    assert _callback(client, number, result="unreachable").status_code == 200
    assert _surveys(rt, number) == []
    r = _callback(client, number, result="basically_satisfied")
    assert r.status_code == 200, r.text
    (row,) = _surveys(rt, number)
    assert row.answers == {"overall": "basically_satisfied"} and row.how == "phone"


def test_the_portal_link_records_the_survey_once(client, rt, clock):
    number = _replied(client, "13700006666")
    path = _link(rt, number)
    with TestClient(create_app(rt, watcher=False)) as web:
        page = web.get(path)
        assert page.status_code == 200 and "您对本次投诉处理的总体评价是？" in page.text
        assert "13700006666" not in page.text  # nothing personal on a link page
        assert "Has your problem been solved?" in web.get(path, params={"lang": "en"}).text
        csrf = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
        form = {"csrf_token": csrf, "q.overall": "satisfied", "q.resolved": "yes"}
        done = web.post(path, data=form)
        assert done.status_code == 200, done.text
        assert "满意" in done.text and number in done.text
        again = web.post(path, data={**form, "q.overall": "dissatisfied"})
        assert again.status_code == 409 and "已经完成" in again.text
        assert "本轮处理的满意度调查已经完成" in web.get(path).text
    view = client.get(f"/api/v1/complaints/{number}").json()
    assert view["callback_result"] == "satisfied" and view["status"] == "callback"
    (row,) = _surveys(rt, number)
    assert (row.how, row.answered_by, row.answers) == (
        "portal",
        "portal",
        {"overall": "satisfied", "resolved": "yes"},
    )
    # The handler's phone callback after it is refused too, and adds no second survey.
    assert _callback(client, number, result="dissatisfied").status_code == 409
    assert len(_surveys(rt, number)) == 1


def test_a_link_is_signed_expires_and_belongs_to_its_round(client, rt, clock):
    number = _replied(client, "13700007777")
    path = _link(rt, number)
    with TestClient(create_app(rt, watcher=False)) as web:
        forged = path[:-1] + ("0" if path[-1] != "0" else "1")
        assert web.get(forged).status_code == 404
        other = path.replace(number, number[:-1] + str((int(number[-1]) + 1) % 10))
        assert web.get(other).status_code == 404  # the signature covers the number
        # The survey is answered on the phone: the link then says so and records nothing.
        assert _callback(client, number, result="satisfied").status_code == 200
        assert "已经完成" in web.get(path).text
        # Reopened and answered again: a new round, a new link; the old one is spent.
        for action, params in (
            ("reopen", {}),
            ("reply", {"resolution": "再次核实，已处理。"}),
        ):
            r = client.post(
                f"/api/v1/complaints/{number}/transitions", json={"action": action, **params}
            )
            assert r.status_code == 200, r.text
        new = _link(rt, number)
        assert new != path and "-1-" in new
        page = web.get(new)
        csrf = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
        # Past its last valid day the link is refused.
        last = to_beijing(clock()).date() + timedelta(days=8)
        clock.now = clock.now + timedelta(days=(last - to_beijing(clock()).date()).days)
        late = web.post(new, data={"csrf_token": csrf, "q.overall": "satisfied"})
        assert late.status_code == 410
    assert [r.round for r in _surveys(rt, number)] == [0]


def test_the_satisfaction_kpi_counts_portal_and_phone_surveys_alike(client, rt):
    by_phone, by_portal = _replied(client, "13700008881"), _replied(client, "13700008882")
    assert _callback(client, by_phone, survey={"overall": "dissatisfied"}).status_code == 200
    path = _link(rt, by_portal)
    with TestClient(create_app(rt, watcher=False)) as web:
        csrf = re.search(r'name="csrf_token" value="([^"]+)"', web.get(path).text).group(1)
        assert web.post(path, data={"csrf_token": csrf, "q.overall": "satisfied"}).is_success
    for number in (by_phone, by_portal):
        r = client.post(
            f"/api/v1/complaints/{number}/transitions",
            json={"action": "close", "root_cause": "human_error"},
        )
        assert r.status_code == 200, r.text
    kpis = client.get("/api/v1/reports/kpis").json()
    sat = next(k for k in kpis["kpis"] if k["id"] == "satisfaction_rate")
    assert (sat["numerator"], sat["denominator"]) == (1, 2)
    with rt.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(t.complaint_surveys)).scalar() == 2


def test_the_migration_keeps_callbacks_done_before_it_as_surveys(client, rt):
    from alembic import command

    from kesu.store.db import alembic_config

    done = _replied(client, "13700009991")
    assert _callback(client, done, result="dissatisfied").status_code == 200
    unreachable = _replied(client, "13700009992")
    assert _callback(client, unreachable, result="unreachable").status_code == 200
    cfg = alembic_config(rt.engine.url.render_as_string(hide_password=False))
    with rt.engine.connect() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "0022")  # before the surveys: only callback_result
        command.upgrade(cfg, "head")
        conn.commit()
    (row,) = _surveys(rt, done)
    assert (row.answers, row.overall, row.how, row.round) == (
        {"overall": "dissatisfied"},
        "dissatisfied",
        "phone",
        0,
    )
    assert _surveys(rt, unreachable) == []
    now = rt.clock()
    with rt.engine.connect() as conn:
        found = surveys.dissatisfied_between(conn, now - timedelta(days=1), now + timedelta(1))
    assert found == [done]


def test_the_handler_fills_the_survey_in_on_the_callback_form(client, rt, staff_web):
    number = _replied(client, "13700004441")
    web, csrf = staff_web("caller", "handler")
    page = web.get(f"/complaints/{number}")
    assert 'name="survey.resolved"' in page.text and 'name="survey.overall"' not in page.text
    form = {
        "csrf_token": csrf,
        "action": "callback",
        "result": "basically_satisfied",
        "survey.resolved": "partly",
        "survey.attitude": "satisfied",
        "survey.speed": "",
    }
    r = web.post(f"/complaints/{number}/act", data=form, follow_redirects=False)
    assert r.status_code in (303, 200), r.text
    (row,) = _surveys(rt, number)
    assert row.answers == {
        "overall": "basically_satisfied",
        "resolved": "partly",
        "attitude": "satisfied",
    }
    assert (row.how, row.answered_by) == ("phone", "caller")
    shown = web.get(f"/complaints/{number}").text
    survey = re.search(r'<div class="survey-answers" id="survey-0">(.*?)</div>', shown, re.S)
    assert survey and "部分解决" in survey.group(1) and "电话回访" in survey.group(1)


def test_two_answers_through_the_link_at_once_record_one(client, rt):
    from concurrent.futures import ThreadPoolExecutor

    from kesu.channels import portal_survey
    from kesu.problems import Problem

    number = _replied(client, "13700004442")
    token = _link(rt, number).rsplit("/", 1)[1]

    def send(overall: str):
        try:
            return portal_survey.answer(rt, token, {"overall": overall})["result"]
        except Problem as problem:
            return problem.code

    with ThreadPoolExecutor(2) as pool:
        got = sorted(pool.map(send, ["satisfied", "dissatisfied"]))
    assert got.count("survey_already_answered") == 1, got
    (row,) = _surveys(rt, number)
    assert row.overall in got
