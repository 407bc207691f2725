"""Reply drafts read as a careful handler writes them: the remedy named as what it is,
no phrase said twice, the customer's words restated (threats left out), every article
named one we hold."""

import re

import pytest

from kesu.complaints import vocabulary as vocab
from kesu.data_files import load_yaml
from kesu.law import loader, replies
from kesu.law.restate import restate
from tests.conftest import complaint_body

C = loader.packaged()

ANGRY = (
    "你们这帮骗子，乱扣我30元流量费！！我要去工信部投诉你们，还要找记者曝光。要求退还多扣的费用。"
)
# What each kind of remedy says for 30 yuan, and the words it must never use.
REMEDIES = {
    "refund": ("为您办理退费，退还相关费用30.00元。", "补偿"),
    "reduction": ("为您减免相关费用30.00元。", "补偿"),
    "damages": ("向您支付赔偿金30.00元。", "补偿"),
    "goodwill": ("考虑到此事给您带来的不便，给予您补偿30.00元。", "退费"),
}


def _proposed(client, act, remedy_kind=None, description=ANGRY):
    body = complaint_body(category="billing", description=description, demands="退还多扣的30元")
    number = client.post("/api/v1/complaints", json=body).json()["number"]
    act(number, "accept")
    act(number, "investigate")
    params = {"resolution": "经核查，本月流量费多计收30元，系计费系统差错。", "compensation": 30}
    if remedy_kind:
        params["remedy_kind"] = remedy_kind
    act(number, "propose", **params)
    return number


def _draft(client, number, **body):
    r = client.post(f"/api/v1/complaints/{number}/reply-draft", json={"outcome": "upheld", **body})
    assert r.status_code == 200, r.text
    return r.json()


def _section(d, key):
    return next(s["text"] for s in d["sections"] if s["key"] == key)


def _named_articles(text):
    return re.findall(
        r"《[^》]+》第[一二三四五六七八九十百零]+条(?:第[一二三四五六七八九十]+款)?", text
    )


@pytest.mark.parametrize("kind", list(REMEDIES))
def test_a_draft_names_the_remedy_proposed_as_what_it_is(client, act, kind):
    number = _proposed(client, act, kind)
    d = _draft(client, number)
    sentence, never = REMEDIES[kind]
    text = d["text"]
    assert f"我们的处理结果如下：\n{sentence}\n" in text
    assert never not in text
    # The findings follow the template's own lead-in once.
    assert "经核查，本月流量费多计收30元，系计费系统差错。" in text
    assert "经核查，经核查" not in text and not re.search(r"(经核[查实]，)\s*经核[查实]", text)
    # The customer's statement restated, the threats and outbursts left out.
    problem = _section(d, "problem")
    assert problem == "一、您反映的问题\n您反映，乱扣您30元流量费。要求退还多扣的费用。"
    for word in ("骗子", "工信部", "记者", "曝光", "！！"):
        assert word not in text
    assert _section(d, "demands") == "您的诉求：退还多扣的30元。"
    # Every article the draft names is held, and its quoted text is the corpus's.
    for cited in _named_articles(text):
        C.resolve(cited)
    for cit in d["citations"]:
        assert cit["text"] == C.quote(cit["citation"])["text"]
    assert not d["warnings"]
    events = client.get(f"/api/v1/complaints/{number}/events").json()["items"]
    proposed = next(e for e in events if e["type"] == "resolution_proposed")
    assert proposed["data"]["remedy_kind"] == kind
    assert events[-1]["type"] == "reply_drafted" and events[-1]["data"]["remedy_kind"] == kind
    view = client.get(f"/api/v1/complaints/{number}").json()
    assert (view["compensation"], view["remedy_kind"]) == ("30.00", kind)


def test_the_handler_may_name_the_kind_when_drafting(client, act):
    number = _proposed(client, act, "goodwill")
    d = _draft(client, number, remedy_kind="refund")
    assert "为您办理退费，退还相关费用30.00元。" in d["text"] and "补偿" not in d["text"]


def test_an_amount_whose_kind_nobody_said_is_left_for_the_handler(client, act):
    number = _proposed(client, act)
    d = _draft(client, number)
    assert "【请注明退费、减免、赔偿或补偿】30.00元。" in d["text"]
    assert "给予您补偿" not in d["text"]
    assert any("【】" in w for w in d["warnings"])


