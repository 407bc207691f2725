"""The OpenAPI document tells the truth: schemathesis against a real server.

A real `kesu serve --workers 2` on a free port (SQLite, and PostgreSQL when
KESU_TEST_DATABASE_URL is set), authenticated with a supervisor's bearer token, with one
complaint registered so path parameters can name a real one. Schemathesis runs every
operation through its examples, coverage and fuzzing phases with the checks the issue
names; any failure fails the test with schemathesis's report (and a curl line to replay).

The example count keeps the whole run to well under a minute per database on two cores.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

CHECKS = (
    "not_a_server_error,status_code_conformance,content_type_conformance,"
    "response_schema_conformance,positive_data_acceptance"
)
MAX_EXAMPLES = 10
ROOT = Path(__file__).resolve().parents[2]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _kesu(env: dict[str, str], *args: str) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "kesu.cli", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


@pytest.fixture
def server(database_url, tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("KESU_TEST")}
    env.update(
        KESU_HOME=str(tmp_path / "home"),
        KESU_DATABASE_URL=database_url,
        KESU_COOKIE_SECURE="0",
    )
    _kesu(env, "user", "add", "contract-sup", "--role", "supervisor", "--password", "x" * 12)
    out = _kesu(env, "token", "create", "contract-sup", "--name", "schemathesis")
    token_id = int(re.search(r"#(\d+)", out).group(1))  # type: ignore[union-attr]
    token = re.search(r"(kesu_\S+)", out).group(1)  # type: ignore[union-attr]
    port = _free_port()
    log = open(tmp_path / "server.log", "w")  # noqa: SIM115 (closed in finally)
    proc = subprocess.Popen(
        [sys.executable, "-m", "kesu.cli", "serve", "--host", "127.0.0.1", "--port", str(port)]
        + ["--workers", "2", "--no-worker"],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
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
            assert proc.poll() is None, (tmp_path / "server.log").read_text()
            assert time.monotonic() < deadline, "server did not start"
            time.sleep(0.3)
        # The first registration loads the triage model: slow on a busy machine.
        created = httpx.post(
            f"{base}/api/v1/complaints",
            timeout=60,
            headers={"Authorization": f"Bearer {token}"},
            json={
                "channel": "hotline",
                "customer": {"phone": "13800001234"},
                "description": "用户来电反映家中宽带每晚断线。",
            },
        )
        assert created.status_code == 201, created.text
        yield base, token, token_id, env
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()


def _schemathesis(base: str, token: str, token_id: int, env: dict, *args: str) -> str:
    st = shutil.which("schemathesis") or str(Path(sys.executable).parent / "schemathesis")
    run_env = dict(
        env,
        SCHEMATHESIS_HOOKS="tests.web.schemathesis_hooks",
        KESU_CONTRACT_TOKEN_ID=str(token_id),
        PYTHONPATH=str(ROOT),
    )
    done = subprocess.run(
        [st, "run", f"{base}/openapi.json"]
        + ["-H", f"Authorization: Bearer {token}", "-c", CHECKS]
        + ["-n", str(MAX_EXAMPLES), "--phases", "examples,coverage,fuzzing"]
        # One generating thread: Hypothesis parses lambda sources with `ast`, and two threads
        # doing so at once trip CPython 3.11's "AST constructor recursion depth mismatch".
        + ["--seed", "13", "--no-color", "--workers", "1", *args],
        env=run_env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )
    report = done.stdout + done.stderr
    assert done.returncode == 0, report
    assert re.search(r"\d+ passed", report), report
    return report


def _refused(report: str) -> set[str]:
    """The operations schemathesis saw answer only 401/403 (its 'Authentication failed')."""
    if "Authentication failed" not in report:
        return set()
    part = report.split("Authentication failed", 1)[1].split("💡", 1)[0]
    return set(re.findall(r"- ((?:GET|POST|PUT|PATCH|DELETE) \S+)", part))


def test_every_operation_conforms_to_the_document(server):
    base, token, token_id, env = server
    report = _schemathesis(base, token, token_id, env)
    # A supervisor may call every operation but the administrator's and the customer's.
    admin_only = {
        "GET /api/v1/users",
        "POST /api/v1/law/reindex",
        "POST /api/v1/retention/run",
        "PUT /api/v1/calendar/years/{year}",
        "POST /api/v1/sla-policies",
        "PUT /api/v1/sla-policies/{policy_id}",
        "DELETE /api/v1/sla-policies/{policy_id}",
        "GET /api/v1/outbox",
        "GET /api/v1/outbox/{message_id}",
        "POST /api/v1/outbox/{message_id}/resend",
        "GET /api/v1/webhooks",
        "POST /api/v1/webhooks",
        "GET /api/v1/webhooks/{webhook_id}",
        "PATCH /api/v1/webhooks/{webhook_id}",
        "DELETE /api/v1/webhooks/{webhook_id}",
        "POST /api/v1/webhooks/{webhook_id}/test",
        "GET /api/v1/webhooks/{webhook_id}/deliveries",
        "GET /api/v1/notification-templates",
        "GET /api/v1/notification-templates/{key}",
        "PUT /api/v1/notification-templates/{key}",
        "GET /api/v1/channel-sources",
        "POST /api/v1/channel-sources",
        "GET /api/v1/channel-sources/{source}",
        "PATCH /api/v1/channel-sources/{source}",
        "DELETE /api/v1/channel-sources/{source}",
    }
    # The appeal centre's side: its own roles only (tried below as its supervisor).
    centre_only = {
        "POST /api/v1/appeals",
        "GET /api/v1/appeals",
        "GET /api/v1/appeals/{number}",
        "GET /api/v1/appeals/{number}/referral-letter",
        "POST /api/v1/appeals/{number}/transitions",
        "POST /api/v1/appeals/{number}/operator-record",
        "GET /api/v1/appeal-operators",
        "PUT /api/v1/appeal-operators/{code}",
        "GET /api/v1/reports/appeals",
        "GET /api/v1/reports/appeals.xlsx",
    }
    # Signed by a message source, not by a token: schemathesis cannot sign, so only 401.
    signed = {"POST /api/v1/channels/{source}/messages", "POST /api/v1/appeals/operator-answers"}
    expected = admin_only | centre_only | signed | {"GET /api/v1/portal/complaints"}
    assert _refused(report) <= expected, report

    _kesu(
        env, "user", "add", "contract-centre", "--role", "appeal_supervisor", "--password", "z" * 12
    )
    out = _kesu(env, "token", "create", "contract-centre", "--name", "schemathesis")
    centre_id = int(re.search(r"#(\d+)", out).group(1))  # type: ignore[union-attr]
    centre = re.search(r"(kesu_\S+)", out).group(1)  # type: ignore[union-attr]
    report = _schemathesis(
        base,
        centre,
        centre_id,
        env,
        "--include-path-regex",
        "^/api/v1/(appeals(?!/operator-answers)|appeal-operators|reports/appeals)",
    )
    assert not _refused(report), report

    _kesu(env, "user", "add", "contract-admin", "--role", "admin", "--password", "y" * 12)
    out = _kesu(env, "token", "create", "contract-admin", "--name", "schemathesis")
    admin_id = int(re.search(r"#(\d+)", out).group(1))  # type: ignore[union-attr]
    admin = re.search(r"(kesu_\S+)", out).group(1)  # type: ignore[union-attr]
    report = _schemathesis(
        base,
        admin,
        admin_id,
        env,
        "--include-path-regex",
        "^/api/v1/(users|law/reindex|retention/run|calendar/years/|sla-policies|outbox|webhooks|notification-templates"
        "|channel-sources)",
    )
    assert not _refused(report), report
