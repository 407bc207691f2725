"""The appeal centre's demo (KESU_MODE=centre or both): operators with user bases, appeals
over the last two quarters in every state, the centre's demo users signed in; an
operator's demo has no appeals."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections import Counter
from datetime import timedelta

import httpx
from sqlalchemy import func, select

from kesu.appeals import reports, service
from kesu.cli_run import demo_data
from kesu.demo import appeals
from kesu.store import tables as t
from tests.conftest import bearer


def _count(rt, table) -> int:
    with rt.engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(table)).scalar_one())


def test_the_centre_demo_has_appeals_in_every_state_through_the_service(rt, client, tokens):
    demo_data(rt, "centre")
    assert _count(rt, t.complaints) == 0  # the operator's side is not loaded
    items = service.listing(rt, "test", "all", limit=100)["items"]
    assert len(items) == appeals.count() >= 20
    states = Counter(i["status"] for i in items)
    for status in ("awaiting_materials", "reviewing", "accepted", "referred", "answered",
                   "mediating", "agreed", "concluded", "not_accepted", "redirected"):  # fmt: skip
        assert states[status] > 0, status
    outcomes = Counter(i["outcome"] for i in items)
    assert outcomes["agreement"] and outcomes["mediation_ended"] and outcomes["withdrawn"]
    with rt.engine.connect() as conn:
        reasons = set(conn.execute(select(t.appeals.c.decision_reason)).scalars())
        missing = conn.execute(select(func.count()).where(t.appeals.c.appellant_postcode.is_(None)))
        assert missing.scalar_one() >= 2  # materials missing on some
    assert {"11-1", "11-4"} <= reasons  # not accepted, each with its article's item
    # Both quarters have figures, and the operators' user bases give the per-million rate.
    today = reports.today(rt)
    this = reports.quarter_of(today)
    last = reports.quarter_of(this[0] - timedelta(days=1))
    for start, end in (this, last):
        f = reports.figures(rt, "test", start, end)
        assert f["totals"]["received"] > 0 and f["totals"]["per_million"] is not None
    # The histories are the service's own: the centre's staff acted, the appellant was told.
    mediated = next(i for i in items if i["outcome"] == "agreement")
    view = client.get(
        f"/api/v1/appeals/{mediated['number']}", headers=bearer(tokens("appeal_officer"))
    ).json()
    kinds = [e["type"] for e in view["history"]]
    assert kinds[0] == "received" and "mediation_session" in kinds and "agreement" in kinds
    # Loading again adds nothing.
    demo_data(rt, "centre")
    assert len(service.listing(rt, "test", "all", limit=100)["items"]) == len(items)


def test_the_operator_demo_has_no_appeals(rt):
    demo_data(rt, "operator", count=20)
    assert _count(rt, t.complaints) == 20
    assert _count(rt, t.appeals) == 0 and _count(rt, t.appeal_operators) == 0


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_serve_demo_as_a_centre_over_real_http(tmp_path):
    """The README's centre command: KESU_MODE=centre kesu serve --demo."""
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("KESU_")}
    env.update(KESU_HOME=str(tmp_path / "home"), KESU_MODE="centre")
    proc = subprocess.Popen(
        [sys.executable, "-m", "kesu.cli", "serve", "--demo", "--port", str(port)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 240  # the law index is built on first start
        while True:
            try:
                if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert proc.poll() is None, proc.stdout.read()
            assert time.monotonic() < deadline, "server did not start"
            time.sleep(0.3)
        for who in ("demo-appeal_officer", "demo-appeal_supervisor"):
            web = httpx.Client(base_url=base)
            login = web.post(
                "/api/v1/auth/login", json={"username": who, "password": f"kesu-{who}"}
            )
            assert login.status_code == 200, login.text
            queue = web.get("/api/v1/appeals", params={"queue": "all"}).json()
            assert queue["total"] >= 20
            assert web.get("/api/v1/complaints").status_code == 403
            assert web.get("/").headers["location"].startswith("/appeals")
        figures = web.get("/api/v1/reports/appeals").json()
        assert figures["totals"]["received"] > 0
        login_page = httpx.get(f"{base}/login").text
        assert "demo-appeal_officer" in login_page and "demo-agent" not in login_page
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            out, _ = proc.communicate(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            out, _ = proc.communicate()
    assert "申诉中心演示数据已载入" in out and "demo-appeal_officer" in out
    assert "demo-agent" not in out and "已有投诉数据" not in out
