"""Limits hold under concurrency: a real server with two workers, attempts fired at once.

Sign-in lock-out, portal code attempts, portal code sends and portal submissions per
day are each checked and counted in one atomic step in the database, so attempts sent
together are counted like attempts sent one after the other, and the right secret is
refused once the limit is reached. Runs on SQLite and, with KESU_TEST_DATABASE_URL, on
PostgreSQL (where the old read-then-write code let every attempt through).
"""

from __future__ import annotations

import re
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
from sqlalchemy import func, select

from kesu.accounts import crypto
from kesu.accounts.customers import MAX_ATTEMPTS
from kesu.accounts.signin import LOCK_AFTER
from kesu.channels.portal_words import SUBMISSIONS_PER_DAY
from kesu.store import tables as t
from tests.conftest import DATABASES
from tests.two_workers import serving

PASSWORD = "right-password-123456"
PHONE = "13912345678"
PHONE2 = "13912345679"
PHONE3 = "13912345670"


@pytest.fixture(scope="module", params=DATABASES)
def server(request, tmp_path_factory):
    """(base URL, runtime on the same database) of `kesu serve --workers 2`, shared by the
    tests of this module (each uses its own user or phone number)."""
    with serving(request.param, tmp_path_factory.mktemp("limits")) as running:
        yield running


def _at_once(n: int, send) -> list[httpx.Response]:
    """Send n requests together (each on its own connection) and return the answers."""
    with ThreadPoolExecutor(max_workers=n) as pool:
        return list(pool.map(send, range(n)))


def _audits(rt, action: str, target: str | None = None) -> int:
    query = select(func.count()).where(t.audit_log.c.action == action)
    if target is not None:
        query = query.where(t.audit_log.c.target_id == target)
    with rt.engine.connect() as conn:
        return conn.execute(query).scalar_one()


def test_concurrent_wrong_passwords_lock_the_account(server):
    from kesu.accounts.users import create_user

    base, rt = server
    create_user(rt, "test", "victim", "agent", PASSWORD)

    def wrong(i: int) -> httpx.Response:
        return httpx.post(
            f"{base}/api/v1/auth/login",
            json={"username": "victim", "password": f"wrong-password-{i:04d}"},
            timeout=60,
        )

    answers = _at_once(40, wrong)
    codes = sorted(r.status_code for r in answers)
    assert set(codes) <= {401, 429}, [r.text for r in answers if r.status_code not in (401, 429)]
    # Every attempt is recorded once, and only LOCK_AFTER passwords were ever checked:
    # the others met the lock.
    failed = _audits(rt, "auth.login_failed", "victim")
    locked = _audits(rt, "auth.login_locked", "victim")
    assert failed + locked == 40
    assert failed == codes.count(401) == LOCK_AFTER
    with rt.engine.connect() as conn:
        user = conn.execute(select(t.users).where(t.users.c.username == "victim")).one()
    assert user.failed_logins == LOCK_AFTER and user.locked_until is not None

    # The right password is refused while locked.
    r = httpx.post(
        f"{base}/api/v1/auth/login", json={"username": "victim", "password": PASSWORD}, timeout=60
    )
    assert r.status_code == 429 and r.json()["code"] == "account_locked", r.text
    assert int(r.headers["Retry-After"]) > 0
    assert _audits(rt, "auth.login", "victim") == 0


def test_concurrent_right_and_wrong_passwords_never_pass_the_lock(server):
    """The right password sent with a burst of wrong ones: it signs in only if it was
    checked before the lock, at most once, and never more than LOCK_AFTER wrong ones are
    checked on each side of it."""
    from kesu.accounts.users import create_user

    base, rt = server
    create_user(rt, "test", "victim2", "agent", PASSWORD)

    def attempt(i: int) -> httpx.Response:
        password = PASSWORD if i == 20 else f"wrong-password-{i:04d}"
        return httpx.post(
            f"{base}/api/v1/auth/login",
            json={"username": "victim2", "password": password},
            timeout=60,
        )

    answers = _at_once(41, attempt)
    assert {r.status_code for r in answers} <= {200, 401, 429}
    signed_in = [r for r in answers if r.status_code == 200]
    assert len(signed_in) <= 1
    failed = sum(r.status_code == 401 for r in answers)
    # Without a success, LOCK_AFTER wrong passwords lock; a success resets the count once.
    assert failed <= (2 * LOCK_AFTER if signed_in else LOCK_AFTER)
    if signed_in:
        return  # the success came before the lock; what follows it was counted afresh
    with rt.engine.connect() as conn:
        user = conn.execute(select(t.users).where(t.users.c.username == "victim2")).one()
    assert user.locked_until is not None
    r = httpx.post(
        f"{base}/api/v1/auth/login", json={"username": "victim2", "password": PASSWORD}, timeout=60
    )
    assert r.status_code == 429 and r.json()["code"] == "account_locked", r.text


