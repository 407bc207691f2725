"""The complaints API through HTTP, on every configured database."""

import re

import pytest
from sqlalchemy import func, select

from kesu.complaints import registration
from kesu.store import tables as t
from tests.conftest import complaint_body


def counts(rt):
    with rt.engine.connect() as conn:
        return tuple(
            conn.execute(select(func.count()).select_from(table)).scalar_one()
            for table in (t.complaints, t.complaint_events, t.deadlines)
        )


def test_create_returns_the_complaint_with_cited_deadlines(client):
    r = client.post(
        "/api/v1/complaints",
        json=complaint_body(
            received_at="2026-09-30T16:00:00+08:00",
            customer={"phone": "138-0000-1234", "province": "410100", "area": "urban"},
            title="宽带多扣费",
            demands="退费",
        ),
    )
    assert r.status_code == 201
    c = r.json()
    assert re.fullmatch(r"TS20261128\d{6}", c["number"])
    assert r.headers["location"] == f"/api/v1/complaints/{c['number']}"
    assert c["status"] == "registered" and c["kind"] == "complaint"
    assert c["channel_level"] == "province" and c["validity"] == "valid"
    assert c["customer"]["province"] == "河南省" and c["customer"]["phone"] == "138****1234"
    assert c["received_at"] == "2026-09-30T16:00:00+08:00"
    rules = {d["rule"]: d for d in c["deadlines"]}
    assert set(rules) == {"ack_24h", "reply_15d", "henan_reply_5wd"}
    henan = rules["henan_reply_5wd"]
    assert henan["due_at"].startswith("2026-10-13T23:59:59")
    assert henan["basis"][0]["regulation"] == "河南省电信条例"
    assert henan["basis"][0]["article"] == "第三十八条"
    assert henan["estimated"] is False and henan["met_at"] is None and not henan["breached"]
    assert rules["ack_24h"]["basis"][0]["policy"] is True
    assert c["next_due_at"] == "2026-10-01T16:00:00+08:00"
    assert c["overdue"] is True  # received long ago, nothing done
    assert "accept" in c["allowed_actions"]


def test_channel_level_and_numbers_are_unique(client, make_complaint):
    a = make_complaint(channel="weibo")
    b = make_complaint(channel="regulator", kind="appeal")
    assert a["channel_level"] == "group" and b["channel_level"] == "group"
    assert b["priority"] == "high"
    assert a["number"] != b["number"]
    assert int(b["number"][-6:]) == int(a["number"][-6:]) + 1


def test_fault_deadline_follows_the_customers_area(make_complaint):
    urban = make_complaint(kind="fault", customer={"phone": "13900000001"})
    rural = make_complaint(kind="fault", customer={"phone": "13900000002", "area": "rural"})
    assert [d["rule"] for d in urban["deadlines"]] == ["repair_urban_48h"]
    assert [d["rule"] for d in rural["deadlines"]] == ["repair_rural_72h"]
    assert urban["deadlines"][0]["due_at"] == "2026-11-30T10:00:00+08:00"
    assert "月租" in rural["deadlines"][0]["remedy"]["text"]


def test_idempotency_key_returns_the_same_complaint(client, rt):
    body = complaint_body()
    first = client.post("/api/v1/complaints", json=body, headers={"Idempotency-Key": "k-1"})
    again = client.post("/api/v1/complaints", json=body, headers={"Idempotency-Key": "k-1"})
    assert first.status_code == 201 and again.status_code == 200
    assert first.json()["number"] == again.json()["number"]
    assert counts(rt)[0] == 1
    other = client.post(
        "/api/v1/complaints",
        json=complaint_body(description="另一件事"),
        headers={"Idempotency-Key": "k-1"},
    )
    assert other.status_code == 422 and other.json()["code"] == "idempotency_key_reused"
    assert counts(rt)[0] == 1


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        (complaint_body(channel="fax"), 422, "unknown_channel"),
        ({k: v for k, v in complaint_body().items() if k != "description"}, 422, "missing_field"),
        (complaint_body(received_at="yesterday"), 422, "invalid_datetime"),
        (complaint_body(description="长" * 5001), 422, "text_too_long"),
        (complaint_body(description="   "), 422, "text_empty"),
        (complaint_body(customer={"phone": "abc"}), 422, "invalid_phone"),
        (
            complaint_body(customer={"phone": "13800001234", "province": "火星"}),
            422,
            "unknown_province",
        ),
        (complaint_body(customer={"phone": "13800001234", "area": "suburb"}), 422, "invalid_value"),
        (complaint_body(kind="rant"), 422, "unknown_kind"),
        (complaint_body(received_at="2030-01-01T00:00:00+08:00"), 422, "received_in_future"),
        (complaint_body(surprise=1), 422, "unknown_field"),
        ([1, 2, 3], 422, "invalid_type"),
    ],
)
def test_bad_input_gets_a_problem_and_writes_nothing(client, rt, body, status, code):
    r = client.post("/api/v1/complaints", json=body)
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    problem = r.json()
    assert problem["code"] == code
    assert re.search(r"[\u4e00-\u9fff]", problem["detail"])
    assert counts(rt) == (0, 0, 0)


