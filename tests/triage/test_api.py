def test_triage_reads_category_flags_facts_and_validity(client, make_complaint):
    first = make_complaint(
        description="用户来电反映宽带断网两天，光猫红灯，要求上门修复。",
        customer={"phone": "13800001234"},
    )
    assert first["category"] == "network"
    r = client.post(
        "/api/v1/triage",
        json={
            "text": "我家宽带又断网三天了！！再不修我就找记者曝光，还要打12300投诉",
            "customer_phone": "13800001234",
        },
    )
    assert r.status_code == 200, r.text
    t = r.json()
    assert t["category"] == "network" and not t["needs_review"]
    assert t["alternatives"][0]["category"] == "network"
    codes = {f["code"]: f["evidence"] for f in t["flags"]}
    assert "曝光" in codes["media"] and "12300" in codes["regulator"]
    assert codes["repeat"] == [first["number"]]
    assert t["extracted"]["durations"][0]["hours"] == 72
    assert t["validity"] == []
    assert t["kind"] in ("fault", "complaint")


def test_triage_input_errors(client):
    r = client.post("/api/v1/triage", json={"text": ""})
    assert r.status_code == 422 and r.json()["code"] == "text_empty"
    r = client.post("/api/v1/triage", json={"words": "x"})
    assert r.status_code == 422


def test_many_complaints_from_one_place_raise_a_mass_incident(rt, client, make_complaint, clock):
    """The flag is the spike detector's (kesu.incidents, data/incidents/spikes.yaml): a
    complaint whose arrival would make its cell's window a spike against the cell's
    own baseline (here about one a day for ten days)."""
    from datetime import timedelta

    from tests.incidents import intake
    from tests.incidents.background import Arrival

    now = clock()
    past = [
        Arrival(now - timedelta(days=d, hours=1), "network", "河南省", "郑州市", f"1370000{d:04d}")
        for d in range(1, 11)
    ]
    intake.history(rt, past)
    text = "宽带断网了，光猫红灯闪，整栋楼都上不了网，要求尽快修复。"
    for i in range(6):
        make_complaint(
            description=text,
            category="network",
            customer={"phone": f"1390000000{i}", "city": "郑州市"},
        )
        clock.advance(minutes=10)
    r = client.post("/api/v1/triage", json={"text": text, "city": "郑州市"}).json()
    [mass] = [f for f in r["flags"] if f["code"] == "mass_incident"]
    assert "郑州市·网络质量：近6小时同类投诉7件（含本件）" in mass["evidence"][0]
    assert "判定为突增" in mass["evidence"][0]
    elsewhere = client.post("/api/v1/triage", json={"text": text, "city": "洛阳市"}).json()
    assert "mass_incident" not in {f["code"] for f in elsewhere["flags"]}
    clock.advance(hours=7)
    later = client.post("/api/v1/triage", json={"text": text, "city": "郑州市"}).json()
    assert "mass_incident" not in {f["code"] for f in later["flags"]}


def test_a_corrected_category_is_an_event_and_future_training_data(
    client, rt, make_complaint, act, monkeypatch, database_url
):
    import csv
    import io

    from typer.testing import CliRunner

    from kesu.cli import app

    c = make_complaint(description="用户来电反映家里宽带断网两天了，光猫红灯闪烁。")
    assert c["category"] == "network"
    assert act(c["number"], "classify", expect=422, category="network")["code"] == ("same_category")
    assert act(c["number"], "classify", expect=422, category="weather")["code"] == (
        "category_required"
    )
    fixed = act(c["number"], "classify", category="service", note="实为装维爽约")
    assert fixed["category"] == "service" and fixed["status"] == "registered"
    event = client.get(f"/api/v1/complaints/{c['number']}/events").json()["items"][-1]
    assert event["type"] == "recategorized"
    assert event["data"]["previous_category"] == "network"
    assert event["data"]["changes"] == {"category": "service"}
    make_complaint(description="另一件没有更正的事：话费多扣。")
    monkeypatch.setenv("KESU_DATABASE_URL", database_url)
    r = CliRunner().invoke(app, ["triage", "export-corrections"])
    assert r.exit_code == 0, r.output
    rows = list(csv.DictReader(io.StringIO(r.stdout)))
    assert rows == [
        {
            "text": "用户来电反映家里宽带断网两天了，光猫红灯闪烁。",
            "category": "service",
            "kind": "complaint",
        }
    ]


def test_similar_past_complaints_are_found_and_kept_up_to_date(client, make_complaint, act):
    broadband = make_complaint(
        description="小区宽带晚上经常断网，光猫LOS灯红色闪烁，重启也没用。", category="network"
    )
    act(broadband["number"], "accept")
    act(broadband["number"], "reply", resolution="已更换分光器，宽带恢复正常。")
    make_complaint(
        description="视频彩铃不是我开的，每月扣我10元，要求退费。", category="unauthorized"
    )
    r = client.post("/api/v1/triage?k=1", json={"text": "宽带天天断网，光猫红灯一直闪"}).json()
    assert [s["number"] for s in r["similar"]] == [broadband["number"]]
    top = r["similar"][0]
    assert top["category"] == "network" and 0 < top["similarity"] <= 1
    assert top["outcome"] == {"status": "replied", "resolution": "已更换分光器，宽带恢复正常。"}
    later = make_complaint(
        description="彩铃被开通了我不知道，扣费十元，要求退订退费。", category="unauthorized"
    )
    r = client.post("/api/v1/triage", json={"text": "不知道谁给我开的彩铃，乱扣费"}).json()
    assert later["number"] in [s["number"] for s in r["similar"][:2]]
    assert len(r["similar"]) <= 5
    assert client.post("/api/v1/triage?k=0", json={"text": "宽带"}).json()["similar"] == []
    assert client.post("/api/v1/triage?k=99", json={"text": "宽带"}).status_code == 422


def test_flags_are_raised_on_arrival_with_their_evidence(client, make_complaint, act):
    c = make_complaint(
        description="宽带断网三天没人修，再不解决我就找记者曝光！",
        customer={"phone": "13700001111", "city": "郑州市"},
    )
    assert "media" in c["risk_flags"] and c["priority"] == "urgent"
    [event] = client.get(f"/api/v1/complaints/{c['number']}/events").json()["items"]
    flags = {f["code"]: f["evidence"] for f in event["data"]["triage"]["flags"]}
    assert "曝光" in flags["media"]
    again = make_complaint(
        description="宽带又断网了，光猫红灯，还是没人来修。",
        customer={"phone": "13700001111", "city": "郑州市"},
    )
    assert "repeat" in again["risk_flags"] and again["priority"] == "high"
    # A media threat needs a supervisor's approval before the reply.
    n = c["number"]
    act(n, "accept")
    act(n, "investigate")
    act(n, "propose", resolution="已修复并致歉")
    assert act(n, "reply", expect=409)["code"] == "approval_required"
    given = make_complaint(description="找记者曝光", risk_flags=["media"], category="service")
    [event] = client.get(f"/api/v1/complaints/{given['number']}/events").json()["items"]
    assert "triage" not in event["data"]  # nothing added to what the agent chose