def test_an_unknown_remedy_kind_is_refused_and_changes_nothing(client, act):
    body = complaint_body(category="billing")
    number = client.post("/api/v1/complaints", json=body).json()["number"]
    act(number, "accept")
    act(number, "investigate")
    r = act(number, "propose", expect=422, resolution="退费", remedy_kind="apology")
    assert r["code"] == "unknown_remedy_kind" and "退费/减免/赔偿/补偿" in r["detail"]
    assert client.get(f"/api/v1/complaints/{number}").json()["status"] == "investigating"
    r = client.post(f"/api/v1/complaints/{number}/reply-draft", json={"remedy_kind": "apology"})
    assert r.status_code == 422 and r.json()["code"] == "unknown_remedy_kind"
    events = client.get(f"/api/v1/complaints/{number}/events").json()["items"]
    assert "reply_drafted" not in [e["type"] for e in events]


def test_restating_keeps_facts_and_demands_and_drops_the_agents_framing():
    def never(_):
        return False

    assert restate("用户来电反映宽带断网两天，光猫红灯，要求上门修复。", never) == (
        "宽带断网两天，光猫红灯，要求上门修复。"
    )
    assert restate("我家宽带坏了，你们公司的师傅一直不来", never) == (
        "您家宽带坏了，我公司的师傅一直不来。"
    )
    assert restate("客户称我司营业员未告知合约期", never) == "我公司营业员未告知合约期。"
    long = "，".join(["宽带断网"] * 80)
    short = restate(long, never, limit=40)
    assert short.endswith("等情况。") and len(short) < 60
    assert restate("我要投诉！", lambda c: "投诉" in c) == ""


def test_repeated_phrases_and_lead_ins_are_said_once():
    assert replies.without_lead_in("经核实，光缆被挖断。") == "光缆被挖断。"
    assert replies.without_lead_in("经我们认真核查后，光缆被挖断。") == "光缆被挖断。"
    assert replies.without_lead_in("光缆被挖断，经核查已修复。") == "光缆被挖断，经核查已修复。"
    assert replies.without_repeats("经核查，经核查，光缆被挖断。") == "经核查，光缆被挖断。"
    assert replies.without_repeats("非常抱歉，非常抱歉，非常抱歉，给您带来不便。") == (
        "非常抱歉，给您带来不便。"
    )


def test_an_article_named_in_the_running_text_must_be_held():
    data = load_yaml("law/replies.yaml")
    t0 = data["templates"][0]
    bad = {
        **data,
        "templates": [{**t0, "resolution": t0["resolution"] + "依照《电信服务规范》第十四条。"}],
    }
    with pytest.raises(replies.TemplateError, match="未收录"):
        replies.parse_templates(bad, C, list(vocab.CATEGORIES), list(vocab.REMEDY_KINDS))
    no_kind = {**data, "common": {**data["common"], "remedies": {"refund": "退{amount}元"}}}
    with pytest.raises(replies.TemplateError, match="remedies"):
        replies.parse_templates(no_kind, C, list(vocab.CATEGORIES), list(vocab.REMEDY_KINDS))
    held = replies.parse_templates(data, C, list(vocab.CATEGORIES), list(vocab.REMEDY_KINDS))
    for t in held.templates:
        for cited in _named_articles(t.resolution + t.findings):
            C.resolve(cited)


def test_the_handler_names_the_remedy_on_the_page_and_the_draft_words_it(rt, client, act):
    from fastapi.testclient import TestClient

    from kesu.accounts import users
    from kesu.app import create_app
    from tests.conftest import sign_in

    body = complaint_body(category="billing", description=ANGRY)
    number = client.post("/api/v1/complaints", json=body).json()["number"]
    act(number, "accept")
    act(number, "investigate")
    users.create_user(rt, "test", "remedy.handler", "handler", "password-123456")
    with TestClient(create_app(rt, watcher=False)) as web:
        sign_in(web, {"username": "remedy.handler", "password": "password-123456"})
        page = web.get(f"/complaints/{number}")
        propose = page.text.split('data-action="propose"', 1)[1].split("</form>", 1)[0]
        assert 'name="remedy_kind"' in propose and ">退费</option>" in propose
        csrf = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
        r = web.post(
            f"/complaints/{number}/act",
            data={
                "csrf_token": csrf,
                "action": "propose",
                "resolution": "经核实多扣30元，予以退还。",
                "compensation": "30",
                "remedy_kind": "refund",
            },
        )
        assert r.status_code == 200 and "金额（元）：30.00 元（退费）" in r.text
        draft = web.post(
            f"/complaints/{number}/draft", data={"csrf_token": csrf, "outcome": "upheld"}
        )
        assert "为您办理退费，退还相关费用30.00元。" in draft.text
        assert "补偿" not in draft.text and "骗子" not in draft.text