def test_invalid_json_and_oversize_body(client, rt):
    r = client.post(
        "/api/v1/complaints", content=b'{"channel": ', headers={"content-type": "application/json"}
    )
    assert r.status_code == 400 and r.json()["code"] == "invalid_json"
    r = client.post(
        "/api/v1/complaints", content=b"x" * 1_100_000, headers={"content-type": "application/json"}
    )
    assert r.status_code == 413 and r.json()["code"] == "body_too_large"
    assert counts(rt) == (0, 0, 0)


def test_full_life_through_the_api(client, make_complaint, act, clock):
    c = make_complaint(customer={"phone": "13800001234", "province": "重庆市"})
    n = c["number"]
    assert {d["rule"] for d in c["deadlines"]} == {"ack_24h", "reply_15d", "chongqing_reply_15wd"}
    act(n, "accept", note="已告知客户处理流程和时限")
    clock.advance(hours=2)
    act(n, "transfer", team="billing", note="转计费核查")
    act(n, "investigate")
    act(
        n,
        "propose",
        resolution="经核查多扣30元，已退还。",
        compensation=30,
        root_cause="system_fault",
    )
    replied = act(n, "reply")
    assert replied["status"] == "replied"
    met = {d["rule"]: d["met_by"] for d in replied["deadlines"]}
    assert met == {"ack_24h": "accept", "reply_15d": "reply", "chongqing_reply_15wd": "reply"}
    assert replied["next_due_at"] is None
    assert replied["team"] == "billing" and replied["first_receiver"] == "t-supervisor"
    act(n, "callback", result="basically_satisfied")
    closed = act(n, "close")
    assert closed["status"] == "closed" and closed["allowed_actions"] == ["reopen", "classify"]
    events = client.get(f"/api/v1/complaints/{n}/events").json()["items"]
    assert [e["type"] for e in events] == [
        "registered",
        "accepted",
        "transferred",
        "investigation_started",
        "resolution_proposed",
        "replied",
        "callback_done",
        "closed",
    ]
    assert events[2]["data"]["changes"]["team"] == "billing"
    assert events[1]["note"] == "已告知客户处理流程和时限"


def test_not_allowed_is_409_with_the_allowed_actions(make_complaint, act, client):
    n = make_complaint()["number"]
    p = act(n, "close", expect=409)
    assert p["code"] == "action_not_allowed"
    assert set(p["allowed_actions"]) >= {"accept", "invalidate", "merge"}
    assert act(n, "fly", expect=422)["code"] == "unknown_action"
    assert act(n, "invalidate", expect=422)["code"] == "validity_reason_required"
    events = client.get(f"/api/v1/complaints/{n}/events").json()["items"]
    assert [e["type"] for e in events] == ["registered"]


def test_approval_before_reply_when_compensation_is_high(make_complaint, act):
    n = make_complaint()["number"]
    act(n, "accept")
    act(n, "investigate")
    act(n, "propose", resolution="赔偿500元话费", compensation=500)
    p = act(n, "reply", expect=409)
    assert p["code"] == "approval_required" and "approve" in p["allowed_actions"]
    act(n, "approve", note="同意")
    assert act(n, "reply")["compensation"] == "500.00"


def test_legal_risk_needs_approval(make_complaint, act):
    n = make_complaint(risk_flags=["legal"])["number"]
    act(n, "accept")
    act(n, "investigate")
    act(n, "propose", resolution="解释说明")
    assert act(n, "reply", expect=409)["code"] == "approval_required"


