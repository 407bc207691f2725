"""Personal data: masked in every answer, shown only by the audited action, encrypted at rest."""

from __future__ import annotations

import json

from sqlalchemy import text

from kesu.accounts import crypto, keys, masking
from tests.conftest import complaint_body

PHONE, MASKED_PHONE = "13987654321", "139****4321"
NAME, MASKED_NAME = "张三", "张*"
ACCOUNT, MASKED_ACCOUNT = "KD0755123456", "********3456"
ID_NUMBER, MASKED_ID = "110101199003071234", "110101********1234"
OTHER_PHONE, MASKED_OTHER = "15011112222", "150****2222"
# The full values that must appear in no ordinary answer.
SECRETS = (PHONE, ACCOUNT, ID_NUMBER, OTHER_PHONE, NAME)


def personal_body(**overrides):
    fields = {
        "customer": {"phone": PHONE, "name": NAME, "account": ACCOUNT},
        "title": f"宽带{ACCOUNT}断网，回电{PHONE}",
        "description": (
            f"客户来电称宽带断网三天，身份证号{ID_NUMBER}，宽带账号{ACCOUNT}，"
            f"联系人电话{OTHER_PHONE}。"
        ),
        "demands": f"尽快修复并回电{PHONE}",
    }
    return complaint_body(**{**fields, **overrides})


def leaks(answer, path: str = "") -> list[str]:
    """Where full values appear in an answer: ["extracted.products[0]: …", …]."""
    if isinstance(answer, dict):
        return [x for k, v in answer.items() for x in leaks(v, f"{path}.{k}".lstrip("."))]
    if isinstance(answer, list):
        return [x for i, v in enumerate(answer) for x in leaks(v, f"{path}[{i}]")]
    value = answer if isinstance(answer, str) else json.dumps(answer, ensure_ascii=False)
    out = []
    for secret in SECRETS:
        at = value.find(secret)
        if at >= 0:
            out.append(f"{path}: …{value[max(0, at - 12) : at + len(secret) + 6]}…")
    return out


def register(client, **overrides) -> dict:
    r = client.post("/api/v1/complaints", json=personal_body(**overrides))
    assert r.status_code == 201, r.text
    return r.json()


def act(client, number, action, **params) -> dict:
    r = client.post(f"/api/v1/complaints/{number}/transitions", json={"action": action, **params})
    assert r.status_code == 200, r.text
    return r.json()


def raw_personal(rt, number: str):
    with rt.engine.connect() as conn:
        return conn.execute(
            text(
                "SELECT customer_phone, customer_name, customer_account, customer_phone_hash "
                "FROM complaints WHERE number = :n"
            ),
            {"n": number},
        ).one()


def test_complaint_answers_mask_the_customer_and_numbers_in_texts(client):
    created = register(client)
    n = created["number"]
    for view in (created, client.get(f"/api/v1/complaints/{n}").json()):
        c = view["customer"]
        assert (c["phone"], c["name"], c["account"]) == (MASKED_PHONE, MASKED_NAME, MASKED_ACCOUNT)
        assert MASKED_ID in view["description"] and MASKED_OTHER in view["description"]
        assert MASKED_PHONE in view["title"] and MASKED_PHONE in view["demands"]
        assert leaks(view) == []
    listed = client.get("/api/v1/complaints").json()["items"]
    assert [i["number"] for i in listed] == [n]
    assert listed[0]["customer"]["phone"] == MASKED_PHONE
    assert leaks(listed) == []

    steps = [
        ("accept", {"note": f"已回电{PHONE}，客户身份证{ID_NUMBER}"}),
        ("investigate", {}),
        ("propose", {"resolution": f"经核实宽带{ACCOUNT}故障已修复，已短信通知{OTHER_PHONE}。"}),
        ("transfer", {"team": "network", "note": f"客户另一号码{OTHER_PHONE}"}),
    ]
    for action, params in steps:
        answer = act(client, n, action, **params)
        assert leaks(answer) == [], action
        assert answer["customer"]["phone"] == MASKED_PHONE
    assert MASKED_OTHER in answer["resolution"]
    assert leaks(client.get(f"/api/v1/complaints/{n}").json()) == []
    assert leaks(client.get("/api/v1/complaints", params={"q": "宽带"}).json()) == []


