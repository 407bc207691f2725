"""The `kesu` command, as a newcomer runs it."""

import os
import signal
import socket
import subprocess
import sys
import time

import httpx
import pytest
from typer.testing import CliRunner

from kesu.cli import app

runner = CliRunner()


@pytest.fixture
def env(database_url, monkeypatch):
    monkeypatch.setenv("KESU_DATABASE_URL", database_url)
    return database_url


def test_calendar_workdays_and_rules(env):
    r = runner.invoke(app, ["calendar", "workdays", "2026-09-30", "5"])
    assert r.exit_code == 0 and "2026-10-13" in r.output
    r = runner.invoke(app, ["rules"])
    assert r.exit_code == 0 and "电信条例" in r.output and "repair_rural_72h" in r.output
    r = runner.invoke(app, ["calendar", "show", "2026"])
    assert r.exit_code == 0 and "调休上班" in r.output and "2026-10-10" in r.output


def test_calendar_load_file(env, tmp_path):
    f = tmp_path / "2027.yaml"
    f.write_text(
        "year: 2027\nofficial: true\nsource: 测试\n"
        "holidays:\n  - {date: 2027-01-01, name: 元旦}\n"
        "workdays:\n  - {date: 2027-02-06, name: 春节调休上班}\n",
        encoding="utf-8",
    )
    r = runner.invoke(app, ["calendar", "load", str(f)])
    assert r.exit_code == 0, r.output
    assert "已载入 2027 年日历" in r.output
    r = runner.invoke(app, ["calendar", "workdays", "2027-02-05", "1"])
    assert "2027-02-06" in r.output and "推定" not in r.output
    bad = tmp_path / "bad.yaml"
    bad.write_text("year: 2027\nholidays: {2028-01-01: x}\n", encoding="utf-8")
    r = runner.invoke(app, ["calendar", "load", str(bad)])
    assert r.exit_code == 2 and "不属于 2027 年" in r.output


def test_worker_once_and_demo_refuses_to_load_twice(env):
    r = runner.invoke(app, ["demo", "--count", "30"])
    assert r.exit_code == 0, r.output
    assert "演示数据已载入：30 件投诉" in r.output
    r = runner.invoke(app, ["demo", "--count", "30"])
    assert r.exit_code == 1 and "已有投诉" in r.output
    r = runner.invoke(app, ["worker", "--once"])
    assert r.exit_code == 0 and "本轮标记超期时限" in r.output


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_serve_demo_over_real_http(tmp_path):
    """The README's first command: a new database, migrated, with demo data, over HTTP."""
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("KESU_")}
    env["KESU_HOME"] = str(tmp_path / "home")
    proc = subprocess.Popen(
        [sys.executable, "-m", "kesu.cli", "serve", "--demo", "--port", str(port)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert proc.poll() is None, proc.stdout.read()
            assert time.monotonic() < deadline, "server did not start"
            time.sleep(0.3)
        assert httpx.get(f"{base}/api/v1/complaints").status_code == 401
        web = httpx.Client(base_url=base)
        login = web.post(
            "/api/v1/auth/login",
            json={"username": "demo-supervisor", "password": "kesu-demo-supervisor"},
        )
        assert login.status_code == 200, login.text
        page = web.get("/api/v1/complaints", params={"limit": 200}).json()
        assert len(page["items"]) == 200 and page["next_cursor"]
        assert "****" in page["items"][0]["customer"]["phone"]
        body = {
            "channel": "hotline",
            "customer": {"phone": "13800001234"},
            "description": "用户来电反映手机信号差。",
        }
        assert web.post("/api/v1/complaints", json=body).json()["code"] == "csrf_failed"
        r = web.post(
            "/api/v1/complaints", json=body, headers={"X-CSRF-Token": login.json()["csrf_token"]}
        )
        assert r.status_code == 201
        assert httpx.get(f"{base}/docs").status_code == 200
        assert (tmp_path / "home" / "kesu.db").exists()
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            out, _ = proc.communicate(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            out, _ = proc.communicate()
    assert "演示数据已载入" in out
    assert "一次性密码" in out and "demo-reseller" in out


def test_api_docs_use_vendored_assets(client):
    page = client.get("/docs").text
    assert "/static/vendor/swagger-ui/swagger-ui-bundle.js" in page
    assert "cdn" not in page.lower()
    for asset in ("swagger-ui-bundle.js", "swagger-ui.css"):
        r = client.get(f"/static/vendor/swagger-ui/{asset}")
        assert r.status_code == 200 and len(r.content) > 100_000
    assert client.get("/openapi.json").json()["info"]["title"] == "kesu 客诉 API"