def test_close_after_three_failed_callbacks(make_complaint, act):
    n = make_complaint(kind="inquiry")["number"]
    act(n, "reply", resolution="您的套餐余量为3GB。")
    for i in range(3):
        if i < 3:
            assert act(n, "close", expect=409)["code"] == "callback_required"
        act(n, "callback", result="unreachable")
    c = act(n, "close")
    assert c["status"] == "closed" and c["callback_attempts"] == 3


def test_reopen_is_counted_and_limited_in_time(make_complaint, act, clock):
    n = make_complaint(kind="consultation")["number"]
    act(n, "reply", resolution="已解释")
    act(n, "callback", result="satisfied")
    act(n, "close")
    clock.advance(days=3)
    reopened = act(n, "reopen", note="客户再次来电")
    assert reopened["status"] == "investigating" and reopened["reopen_count"] == 1
    assert [d["rule"] for d in reopened["deadlines"] if d["met_at"] is None] == ["reopen_reply_5wd"]
    act(n, "reply", resolution="再次解释")
    act(n, "callback", result="satisfied")
    act(n, "close")
    clock.advance(days=31)
    assert act(n, "reopen", expect=409)["code"] == "reopen_window_passed"


def test_merge_links_the_duplicate_and_closes_it(client, make_complaint, act):
    keep = make_complaint()["number"]
    dup = make_complaint()["number"]
    assert act(dup, "merge", expect=422, into="TS20990101000001")["code"] == (
        "merge_target_not_found"
    )
    merged = act(dup, "merge", into=keep, note="重复来电")
    assert merged["status"] == "merged" and merged["merged_into"] == keep
    assert merged["next_due_at"] is None
    assert all(d["met_by"] == "merge" for d in merged["deadlines"])
    keep_events = client.get(f"/api/v1/complaints/{keep}/events").json()["items"]
    assert keep_events[-1]["type"] == "duplicate_merged"
    assert keep_events[-1]["data"]["duplicate"] == dup
    assert act(keep, "merge", expect=409, into=dup)["code"] == "merge_target_closed"


def test_invalid_closes_with_its_reason(make_complaint, act):
    n = make_complaint()["number"]
    c = act(n, "invalidate", reason="out_of_scope", note="咨询的是快递问题")
    assert c["status"] == "invalid" and c["validity"] == "invalid"
    assert c["invalid_reason"] == "out_of_scope" and c["next_due_at"] is None


def test_dissatisfied_consultation_becomes_a_complaint(client, make_complaint, act, clock):
    n = make_complaint(kind="consultation")["number"]
    act(n, "reply", resolution="套餐规则如下……")
    clock.advance(hours=5)
    c = act(n, "callback", result="dissatisfied")
    assert c["kind"] == "complaint" and c["status"] == "registered"
    started = [d for d in c["deadlines"] if d["rule"] in ("ack_24h", "reply_15d")]
    assert len(started) == 2
    assert all(d["started_at"] == "2026-11-28T15:00:00+08:00" for d in started)
    types = [e["type"] for e in client.get(f"/api/v1/complaints/{n}/events").json()["items"]]
    assert types[-1] == "converted_to_complaint"


def test_version_conflict_is_detected(make_complaint, act):
    c = make_complaint()
    act(c["number"], "accept", expected_version=c["version"])
    p = act(c["number"], "investigate", expect=409, expected_version=c["version"])
    assert p["code"] == "version_conflict" and p["current_version"] == c["version"] + 1


