"""Two kesu servers, an appeal centre and an operator, each with its own SQLite database
and its own `kesu worker` delivering the outbox: an appeal is received, accepted and
referred at the centre; the referral arrives signed at the operator's POST
/api/v1/referrals (no token) and registers a complaint on the regulator channel; the
operator's staff handle it in their own workbench and answer; the answer comes back
signed to the centre, which records it, mediates, records the agreement and its
performance. Both sides' records agree (issue 17, items 3 and 9). At receipt the centre
asks the operator's kesu for the appellant's complaint record (item 2), which bears out
the date the appellant gave."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
from datetime import date, timedelta

import httpx
import pytest

from tests.conftest import complaint_body, wait_healthy

CENTRE_CODE = "gd-centre"
OPERATOR_CODE = "telecom"
SECRET = "shared-secret-between-centre-and-operator-2026"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Kesu:
    """One installation: its database, its `kesu serve` and its `kesu worker`."""

    def __init__(self, name: str, home, **extra: str) -> None:
        self.name, self.home = name, home
        self.port = _free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        env = {k: v for k, v in os.environ.items() if not k.startswith("KESU_")}
        env.update(
            KESU_HOME=str(home / "home"),
            KESU_DATABASE_URL=f"sqlite:///{home / 'kesu.db'}",
            KESU_DATA_KEY=os.environ["KESU_DATA_KEY"],
            KESU_HASH_KEY=os.environ["KESU_HASH_KEY"],
            KESU_COOKIE_SECURE="0",
            COLUMNS="200",  # the CLI's lines unwrapped (the secret it prints is read)
            # The outbox delivered fast, a failure retried soon (the other side may be
            # starting still).
            KESU_OUTBOX_POLL_SECONDS="0.2",
            KESU_OUTBOX_RETRY_SECONDS="0.5",
            KESU_OUTBOX_RETRY_CAP_SECONDS="1",
            KESU_OUTBOX_MAX_ATTEMPTS="200",
            **extra,
        )
        self.env = env
        self.procs: list[subprocess.Popen] = []
        self.logs: list = []

    def cli(self, *args: str) -> str:
        done = subprocess.run(
            [sys.executable, "-m", "kesu.cli", *args],
            env=self.env,
            capture_output=True,
            text=True,
            timeout=180,
        )
        assert done.returncode == 0, done.stdout + done.stderr
        return done.stdout

    def token(self, user: str, role: str) -> dict[str, str]:
        self.cli("user", "add", user, "--role", role, "--password", "p" * 14)
        out = self.cli("token", "create", user, "--name", "e2e")
        token = re.search(r"(kesu_\S+)", out).group(1)  # type: ignore[union-attr]
        return {"Authorization": f"Bearer {token}"}

    def start(self) -> None:
        log = open(self.home / "serve.log", "w+")  # noqa: SIM115 (closed in stop)
        serve = [sys.executable, "-m", "kesu.cli", "serve", "--host", "127.0.0.1"]
        serve += ["--port", str(self.port), "--no-worker", "--no-access-log"]
        proc = subprocess.Popen(serve, env=self.env, stdout=log, stderr=subprocess.STDOUT)
        self.procs.append(proc)
        self.logs.append(log)
        wait_healthy(self.base, proc, log)
        wlog = open(self.home / "worker.log", "w+")  # noqa: SIM115 (closed in stop)
        worker = [sys.executable, "-m", "kesu.cli", "worker", "--interval", "1"]
        self.procs.append(
            subprocess.Popen(worker, env=self.env, stdout=wlog, stderr=subprocess.STDOUT)
        )
        self.logs.append(wlog)

    def stop(self) -> None:
        for proc in self.procs:
            proc.terminate()
        for proc in self.procs:
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        for log in self.logs:
            log.close()

    def output(self) -> str:
        out = []
        for log in self.logs:
            log.seek(0)
            out.append(log.read()[-3000:])
        return "\n".join(out)


@pytest.fixture
def pair(tmp_path):
    (tmp_path / "centre").mkdir()
    (tmp_path / "operator").mkdir()
    centre = Kesu("centre", tmp_path / "centre", KESU_CENTRE_CODE=CENTRE_CODE)
    operator = Kesu("operator", tmp_path / "operator")
    try:
        yield centre, operator
    finally:
        centre.stop()
        operator.stop()


def _until(what: str, check, sides, seconds: float = 90):
    deadline = time.monotonic() + seconds
    while True:
        got = check()
        if got:
            return got
        if time.monotonic() > deadline:
            logs = "\n".join(f"--- {s.name}\n{s.output()}" for s in sides)
            pytest.fail(f"{what} did not happen in {seconds:g}s\n{logs}")
        time.sleep(0.3)


def test_an_appeal_referred_answered_mediated_and_concluded_across_two_kesu(pair):
    centre, operator = pair
    # Both sides configured before they start (each through its own admin tools).
    officer = centre.token("centre-sup", "appeal_supervisor")
    staff = operator.token("op-sup", "supervisor")
    out = operator.cli(
        "referrals",
        "source",
        CENTRE_CODE,
        "--name",
        "某省电信用户申诉受理中心",
        "--callback-url",
        f"{centre.base}/api/v1/appeals/operator-answers",
    )
    # The secret it made is shown once: the operator gives it to the centre.
    operator_secret = re.search(r"签名密钥[^：]*：(\S+)", out).group(1)  # type: ignore[union-attr]
    centre.start()
    operator.start()
    c = httpx.Client(base_url=centre.base, headers=officer, timeout=60)
    o = httpx.Client(base_url=operator.base, headers=staff, timeout=60)
    r = c.put(
        f"/api/v1/appeal-operators/{OPERATOR_CODE}",
        json={
            "name": "某电信公司某省分公司",
            "address": "某市某路1号",
            "referral_url": f"{operator.base}/api/v1/referrals",
            "secret": operator_secret,
        },
    )
    assert r.status_code == 200 and r.json()["connected"] is True, r.text

    # The appellant complained to the operator a month ago (its own record has it).
    today = date.today()
    first = (today - timedelta(days=30)).isoformat() + "T09:00:00+08:00"
    body = complaint_body(customer={"phone": "13800138000", "name": "张三"}, received_at=first)
    r = o.post("/api/v1/complaints", json=body)
    assert r.status_code == 201, r.text
    first_complaint = r.json()["number"]

    # The centre: received, accepted (the officer confirms what the data cannot show), referred.
    r = c.post(
        "/api/v1/appeals",
        json={
            "appellant": {
                "name": "张三",
                "phone": "13800138000",
                "address": "某市某区某街2号",
                "postcode": "100000",
            },
            "operator": OPERATOR_CODE,
            "request": "退还多收的流量费120元",
            "reasons": "未订购的流量包被扣费",
            "facts": "上月账单出现未订购的流量包，向客服投诉后答复不予退费。",
            "dispute": "fee",
            "occurred_at": (today - timedelta(days=40)).isoformat(),
            "complained_at": (today - timedelta(days=30)).isoformat(),
            "operator_answered_at": (today - timedelta(days=25)).isoformat(),
        },
    )
    assert r.status_code == 201, r.text
    number = r.json()["number"]

    # At receipt the centre asked the operator's kesu for the appellant's complaints
    # (signed, through its outbox): the record bears out the date the appellant gave.
    def record():
        got = c.get(f"/api/v1/appeals/{number}").json()
        return got if got["operator_record"] else None

    ten_four = next(
        x
        for x in _until("the operator's record", record, pair)["conditions"]
        if x["code"] == "10-4"
    )
    assert (
        ten_four["met"] is True
        and f"被申诉企业的记录相符：{first_complaint}" in (ten_four["evidence"])
    )

    def act(action: str, **params):
        r = c.post(
            f"/api/v1/appeals/{number}/transitions", json={"action": action, "params": params}
        )
        assert r.status_code == 200, r.text
        return r.json()

    confirm = {"direct_interest": True, "settled": False, "other_body": False, "other_law": False}
    assert act("accept", confirm=confirm)["status"] == "accepted"
    referred = act("refer")
    assert referred["status"] == "referred"
    due_on = referred["referral"]["operator_due_on"]

    # The operator: the referral arrives through the centre's outbox, signed, no token.
    def arrived():
        got = o.get(f"/api/v1/referrals/{number}")
        return got.json() if got.status_code == 200 else None

    referral = _until("the referral's arrival at the operator", arrived, pair)
    complaint = referral["complaint"]
    assert referral["source"] == CENTRE_CODE
    assert complaint["channel"] == "regulator" and "regulator" in complaint["risk_flags"]
    assert referral["reply_due_on"] == due_on
    received_at = c.get(f"/api/v1/appeals/{number}").json()["received_at"]
    assert referral["appeal_received_on"] == received_at[:10]
    assert "退还多收的流量费120元" in referral["issue"]
    cnum = complaint["number"]

    # Its staff handle it in their own workbench and answer the centre.
    for action in ("accept", "investigate"):
        r = o.post(f"/api/v1/complaints/{cnum}/transitions", json={"action": action})
        assert r.status_code == 200, r.text
    answer = {"handling": "已核实用户未订购该流量包，已退订。", "result": "已退还流量费120元。"}
    r = o.post(f"/api/v1/referrals/{number}/reply", json=answer)
    assert r.status_code == 200, r.text
    replied = r.json()["reply"]

    # The centre: the answer comes back through the operator's outbox, signed.
    def answered():
        a = c.get(f"/api/v1/appeals/{number}").json()
        return a if a["status"] == "answered" else None

    a = _until("the operator's answer at the centre", answered, pair)
    assert a["referral"]["operator_complaint"] == cnum
    said = a["referral"]["answer"]
    assert answer["handling"] in said and answer["result"] in said
    [event] = [e for e in a["history"] if e["type"] == "operator_answered"]
    assert event["actor"] == f"operator:{OPERATOR_CODE}"

    # The centre mediates, records the agreement and its performance.
    act("mediate", held_on=today.isoformat(), participants="申诉人、企业代表", notes="双方同意退费")
    act("agree", terms="企业退还120元", perform_by=(today + timedelta(days=7)).isoformat())
    done = act("perform", note="企业已退还120元，申诉人确认。")
    assert done["status"] == "concluded" and done["outcome"] == "agreement"

    # Both sides agree: the reference, the dates, the answer, the complaint number.
    theirs = o.get(f"/api/v1/referrals/{number}").json()
    assert theirs["ref"] == number and theirs["complaint_number"] == cnum
    assert theirs["reply"]["handling"] == answer["handling"]
    assert theirs["reply"]["result"] == answer["result"]
    assert theirs["reply_due_on"] == done["referral"]["operator_due_on"]
    assert theirs["appeal_received_on"] == done["received_at"][:10]
    assert done["referral"]["operator_complaint"] == cnum
    assert replied["replied_at"][:10] == done["referral"]["answered_at"][:10]
    assert event["data"]["replied_at"] == replied["replied_at"]
    history = o.get(f"/api/v1/complaints/{cnum}").json()
    assert history["number"] == cnum
    types = [e["type"] for e in done["history"]]
    assert types == [
        "received",
        "operator_record",
        "accepted",
        "referred",
        "operator_answered",
        "mediation_session",
        "agreement",
        "agreement_performed",
    ]
