"""Item 6: good and bad examples promoted with a lesson, cases found by category, article
and lesson, and the practice round (scored, recorded, never showing personal data)."""

from __future__ import annotations

import json

from sqlalchemy import select

from kesu.store import tables as t
from tests.quality.helpers import Floor

NAME, PHONE, ACCOUNT = "欧阳娜娜", "13912345678", "ACC88776655"
STORY = (
    f"客户{NAME}（电话{PHONE}，账户{ACCOUNT}）反映，住在幸福路12号3单元，"
    "本月账单多扣了30元流量费，营业员未告知套餐有效期，要求核实退费。"
)
LESSON = "办理套餐时必须告知有效期，并留存告知记录。"


def promoted(client, tokens) -> str:
    floor = Floor(client, tokens)
    n = floor.closed(
        "li.agent",
        customer={"phone": PHONE, "name": NAME, "account": ACCOUNT},
        description=STORY,
        category="billing",
    )
    r = client.post(
        "/api/v1/cases",
        json={
            "complaint": n,
            "verdict": "bad",
            "lessons": [LESSON],
            "articles": ["电信条例 32"],
        },
        headers=floor.headers("zhou.qc", "quality"),
    )
    assert r.status_code == 201, r.text
    assert r.json()["verdict"] == "bad"
    return r.json()["id"]


def test_a_verdict_needs_a_lesson_and_a_known_value(rt, client, tokens):
    floor = Floor(client, tokens)
    n = floor.closed("li.agent")
    qc = floor.headers("zhou.qc", "quality")
    r = client.post("/api/v1/cases", json={"complaint": n, "verdict": "good"}, headers=qc)
    assert r.status_code == 422 and r.json()["code"] == "lesson_required"
    r = client.post(
        "/api/v1/cases", json={"complaint": n, "verdict": "great", "lessons": ["x"]}, headers=qc
    )
    assert r.status_code == 422
    with rt.engine.connect() as conn:
        assert (
            conn.execute(
                select(t.law_cases.c.id).where(t.law_cases.c.complaint_number == n)
            ).first()
            is None
        )


def test_cases_are_found_by_category_article_lesson_and_verdict(rt, client, tokens):
    cid = promoted(client, tokens)
    agent = Floor(client, tokens).headers("li.agent")

    def ids(**params):
        r = client.get("/api/v1/cases", params={"limit": 100, **params}, headers=agent)
        assert r.status_code == 200, r.text
        return [c["id"] for c in r.json()["results"]]

    assert ids(verdict="bad") == [cid]
    assert ids(verdict="good") == []
    assert cid in ids(lesson="有效期")
    assert cid not in ids(lesson="不存在的教训词")
    assert cid in ids(article="电信条例 32") and cid in ids(
        article="《中华人民共和国电信条例》第三十二条"
    )
    assert cid not in ids(article="电信条例 31")
    assert cid in ids(category="billing") and cid not in ids(category="network")
    every = ids(lesson="告知")
    assert every and all(
        any("告知" in x for x in client.get(f"/api/v1/cases/{c}", headers=agent).json()["lessons"])
        for c in every
    )
    r = client.get("/api/v1/cases", params={"article": "不存在的法 3"}, headers=agent)
    assert r.status_code == 422 and r.json()["code"].startswith("citation_")
    r = client.get("/api/v1/cases", params={"verdict": "meh"}, headers=agent)
    assert r.status_code == 422


def test_a_practice_round_is_scored_and_never_shows_personal_data(rt, client, tokens):
    cid = promoted(client, tokens)
    floor = Floor(client, tokens)
    new = floor.headers("xiao.new")
    r = client.post("/api/v1/practice", headers=new)
    assert r.status_code == 201, r.text
    rnd = r.json()
    assert rnd["total"] == 5 and rnd["answered"] == 0 and not rnd["finished"]
    with rt.engine.connect() as conn:
        order = conn.execute(select(t.practice_rounds.c.case_ids)).scalar_one()
    assert order[0] == cid  # the reviewed example first
    text = json.dumps(rnd, ensure_ascii=False)
    for secret in (NAME, PHONE, ACCOUNT, "幸福路12号", "TS2026"):
        assert secret not in text, secret
    assert "多扣了30元流量费" in rnd["cases"][0]["facts"]
    # Before answering, nothing gives the answer away.
    assert all(c["result"] is None and "title" not in c for c in rnd["cases"])
    assert [c["position"] for c in rnd["cases"]] == [1, 2, 3, 4, 5]

    expected = [client.get(f"/api/v1/cases/{cid}", headers=new).json()["category"] for cid in order]
    wrong = {"billing": "network"}
    results = []
    for i, right in enumerate(expected):
        answer = right if i < 3 else wrong.get(right, "billing")
        r = client.post(
            f"/api/v1/practice/{rnd['id']}/answers",
            json={"position": i + 1, "category": answer},
            headers=new,
        )
        assert r.status_code == 200, r.text
        results.append(r.json())
    first = results[0]["result"]
    assert first["correct"] and first["expected"] == "billing" and first["lessons"] == [LESSON]
    assert first["case_id"] == cid  # named once answered, to find it in the library
    assert first["verdict"] == "bad"
    assert NAME not in json.dumps(results, ensure_ascii=False)
    assert [x["result"]["correct"] for x in results] == [True, True, True, False, False]
    done = results[-1]["round"]
    assert (done["finished"], done["correct"], done["score"]) == (True, 3, 60.0)
    with rt.engine.connect() as conn:
        row = conn.execute(
            select(t.practice_rounds).where(t.practice_rounds.c.id == rnd["id"])
        ).one()
    assert (row.username, row.correct, row.score) == ("xiao.new", 3, 60.0)

    # Once only per case; another's round is not there; bad input refused.
    again = client.post(
        f"/api/v1/practice/{rnd['id']}/answers",
        json={"position": 1, "category": "network"},
        headers=new,
    )
    assert again.status_code == 409 and again.json()["code"] == "practice_answered"
    other = client.post(
        f"/api/v1/practice/{rnd['id']}/answers",
        json={"position": 1, "category": "billing"},
        headers=floor.headers("wang.agent"),
    )
    assert other.status_code == 404 and other.json()["code"] == "practice_not_found"
    second = client.post("/api/v1/practice", headers=new).json()
    for body, code in (
        ({"position": 6, "category": "billing"}, "case_not_in_round"),
        ({"position": 1, "category": "cooking"}, "unknown_category"),
    ):
        r = client.post(f"/api/v1/practice/{second['id']}/answers", json=body, headers=new)
        assert r.status_code == 422 and r.json()["code"] == code, r.text
    with rt.engine.connect() as conn:
        n = conn.execute(
            select(t.practice_answers.c.id).where(t.practice_answers.c.round_id == second["id"])
        ).all()
    assert n == []