def test_the_customers_account_written_in_a_text_is_masked_too(client):
    """customer.account is masked; the same account quoted in the description must be too
    (triage recognises "宽带账号…" as an account and masks it in its own answer)."""
    account = "GZKD88006666"
    created = register(
        client,
        customer={"phone": PHONE, "account": account},
        description=f"宽带账号{account}一直断网，要求尽快修复。",
    )
    assert created["customer"]["account"] == "********6666"
    view = client.get(f"/api/v1/complaints/{created['number']}").json()
    assert account not in json.dumps(view, ensure_ascii=False), view["description"]


def test_events_mask_their_notes_and_data(client):
    n = register(client, description=f"客户要求赔偿{PHONE}倍，已找律师。")["number"]
    act(client, n, "accept", note=f"已回电{PHONE}")
    act(client, n, "investigate")
    act(client, n, "propose", resolution=f"退费至账号{ACCOUNT}，联系{OTHER_PHONE}")
    events = client.get(f"/api/v1/complaints/{n}/events").json()["items"]
    assert leaks(events) == []
    by_type = {e["type"]: e for e in events}
    assert by_type["accepted"]["note"] == f"已回电{MASKED_PHONE}"
    assert MASKED_OTHER in by_type["resolution_proposed"]["data"]["changes"]["resolution"]
    # The legal signal quotes the text: its evidence is masked in the history too.
    flags = {f["code"]: f for f in by_type["registered"]["data"]["triage"]["flags"]}
    assert "legal" in flags
    assert any(MASKED_PHONE in e for e in flags["legal"]["evidence"]), flags


def test_the_audit_log_masks_personal_data_in_its_details(client, as_role):
    n = register(client)["number"]
    act(client, n, "accept")
    act(client, n, "investigate")
    act(client, n, "propose", resolution=f"已回电{PHONE}，退费至{ACCOUNT}")
    r = client.get("/api/v1/audit", params={"limit": 200}, headers=as_role("auditor"))
    assert r.status_code == 200
    proposed = [e for e in r.json()["items"] if e["action"] == "complaint.propose"]
    assert MASKED_PHONE in proposed[0]["detail"]["after"]["resolution"]
    assert leaks(r.json()) == []


def test_triage_answers_mask_personal_data(client):
    # A past complaint whose resolution names the customer's number: it comes back as similar.
    n = register(client)["number"]
    act(client, n, "accept")
    act(client, n, "reply", resolution=f"已修复，并回电{PHONE}告知")
    r = client.post(
        "/api/v1/triage",
        json={
            "text": (
                f"我家{PHONE}的宽带断网三天了，身份证{ID_NUMBER}，宽带账号{ACCOUNT}，"
                f"要求赔偿{OTHER_PHONE}倍"
            ),
            "customer_phone": PHONE,
        },
    )
    assert r.status_code == 200, r.text
    answer = r.json()
    assert answer["extracted"]["phones"] == [MASKED_PHONE, MASKED_OTHER]
    assert answer["extracted"]["accounts"] == [MASKED_ACCOUNT]
    assert any(MASKED_OTHER in e for f in answer["flags"] for e in f["evidence"])
    assert n in [s["number"] for s in answer["similar"]]
    assert leaks(answer) == [], f"full values in the triage answer: {leaks(answer)}"
    # A text too short to say anything is quoted back as evidence: masked.
    r = client.post("/api/v1/triage", json={"text": PHONE})
    assert r.status_code == 200, r.text
    assert leaks(r.json()) == []


def test_reply_drafts_mask_personal_data(client):
    n = register(client)["number"]
    act(client, n, "accept")
    act(client, n, "investigate")
    act(client, n, "propose", resolution=f"已修复，工程师已致电{PHONE}并上门，账号{ACCOUNT}恢复。")
    r = client.post(f"/api/v1/complaints/{n}/reply-draft", json={"outcome": "upheld"})
    assert r.status_code == 200, r.text
    draft = r.json()
    assert MASKED_ID in draft["text"]  # the customer's own words, masked
    assert leaks(draft) == [], f"full values in the reply draft: {leaks(draft)}"


def test_obligations_mask_personal_data(client):
    n = register(client, category="network")["number"]
    r = client.get(f"/api/v1/complaints/{n}/obligations")
    assert r.status_code == 200, r.text
    assert r.json()["obligations"]
    assert leaks(r.json()) == []