def test_list_filters_and_cursor_pagination(client, make_complaint, act, clock):
    numbers = []
    for i in range(7):
        clock.advance(minutes=10)
        numbers.append(
            make_complaint(
                channel="hotline" if i % 2 else "app",
                kind="fault" if i == 3 else "complaint",
                description=f"第{i}号：宽带断网" if i < 2 else f"第{i}号：账单疑问",
                customer={"phone": f"1380000000{i}"},
            )["number"]
        )
    act(numbers[0], "invalidate", reason="no_contact")
    seen, cursor = [], None
    while True:
        r = client.get(
            "/api/v1/complaints", params={"limit": 3, **({"cursor": cursor} if cursor else {})}
        ).json()
        seen += [c["number"] for c in r["items"]]
        cursor = r["next_cursor"]
        if not cursor:
            break
    assert seen == list(reversed(numbers))

    def get(**params):
        return [
            c["number"] for c in client.get("/api/v1/complaints", params=params).json()["items"]
        ]

    assert get(channel="app") == [numbers[6], numbers[4], numbers[2], numbers[0]]
    assert get(kind="fault") == [numbers[3]]
    assert get(status="invalid") == [numbers[0]]
    assert set(get(q="宽带断网")) == {numbers[0], numbers[1]}
    assert get(customer_phone="13800000005") == [numbers[5]]
    assert get(q=numbers[2]) == [numbers[2]]
    # Queue order: by next deadline; the fault's 48 hours come after the others' 24.
    assert get(sort="due", open="true", limit=3) == [numbers[1], numbers[2], numbers[4]]
    assert get(sort="due", open="true")[-1] == numbers[3]
    clock.advance(days=2)
    overdue = get(overdue="true")
    assert set(overdue) == set(numbers[1:])
    assert get(due_before="2026-11-29T10:15:00+08:00") == []
    bad = client.get("/api/v1/complaints", params={"channel": "fax"})
    assert bad.status_code == 422 and bad.json()["code"] == "unknown_channel"
    bad = client.get("/api/v1/complaints", params={"cursor": "!!"})
    assert bad.status_code == 400 and bad.json()["code"] == "invalid_cursor"


def test_due_sort_pages_through_rows_without_deadlines(client, make_complaint, act):
    made = [make_complaint(kind="inquiry" if i % 2 else "complaint")["number"] for i in range(6)]
    seen, cursor = [], None
    while True:
        r = client.get(
            "/api/v1/complaints",
            params={"sort": "due", "limit": 2, **({"cursor": cursor} if cursor else {})},
        ).json()
        seen += [c["number"] for c in r["items"]]
        cursor = r["next_cursor"]
        if not cursor:
            break
    assert sorted(seen) == sorted(made) and len(seen) == 6
    assert seen[:3] == [made[0], made[2], made[4]]  # those with deadlines first


def test_unknown_complaint_is_404_problem(client):
    r = client.get("/api/v1/complaints/TS20990101000001")
    assert r.status_code == 404 and r.json()["code"] == "not_found"
    assert client.get("/api/v1/nothing").json()["code"] == "not_found"


def test_the_database_refuses_to_rewrite_history(rt, make_complaint):
    from sqlalchemy import delete, update
    from sqlalchemy.exc import DatabaseError

    make_complaint()
    for stmt in (
        update(t.complaint_events).values(note="改写"),
        delete(t.complaint_events),
    ):
        with pytest.raises(DatabaseError, match="append-only"), rt.engine.begin() as conn:
            conn.execute(stmt)
    assert counts(rt)[1] == 1


