"""No input produces a 500: random JSON at the write endpoints."""

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=30),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4)
    ),
    max_leaves=12,
)
fields = st.fixed_dictionaries(
    {},
    optional={
        "channel": st.sampled_from(["hotline", "web", "fax", "", 3]) | json_values,
        "received_at": st.sampled_from(
            ["2026-11-01T08:00:00+08:00", "2026-11-01", "x", "2026-02-30T00:00:00", 12]
        )
        | json_values,
        "customer": st.fixed_dictionaries(
            {},
            optional={
                "phone": st.sampled_from(["13800001234", "+86 138 0000 1234", "", "x" * 40])
                | json_values,
                "province": st.sampled_from(["河南", "500000", "火星", ""]) | json_values,
                "area": st.sampled_from(["urban", "rural", "x"]),
            },
        )
        | json_values,
        "kind": st.sampled_from(["complaint", "fault", "appeal", "x"]) | json_values,
        "description": st.text(max_size=50) | json_values,
        "risk_flags": st.lists(st.sampled_from(["legal", "media", "zzz"]), max_size=3)
        | json_values,
    },
)
actions = st.fixed_dictionaries(
    {
        "action": st.sampled_from(
            ["accept", "reply", "merge", "propose", "callback", "transfer", "flag", "x"]
        )
        | json_values
    },
    optional={
        "compensation": st.sampled_from([1, "2", -1, 1e308, "NaN", "Infinity", "abc"])
        | json_values,
        "into": json_values,
        "team": json_values,
        "result": json_values,
        "resolution": json_values,
        "add_flags": json_values,
        "expected_version": json_values,
    },
)


@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(body=fields)
def test_create_never_fails_with_500(client, body):
    r = client.post("/api/v1/complaints", json=body)
    assert r.status_code < 500, r.text
    if r.status_code >= 400:
        assert r.json()["code"]


@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(body=actions)
def test_transitions_never_fail_with_500(client, make_complaint, body):
    n = make_complaint()["number"]
    r = client.post(f"/api/v1/complaints/{n}/transitions", json=body)
    assert r.status_code < 500, r.text


@settings(
    max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    params=st.dictionaries(
        st.sampled_from(
            ["status", "kind", "overdue", "due_before", "limit", "cursor", "sort", "q", "open"]
        ),
        st.text(max_size=12),
        max_size=4,
    )
)
def test_list_never_fails_with_500(client, params):
    r = client.get("/api/v1/complaints", params=params)
    assert r.status_code < 500, r.text


def test_non_standard_json_numbers_are_refused(client, make_complaint):
    for raw in (
        b'{"channel": Infinity}',
        b'{"channel": NaN, "description": "x"}',
        b"\xff\xfe",
        b"",
        b"null",
        b'"text"',
    ):
        r = client.post(
            "/api/v1/complaints", content=raw, headers={"content-type": "application/json"}
        )
        assert 400 <= r.status_code < 500, (raw, r.text)
    n = make_complaint()["number"]
    r = client.post(
        f"/api/v1/complaints/{n}/transitions",
        content=b'{"action": "propose", "resolution": "x", "compensation": NaN}',
        headers={"content-type": "application/json"},
    )
    assert r.status_code == 422
