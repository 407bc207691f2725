"""Reply drafts: templates as data, every citation checked against the corpus."""

import pytest

from kesu.complaints import vocabulary as vocab
from kesu.data_files import load_yaml
from kesu.law import loader, replies
from tests.conftest import complaint_body

C = loader.packaged()


def _templates(data=None):
    return replies.parse_templates(data or load_yaml("law/replies.yaml"), C, list(vocab.CATEGORIES))


def test_every_template_cites_only_articles_we_hold_and_every_category_is_covered():
    ts = _templates()
    for category in vocab.CATEGORIES:
        for outcome in replies.OUTCOMES:
            t = ts.pick(category, outcome)
            assert t.category == category and t.outcome == outcome
            assert t.citations, t.id
            for c in t.citations:
                C.resolve(c)  # raises if not held


def test_a_template_citing_an_article_we_do_not_hold_fails():
    data = load_yaml("law/replies.yaml")
    bad = {
        **data,
        "templates": [{**data["templates"][0], "citations": ["《电信服务规范》第十四条"]}],
    }
    with pytest.raises(replies.TemplateError, match="未收录"):
        _templates(bad)
    bad = {**data, "templates": [{**data["templates"][0], "findings": "{customer_phone}"}]}
    with pytest.raises(replies.TemplateError, match="placeholders"):
        _templates(bad)


def _closed_like(client, act, **overrides):
    body = complaint_body(
        description="家里宽带坏了三天没人修，要求减免月租",
        category="network",
        demands="减免故障期间月租",
        **overrides,
    )
    return client.post("/api/v1/complaints", json=body).json()["number"]


def test_draft_has_every_part_and_quotes_the_articles_verbatim(client, act):
    number = _closed_like(client, act)
    r = client.post(
        f"/api/v1/complaints/{number}/reply-draft",
        json={
            "outcome": "upheld",
            "findings": "光缆被施工挖断，已于次日修复。",
            "remedy": "减免故障期间月租 12.50 元。",
            "salutation": "张先生",
        },
    )
    assert r.status_code == 200, r.text
    d = r.json()
    text = d["text"]
    assert text.startswith("尊敬的张先生")
    assert "家里宽带坏了三天没人修" in text  # the problem as the customer stated it
    assert "减免故障期间月租" in text and "光缆被施工挖断" in text and "12.50 元" in text
    assert [s["key"] for s in d["sections"]] == [
        "opening",
        "problem",
        "demands",
        "findings",
        "resolution",
        "basis",
        "recourse",
        "closing",
    ]
    assert "申诉" in text  # the next recourse
    assert d["template"] == "network.upheld"
    for cit in d["citations"] + d["recourse_citations"]:
        assert cit["verified"] and cit["text"] == C.quote(cit["citation"])["text"]
    # Each quoted article appears in the draft with its words from the corpus.
    a32 = C.quote("电信条例 32")["text"].split(" ", 1)[1]
    assert a32 in text
    assert not d["warnings"]


def test_missing_findings_are_left_for_the_handler_with_a_warning(client, act):
    number = _closed_like(client, act)
    d = client.post(f"/api/v1/complaints/{number}/reply-draft").json()
    assert replies.FILL_FINDINGS in d["text"] and replies.FILL_REMEDY in d["text"]
    assert any("【】" in w for w in d["warnings"])
    assert d["outcome"] == "explained"


def test_extra_citations_are_checked_and_an_unheld_one_changes_nothing(client, act):
    number = _closed_like(client, act)
    r = client.post(
        f"/api/v1/complaints/{number}/reply-draft", json={"citations": ["电信服务规范 第八条"]}
    )
    assert r.status_code == 422 and r.json()["code"] == "citation_not_held"
    events = client.get(f"/api/v1/complaints/{number}/events").json()
    assert "reply_drafted" not in [e["type"] for e in events["items"]]
    r = client.post(
        f"/api/v1/complaints/{number}/reply-draft",
        json={"outcome": "partial", "citations": ["消法 第五十五条第一款"]},
    )
    assert r.status_code == 200
    assert "《中华人民共和国消费者权益保护法》第五十五条第一款" in r.json()["text"]
    events = client.get(f"/api/v1/complaints/{number}/events").json()["items"]
    drafted = [e for e in events if e["type"] == "reply_drafted"]
    assert drafted and drafted[-1]["data"]["template"] == "network.partial"


def test_partial_article_in_a_draft_is_flagged(client, act):
    number = _closed_like(client, act)
    d = client.post(
        f"/api/v1/complaints/{number}/reply-draft", json={"citations": ["申诉办法 第十四条"]}
    ).json()
    assert any("部分原文" in w for w in d["warnings"])


def test_text_typed_by_people_is_not_taken_for_placeholders(client, act):
    number = _closed_like(client, act)
    d = client.post(
        f"/api/v1/complaints/{number}/reply-draft",
        json={"findings": "系统显示 {number} 与 <script>alert(1)</script>", "outcome": "upheld"},
    ).json()
    assert "系统显示 {number} 与 <script>alert(1)</script>" in d["text"]


def test_bad_outcome_is_rejected(client, act):
    number = _closed_like(client, act)
    r = client.post(f"/api/v1/complaints/{number}/reply-draft", json={"outcome": "maybe"})
    assert r.status_code == 422


def test_a_customer_in_henan_is_told_the_provincial_time_limits(client, act):
    body = complaint_body(
        description="客服态度差",
        category="service",
        customer={"phone": "13800001234", "province": "河南省"},
    )
    number = client.post("/api/v1/complaints", json=body).json()["number"]
    d = client.post(
        f"/api/v1/complaints/{number}/reply-draft", json={"outcome": "explained"}
    ).json()
    assert "五个工作日内" in d["text"]
    assert "《河南省电信条例》第三十八条" in [c["citation"] for c in d["recourse_citations"]]
    guangdong = _closed_like(client, act)
    d = client.post(f"/api/v1/complaints/{guangdong}/reply-draft").json()
    assert all("河南" not in c["citation"] for c in d["recourse_citations"])