def test_concurrent_retries_with_one_key_create_one_complaint(rt, client):
    import threading

    results = []
    barrier = threading.Barrier(4)

    def post():
        barrier.wait()
        r = client.post(
            "/api/v1/complaints", json=complaint_body(), headers={"Idempotency-Key": "same-call"}
        )
        results.append((r.status_code, r.json()["number"]))

    threads = [threading.Thread(target=post) for _ in range(4)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert sorted(code for code, _ in results) == [200, 200, 200, 201]
    assert len({number for _, number in results}) == 1
    assert counts(rt)[0] == 1


def test_root_leads_to_the_sign_in_page(client):
    client.headers.pop("Authorization")
    r = client.get("/", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/login"


def test_numbers_stay_unique_and_gapless_under_concurrency(rt, client):
    import threading

    from kesu.complaints.schemas import ComplaintIn

    numbers: list[str] = []
    lock = threading.Lock()

    def post(i):
        r = client.post(
            "/api/v1/complaints", json=complaint_body(customer={"phone": f"1390000{i:04d}"})
        )
        assert r.status_code == 201
        with lock:
            numbers.append(r.json()["number"])

    threads = [threading.Thread(target=post, args=(i,)) for i in range(12)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    item = ComplaintIn.model_validate(complaint_body()).model_dump()
    numbers += registration.bulk_import(rt, [item] * 5, "import")
    suffixes = sorted(int(n[-6:]) for n in numbers)
    assert suffixes == list(range(1, 18))
    assert all(n.startswith("TS20261128") for n in numbers)
    listed = client.get("/api/v1/complaints", params={"limit": 50}).json()["items"]
    assert sorted(x["number"] for x in listed) == sorted(numbers)


def test_two_complaints_cannot_be_merged_into_each_other_at_once(client, make_complaint):
    import threading

    a, b = make_complaint()["number"], make_complaint()["number"]
    codes = []
    barrier = threading.Barrier(2)

    def merge(src, dst):
        barrier.wait()
        r = client.post(
            f"/api/v1/complaints/{src}/transitions", json={"action": "merge", "into": dst}
        )
        codes.append(r.status_code)

    threads = [threading.Thread(target=merge, args=pair) for pair in ((a, b), (b, a))]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert sorted(codes) == [200, 409]
    states = {n: client.get(f"/api/v1/complaints/{n}").json()["status"] for n in (a, b)}
    assert sorted(states.values()) == ["merged", "registered"]


def test_bulk_import_reads_back_like_a_registration(rt, client):
    from kesu.complaints.schemas import ComplaintIn

    body = complaint_body(
        received_at="2026-11-20T09:30:00+08:00",
        kind="complaint",
        category="billing",  # imports keep their records' categories; no triage
        risk_flags=["media"],
        customer={"phone": "13800001234", "province": "河南省", "area": "rural"},
    )
    single = client.post("/api/v1/complaints", json=body).json()
    assert single["risk_flags"] == ["media"]
    assert client.get(f"/api/v1/complaints/{single['number']}").json() == single
    [number] = registration.bulk_import(
        rt, [ComplaintIn.model_validate(body).model_dump()], "import"
    )
    imported = client.get(f"/api/v1/complaints/{number}").json()
    # The same customer and category at the same instant, registered after the single one:
    # the import decides the repeat flag by the same rule (which sets the priority too).
    assert imported["risk_flags"] == ["media", "repeat"] and imported["priority"] == "urgent"
    volatile = {"number", "created_at", "updated_at", "first_receiver", "version"}
    volatile |= {"risk_flags", "priority"}
    assert {k: v for k, v in imported.items() if k not in volatile} == {
        k: v for k, v in single.items() if k not in volatile
    }
    events = client.get(f"/api/v1/complaints/{number}/events").json()["items"]
    assert [e["type"] for e in events] == ["registered"] and events[0]["note"] == "批量导入"
    assert client.get("/api/v1/complaints", params={"overdue": "true"}).json()["items"]


def test_bulk_import_refuses_a_future_receipt_and_writes_nothing(rt):
    from datetime import timedelta

    from kesu.complaints.schemas import ComplaintIn
    from kesu.problems import Problem

    good = ComplaintIn.model_validate(complaint_body()).model_dump()
    future = dict(good, received_at=rt.clock() + timedelta(days=1))
    with pytest.raises(Problem) as err:
        registration.bulk_import(rt, [good, future], "import")
    assert err.value.code == "received_in_future"
    assert counts(rt) == (0, 0, 0)
    [number] = registration.bulk_import(rt, [good], "import")
    assert number.endswith("000001")  # no number was spent on the refused import


def test_a_complaint_without_category_is_categorised_by_triage(client, make_complaint):
    c = make_complaint(
        description="用户来电反映家里宽带断网两天了，光猫红灯闪烁，要求尽快上门修复。"
    )
    assert c["category"] == "network"
    [registered] = client.get(f"/api/v1/complaints/{c['number']}/events").json()["items"]
    triage = registered["data"]["triage"]
    assert triage["automatic"] is True and triage["category"] == "network"
    assert 0.45 <= triage["confidence"] <= 1 and triage["model"].startswith("triage-")
    unclear = make_complaint(description="嗯")
    assert unclear["category"] is None
    [event] = client.get(f"/api/v1/complaints/{unclear['number']}/events").json()["items"]
    assert event["data"]["triage"]["needs_review"] is True
    chosen = make_complaint(category="service")
    assert chosen["category"] == "service"
    [event] = client.get(f"/api/v1/complaints/{chosen['number']}/events").json()["items"]
    assert "triage" not in event["data"]