def _last_code(rt) -> str:
    with rt.engine.connect() as conn:
        body = conn.execute(
            select(t.notifications.c.body).order_by(t.notifications.c.id.desc()).limit(1)
        ).scalar_one()
    return re.search(r"\d{6}", body).group(0)


def test_concurrent_code_requests_send_one_code(server):
    base, rt = server

    def ask(_: int) -> httpx.Response:
        return httpx.post(f"{base}/api/v1/portal/code", json={"phone": PHONE3}, timeout=60)

    # Ten requests at once send one code; the others are told to wait.
    answers = _at_once(10, ask)
    assert sorted(r.status_code for r in answers) == [200] + [429] * 9, [r.text for r in answers]
    assert {r.json()["code"] for r in answers if r.status_code == 429} == {"code_too_soon"}
    assert all(int(r.headers["Retry-After"]) > 0 for r in answers if r.status_code == 429)
    with rt.engine.connect() as conn:
        sent = conn.execute(
            select(func.count()).where(t.customer_codes.c.phone_hash == crypto.phone_hash(PHONE3))
        ).scalar_one()
    assert sent == 1


def test_concurrent_wrong_codes_use_up_the_code(server):
    base, rt = server
    ph = crypto.phone_hash(PHONE)
    r = httpx.post(f"{base}/api/v1/portal/code", json={"phone": PHONE}, timeout=60)
    assert r.status_code == 200, r.text
    code = _last_code(rt)
    target = ph[:12]
    wrong_codes = [f"{(int(code) + 1 + i) % 1_000_000:06d}" for i in range(60)]

    def wrong(i: int) -> httpx.Response:
        return httpx.post(
            f"{base}/api/v1/portal/login",
            json={"phone": PHONE, "code": wrong_codes[i]},
            timeout=60,
        )

    answers = _at_once(60, wrong)
    assert {r.status_code for r in answers} == {401}
    assert {r.json()["code"] for r in answers} == {"code_invalid"}
    with rt.engine.connect() as conn:
        row = conn.execute(
            select(t.customer_codes).where(t.customer_codes.c.phone_hash == ph)
        ).one()
        reasons = [
            d["reason"]
            for d in conn.execute(
                select(t.audit_log.c.detail).where(
                    t.audit_log.c.action == "portal.login_failed", t.audit_log.c.target_id == target
                )
            ).scalars()
        ]
    # Every attempt counted once; only MAX_ATTEMPTS were compared with the code.
    assert row.attempts == MAX_ATTEMPTS
    assert len(reasons) == 60 and reasons.count("wrong") == MAX_ATTEMPTS

    r = httpx.post(f"{base}/api/v1/portal/login", json={"phone": PHONE, "code": code}, timeout=60)
    assert r.status_code == 401 and r.json()["code"] == "code_invalid", r.text
    assert _audits(rt, "portal.login", target) == 0


def test_concurrent_portal_submissions_stop_at_the_daily_limit(server):
    base, rt = server
    assert httpx.post(f"{base}/api/v1/portal/code", json={"phone": PHONE2}).status_code == 200
    web = httpx.Client(base_url=base, timeout=60)
    r = web.post("/api/v1/portal/login", json={"phone": PHONE2, "code": _last_code(rt)})
    assert r.status_code == 200, r.text
    csrf = r.json()["csrf_token"]
    cookies = dict(web.cookies)
    n = SUBMISSIONS_PER_DAY + 5

    def submit(i: int) -> httpx.Response:
        return httpx.post(
            f"{base}/portal/new",
            data={
                "csrf_token": csrf,
                "phone": PHONE2,
                "category": "network",
                "description": f"家里的宽带第{i}次断网，已经三天无法上网，请尽快派人上门维修。",
            },
            cookies=cookies,
            timeout=60,
        )

    answers = _at_once(n, submit)
    codes = sorted(r.status_code for r in answers)
    assert codes == [200] * SUBMISSIONS_PER_DAY + [429] * 5, codes
    assert all("Retry-After" in r.headers for r in answers if r.status_code == 429)
    with rt.engine.connect() as conn:
        made = conn.execute(
            select(func.count()).where(t.complaints.c.channel == "web")
        ).scalar_one()
    assert made == SUBMISSIONS_PER_DAY
