"""The case library: packaged cases, search, promotion of a closed complaint."""

from collections import Counter

import pytest

from kesu.complaints import vocabulary as vocab
from kesu.law import cases, loader
from tests.conftest import complaint_body

PACKAGED = cases.load_packaged(loader.packaged(), vocab.CATEGORIES)


def test_packaged_cases_cover_every_category_and_cite_only_held_articles():
    by_source = Counter(c["source"] for c in PACKAGED)
    assert by_source["seed"] == 2 and by_source["court"] == 9 and by_source["project"] >= 30
    per_category = Counter(c["category"] for c in PACKAGED if c["source"] == "project")
    assert set(per_category) == set(vocab.CATEGORIES)
    assert min(per_category.values()) >= 3
    for c in PACKAGED:
        assert c["articles"], c["id"]
        for a in c["articles"]:
            loader.packaged().resolve(a["citation"])


def test_court_cases_keep_their_numbers_and_say_when_the_outcome_is_not_held():
    court = [c for c in PACKAGED if c["source"] == "court"]
    assert sum(1 for c in court if c["case_no"]) >= 7
    assert any("指导案例64号" in (c["case_no"] or "") for c in court)
    # Only two source texts hold the decision; the rest must not invent one.
    assert sum(1 for c in court if "未载" in c["outcome"]) >= 6


def test_seed_cases_do_not_cite_the_articles_we_do_not_hold():
    for c in PACKAGED:
        if c["source"] == "seed":
            assert all("电信服务规范" not in a["citation"] for a in c["articles"])


def test_a_case_citing_an_unheld_article_is_refused():
    raw = {**_raw(PACKAGED[0]), "articles": [{"citation": "《电信服务规范》第八条"}]}
    with pytest.raises(cases.CaseError, match="未收录"):
        cases.normalize(raw, loader.packaged(), set(vocab.CATEGORIES))


def _raw(c):
    return {k: c[k] for k in ("id", "source", "title", "category", "facts", "outcome")}


def test_search_finds_cases_from_colloquial_text(client):
    r = client.get("/api/v1/cases", params={"q": "携号转网不给授权码", "limit": 3})
    assert r.status_code == 200
    top = r.json()["results"]
    assert top and any("携" in c["title"] + c["facts"] for c in top[:2])
    r = client.get("/api/v1/cases", params={"category": "security", "limit": 50}).json()
    assert r["total"] >= 3 and all(c["category"] == "security" for c in r["results"])
    assert (
        client.get("/api/v1/cases", params={"category": "xx"}).json()["code"] == "unknown_category"
    )
    one = client.get(f"/api/v1/cases/{top[0]['id']}").json()
    assert one["id"] == top[0]["id"] and one["articles"][0]["citation"].startswith("《")
    assert client.get("/api/v1/cases/nope").status_code == 404


def test_triage_answer_lists_similar_cases(client):
    r = client.post("/api/v1/triage", json={"text": "家里宽带断网三天了报修没人来修，月租还照扣"})
    similar = r.json()["similar_cases"]
    assert similar and similar[0]["articles"]


def _closed(client, act):
    body = complaint_body(
        description="我是王小明，手机13912345678，住幸福路12号3栋501室。宽带断网四天没人修，要求减免月租。",
        category="network",
        customer={"phone": "13912345678", "name": "王小明", "account": "KD0755123456"},
    )
    n = client.post("/api/v1/complaints", json=body).json()["number"]
    act(n, "accept")
    act(n, "investigate")
    act(n, "propose", resolution="光缆中断，已修复，减免月租。王小明已认可。")
    act(n, "reply")
    act(n, "callback", result="satisfied")
    act(n, "close")
    return n


def test_promoting_a_closed_complaint_strips_personal_data(client, act, as_role):
    n = _closed(client, act)
    quality = as_role("quality")
    r = client.post(
        "/api/v1/cases",
        json={
            "complaint": n,
            "lessons": ["修复超时应主动告知并减免月租"],
            "tags": ["宽带", "修复超时"],
        },
        headers=quality,
    )
    assert r.status_code == 201, r.text
    case = r.json()
    blob = str(case)
    for personal in ("王小明", "13912345678", "幸福路12号", "KD0755123456"):
        assert personal not in blob
    assert "王某" in case["facts"] and case["source"] == "promoted"
    assert any("第三十二条" in a["citation"] for a in case["articles"])  # from the obligations
    # It is found by search, and the complaint's history records it.
    found = client.get("/api/v1/cases", params={"q": "宽带断网四天没人修"}).json()["results"]
    assert case["id"] in [c["id"] for c in found]
    events = client.get(f"/api/v1/complaints/{n}/events").json()["items"]
    assert events[-1]["type"] == "promoted_to_case"
    # Once only.
    again = client.post("/api/v1/cases", json={"complaint": n}, headers=quality)
    assert again.status_code == 409 and again.json()["code"] == "case_exists"


def test_only_closed_complaints_can_be_promoted_and_bad_citations_change_nothing(
    client, act, as_role
):
    quality = as_role("quality")
    n = client.post("/api/v1/complaints", json=complaint_body()).json()["number"]
    r = client.post("/api/v1/cases", json={"complaint": n}, headers=quality)
    assert r.status_code == 409 and r.json()["code"] == "case_needs_closed_complaint"
    n = _closed(client, act)
    r = client.post(
        "/api/v1/cases", json={"complaint": n, "articles": ["电信服务规范 第八条"]}, headers=quality
    )
    assert r.status_code == 422 and r.json()["code"] == "citation_not_held"
    assert client.get(f"/api/v1/cases/cmp-{n}").status_code == 404
    r = client.post("/api/v1/cases", json={"complaint": "TS20990101000001"}, headers=quality)
    assert r.status_code == 404