def test_only_the_audited_show_action_gives_the_full_values(client, as_role):
    n = register(client)["number"]
    r = client.post(
        f"/api/v1/complaints/{n}/personal-data", json={"reason": "identity", "scope": "full"}
    )
    assert r.status_code == 200, r.text
    shown = r.json()
    assert shown["customer"]["phone"] == PHONE
    assert shown["customer"]["name"] == NAME
    assert shown["customer"]["account"] == ACCOUNT
    assert ID_NUMBER in shown["description"]
    assert shown["shown_to"] == "t-supervisor"

    for role in ("agent", "admin"):  # neither holds pii.show (the matrix tries every role)
        r = client.post(
            f"/api/v1/complaints/{n}/personal-data",
            json={"reason": "verify"},
            headers=as_role(role),
        )
        assert r.status_code == 403 and r.json()["code"] == "forbidden", role
        assert leaks(r.json()) == []
    r = client.post(f"/api/v1/complaints/{n}/personal-data", json={})
    assert r.status_code == 422  # no reason, no data

    entries = client.get(
        "/api/v1/audit", params={"action": "pii.show"}, headers=as_role("auditor")
    ).json()["items"]
    assert [(e["actor"], e["target_id"], e["detail"]["reason"]) for e in entries] == [
        ("t-supervisor", n, "identity")
    ]


def test_personal_fields_are_encrypted_at_rest_and_still_found_by_phone(rt, client):
    n = register(client)["number"]
    other = register(client, customer={"phone": "13600001111", "name": "李四"})["number"]
    phone, name, account, phone_hash = raw_personal(rt, n)
    for stored, plain in ((phone, PHONE), (name, NAME), (account, ACCOUNT)):
        assert stored.startswith("enc1:"), stored
        assert plain not in stored
    assert PHONE not in phone_hash
    # Found by the full number, however it is written; not by a part of it.
    for asked in (PHONE, "139-8765-4321", "+86 139 8765 4321"):
        r = client.get("/api/v1/complaints", params={"customer_phone": asked})
        assert r.status_code == 200, r.text
        assert [i["number"] for i in r.json()["items"]] == [n], asked
    assert client.get("/api/v1/complaints", params={"customer_phone": "4321"}).json()["items"] == []
    found = client.get("/api/v1/complaints", params={"customer_phone": "13600001111"}).json()
    assert [i["number"] for i in found["items"]] == [other]


def test_key_rotation_reencrypts_every_value_under_the_new_key(rt, client):
    numbers = [register(client)["number"] for _ in range(2)]
    numbers.append(register(client, customer={"phone": "13600001111"})["number"])  # no name
    original = crypto.keyring()
    old_id = original.current[0]
    assert raw_personal(rt, numbers[0])[0].startswith(f"enc1:{old_id}:")
    new_key = bytes(range(100, 132))  # 32 bytes: an AES-256 key
    try:
        crypto.configure(
            crypto.Keyring(
                keys=(("k-new", new_key), *original.keys),
                hash_key=original.hash_key,
            )
        )
        result = keys.rotate(rt, "test")
        assert result["key"] == "k-new" and result["complaints"] == 3
        ring = crypto.keyring()
        for n in numbers:
            for value in raw_personal(rt, n)[:3]:
                if value is None:
                    continue
                assert value.startswith("enc1:k-new:"), value
                assert ring.decrypt(value) in (PHONE, NAME, ACCOUNT, "13600001111")
        # Rotating again finds nothing left to do.
        assert keys.rotate(rt, "test")["complaints"] == 0
        # The application reads them as before: masked, shown, found.
        assert client.get(f"/api/v1/complaints/{numbers[0]}").json()["customer"]["phone"] == (
            MASKED_PHONE
        )
        r = client.post(
            f"/api/v1/complaints/{numbers[0]}/personal-data",
            json={"reason": "verify", "scope": "full"},
        )
        assert r.json()["customer"] == {**r.json()["customer"], "phone": PHONE, "name": NAME}
        r = client.get("/api/v1/complaints", params={"customer_phone": PHONE})
        assert {i["number"] for i in r.json()["items"]} == set(numbers[:2])
        # Without the old key the new values still read: nothing is left under it.
        crypto.configure(crypto.Keyring(keys=(("k-new", new_key),), hash_key=original.hash_key))
        assert client.get(f"/api/v1/complaints/{numbers[2]}").status_code == 200
    finally:
        crypto.configure(original)


def test_dates_in_event_data_are_not_taken_for_house_numbers():
    assert masking.text("预计 2026-12-18 答复") == "预计 2026-12-18 答复"
    assert masking.deep_text({"due_at": "2026-12-14T23:59:00+08:00"}) == {
        "due_at": "2026-12-14T23:59:00+08:00"
    }
    # …while what is personal next to a date is still masked.
    assert (
        masking.text("2026-12-18 来电 13800001234，住3号楼")
        == "2026-12-18 来电 138****1234，住*号楼"
    )
