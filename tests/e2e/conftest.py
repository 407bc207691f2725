"""Browser tests: a real kesu server on a free port, driven by Debian's chromium.

Playwright for Python drives /usr/bin/chromium (no browser download). Where the
browser is missing, the tests are skipped with the reason, unless
KESU_E2E_REQUIRED=1 (set by `.ci/run`, which installs chromium), where they fail.
The server runs the real application on its own SQLite file with the demo data,
on the real clock; screenshots of the main pages go to docs/screenshots/.
"""

from __future__ import annotations

import os
import shutil
import socket
import threading
import time
from pathlib import Path

import pytest

CHROMIUM = os.environ.get("KESU_CHROMIUM", "/usr/bin/chromium")
REQUIRED = os.environ.get("KESU_E2E_REQUIRED") == "1"
SHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
VIEWPORT = {"width": 1366, "height": 768}
PHONE = {"width": 390, "height": 844}
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def _missing() -> str | None:
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "playwright is not installed (pip install -e '.[test]')"
    if not (Path(CHROMIUM).exists() or shutil.which(CHROMIUM)):
        return f"no chromium at {CHROMIUM} (apt-get install chromium fonts-noto-cjk)"
    return None


def pytest_collection_modifyitems(config, items):
    reason = _missing()
    if reason is None or REQUIRED:  # required: let them run and fail with the cause
        return
    for item in items:
        if "tests/e2e" in str(item.fspath).replace("\\", "/"):
            item.add_marker(pytest.mark.skip(reason=reason))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    def __init__(self, base: str, rt) -> None:
        self.base = base
        self.rt = rt


@pytest.fixture(scope="session")
def server(tmp_path_factory):
    import uvicorn

    from kesu.accounts import bootstrap, users
    from kesu.app import create_app
    from kesu.demo import replay
    from kesu.runtime import Runtime
    from kesu.settings import Settings

    home = tmp_path_factory.mktemp("e2e")
    settings = Settings(
        database_url=f"sqlite:///{home / 'kesu.sqlite'}",
        embedded_worker=False,
        cookie_secure=False,
        demo=True,
    )
    rt = Runtime.start(settings)
    bootstrap.demo_users(rt)
    users.create_user(
        rt, "kesu-e2e", "reseller-b", "reseller", "kesu-e2e-reseller-b", org="示例代理商乙"
    )
    replay.load(rt, count=200, seed=2026)
    # Load the classifier and the similar-complaints index before the browser comes.
    from kesu.accounts.roles import system
    from kesu.triage import service as triage

    triage.triage(rt, "宽带断网三天没人修", actor=system("e2e"))
    port = _free_port()
    config = uvicorn.Config(
        create_app(rt, watcher=False), host="127.0.0.1", port=port, log_level="warning"
    )
    srv = uvicorn.Server(config)
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not srv.started:
        if time.monotonic() > deadline:
            raise RuntimeError("kesu did not start for the browser tests")
        time.sleep(0.05)
    yield Server(f"http://127.0.0.1:{port}", rt)
    srv.should_exit = True
    thread.join(timeout=10)
    rt.close()


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if report.when == "call":
        item.kesu_failed = report.failed


FAILURES = Path(os.environ.get("KESU_E2E_FAILURES", "/tmp/kesu-e2e-failures"))


@pytest.fixture
def new_page(request, browser, server):
    """new_page(user=None, phone=False) → a page, signed in as `user` when given.

    When the test fails, every page it opened is saved as a screenshot under
    $KESU_E2E_FAILURES (default /tmp/kesu-e2e-failures) to see what the browser saw.
    """
    contexts = []

    def make(user: str | None = None, password: str | None = None, phone: bool = False):
        ctx = browser.new_context(
            viewport=PHONE if phone else VIEWPORT,
            locale="zh-CN",
            timezone_id="Asia/Shanghai",
            base_url=server.base,
        )
        ctx.set_default_timeout(15_000)
        contexts.append(ctx)
        page = ctx.new_page()
        if user:
            sign_in(page, user, password or f"kesu-{user}")
        return page

    yield make
    if getattr(request.node, "kesu_failed", False):
        FAILURES.mkdir(parents=True, exist_ok=True)
        for i, ctx in enumerate(contexts):
            for j, pg in enumerate(ctx.pages):
                pg.screenshot(path=str(FAILURES / f"{request.node.name}-{i}-{j}.png"))
    for ctx in contexts:
        ctx.close()


def sign_in(page, user: str, password: str) -> None:
    page.goto("/login")
    page.fill("input[name=username]", user)
    page.fill("input[name=password]", password)
    page.click("button[type=submit]")
    page.wait_for_load_state("networkidle")
    assert "/login" not in page.url, f"{user} could not sign in"


def shot(page, name: str) -> None:
    """A screenshot for docs/screenshots (linked from the README)."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.wait_for_load_state("networkidle")
    page.screenshot(path=str(SHOTS / f"{name}.png"))
