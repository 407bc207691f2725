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
