"""create_app(): wires the slices into one FastAPI application."""

from __future__ import annotations

import logging
import threading
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.staticfiles import StaticFiles
from sqlalchemy.exc import DBAPIError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match

from kesu import __version__
from kesu.accounts.routes import router as accounts_router
from kesu.accounts.team_routes import router as teams_router
from kesu.appeals.report_routes import router as appeal_reports_router
from kesu.appeals.routes import router as appeals_router
from kesu.channels.mail_routes import router as mail_router
from kesu.channels.notice_routes import router as notices_router
from kesu.channels.outbox_routes import router as outbox_router
from kesu.channels.referral_routes import router as referrals_router
from kesu.channels.routes import router as intake_router
from kesu.channels.source_routes import router as sources_router
from kesu.channels.source_routes import signed_router as messages_in_router
from kesu.channels.webhook_routes import router as webhooks_router
from kesu.complaints.attachment_routes import UPLOAD_BODY_MAX
from kesu.complaints.attachment_routes import router as attachments_router
from kesu.complaints.bulk_routes import router as bulk_router
from kesu.complaints.routes import router as complaints_router
from kesu.corrective.routes import router as corrective_router
from kesu.deadlines import watcher as deadline_watcher
from kesu.deadlines.routes import router as deadlines_router
from kesu.incidents.routes import router as incidents_router
from kesu.law.routes import router as law_router
from kesu.problems import Problem
from kesu.quality.routes import router as quality_router
from kesu.reports.routes import router as reports_router
from kesu.runtime import Runtime
from kesu.triage.routes import router as triage_router
from kesu.web.admin_import import IMPORT_BODY_MAX
from kesu.web.http import database_problem, problem_response, validation_problem
from kesu.web.openapi import document
from kesu.web.text_guard import TextGuard

log = logging.getLogger("kesu")
STATIC_DIR = Path(__file__).parent / "web" / "static"

_HTTP_CODES = {
    404: ("not_found", "请求的地址不存在。"),
    405: ("method_not_allowed", "该地址不支持此请求方法。"),
    413: ("body_too_large", "请求体过大。"),
}


class BodyLimit:
    """ASGI middleware: refuse request bodies above a size, before reading them all.

    Uploads (POST to a path ending in /attachments, API or pages) may send up to
    `large_paths_max` bytes; every other request `max_bytes`.
    """

    def __init__(self, app, max_bytes: int, large_paths_max: int | None = None) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.large_paths_max = max(max_bytes, large_paths_max or 0)

    def _limit(self, scope) -> int:
        path = scope.get("path", "").rstrip("/")
        # The portal's complaint form carries one evidence file with it.
        if scope.get("method") == "POST" and (
            path.endswith("/attachments") or path == "/portal/new"
        ):
            return self.large_paths_max
        if scope.get("method") == "POST" and path == "/admin/import":  # a work-order file
            return max(self.max_bytes, IMPORT_BODY_MAX)
        return self.max_bytes

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        limit = self._limit(scope)
        for name, value in scope.get("headers", []):
            if name == b"content-length" and value.isdigit() and int(value) > limit:
                return await self._refuse(scope, send, limit)
        # A body without Content-Length (chunked) is counted as it arrives. Past the limit
        # the 413 is sent here and the application is told the client left: whatever it
        # makes of that (FastAPI: a 400) is not sent.
        seen = 0
        refused = started = False

        async def limited():
            nonlocal seen, refused
            if refused:
                return {"type": "http.disconnect"}
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit:
                    refused = True
                    if not started:
                        await self._refuse(scope, send, limit)
                    return {"type": "http.disconnect"}
            return message

        async def guarded(message):
            nonlocal started
            if refused:
                return
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, limited, guarded)
        except Exception:
            if not refused:
                raise

    async def _refuse(self, scope, send, limit: int):
        problem = Problem(
            413,
            "body_too_large",
            "Body too large",
            f"请求体过大，最多 {limit // 1000} KB。",
        )
        response = problem_response(problem)
        await response(scope, None, send)


def _allowed(request: Request) -> str:
    """Every method some route serves at this path (Starlette names only the first route's)."""
    routes = request.app.router.routes
    allowed = [
        method
        for method in ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE")
        if any(r.matches({**request.scope, "method": method})[0] == Match.FULL for r in routes)
    ]
    return ", ".join(allowed)


def _housekeeping(rt: Runtime) -> None:
    """Retention and the supervisors' digests once a day (the outbox has its own thread:
    channels.delivery.run)."""
    from kesu.channels import digest
    from kesu.complaints import retention
    from kesu.corrective import overdue

    digest.send_due(rt)
    overdue.tell_overdue(rt)  # corrective actions past their due date: the owner told
    done = retention.run_daily(rt)
    if done and done["anonymised"]:
        log.info("retention: %s complaints anonymised", done["anonymised"])


def _warm_dashboard(rt: Runtime) -> None:
    from kesu.web import dashboard

    try:
        dashboard.warm(rt)
    except Exception:  # the first visit computes it
        log.exception("computing the dashboard figures failed")


def _warm_triage(rt: Runtime) -> None:
    from kesu.triage import model, similar

    try:
        clf = model.shipped()
        clf.predict(["宽带断网，要求尽快修复"])  # the first prediction loads what it needs
        similar.index_for(rt, clf).refresh(rt)
    except model.ModelMissing:
        pass
    except Exception:  # the first triage request will try again
        log.exception("building the similar-complaints index failed")


def page_routers() -> list:
    from kesu.web import (
        admin_appeal_operators,
        admin_audit,
        admin_calendar,
        admin_import,
        admin_outbox,
        admin_overview,
        admin_sla,
        admin_sources,
        admin_teams,
        admin_templates,
        admin_users,
        admin_webhooks,
        appeal_page,
        appeal_statistics,
        appeals_pages,
        auth,
        cases_pages,
        complaint_page,
        corrective_pages,
        dashboard,
        duplicates_page,
        incidents_pages,
        intake_form,
        mail_held_page,
        notices_page,
        people_page,
        portal,
        portal_appeal,
        portal_survey,
        quality_pages,
        queue_bulk,
        referrals_page,
        regulator_report,
        split_page,
        workbench,
    )

    admin = [
        admin_overview,
        admin_users,
        admin_teams,
        admin_sla,
        admin_calendar,
        admin_outbox,
        admin_webhooks,
        admin_templates,
        admin_sources,
        admin_audit,
        admin_import,
        admin_appeal_operators,
    ]
    return [
        auth.router,
        workbench.router,
        queue_bulk.router,
        intake_form.router,
        complaint_page.router,
        split_page.router,
        duplicates_page.router,
        dashboard.router,
        regulator_report.router,
        quality_pages.router,  # /quality/reviews/new before /quality/reviews/{id}
        cases_pages.router,
        incidents_pages.router,
        people_page.router,
        corrective_pages.router,
        notices_page.router,
        referrals_page.router,
        mail_held_page.router,
        appeal_statistics.router,  # /appeals/statistics before /appeals/{number}
        appeals_pages.router,  # /appeals/new, /appeals/dashboard before /appeals/{number}
        appeal_page.router,
        *(m.router for m in admin),
        portal.router,
        portal_appeal.router,
        portal_survey.router,
    ]


def create_app(rt: Runtime | None = None, watcher: bool | None = None) -> FastAPI:
    from kesu.accounts import logs

    logs.install()
    runtime = rt or Runtime.start()
    run_watcher = runtime.settings.embedded_worker if watcher is None else watcher

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        stop = threading.Event()
        thread = sender = None
        # Build the similar-complaints index in the background, not on the first request.
        threading.Thread(
            target=_warm_triage, args=(runtime,), name="kesu-triage-warm", daemon=True
        ).start()
        if run_watcher:  # a serving process (not a test client): figures before the first visit
            threading.Thread(
                target=_warm_dashboard, args=(runtime,), name="kesu-dashboard-warm", daemon=True
            ).start()
        if run_watcher:
            thread = threading.Thread(
                target=deadline_watcher.run,
                args=(runtime, stop, (_housekeeping,)),
                name="kesu-watcher",
                daemon=True,
            )
            thread.start()
            from kesu.channels import delivery

            sender = threading.Thread(
                target=delivery.run, args=(runtime, stop), name="kesu-outbox", daemon=True
            )
            sender.start()
        yield
        stop.set()
        for running in (thread, sender):
            if running is not None:
                running.join(timeout=5)

    app = FastAPI(
        title="kesu 客诉 API",
        version=__version__,
        description="电信客户投诉处理系统 API：投诉登记、流转、法定时限与工作日日历。",
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
    )
    # Swagger UI from vendored assets: works on an isolated intranet.
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")

    @app.get("/docs", include_in_schema=False)
    async def docs():
        return get_swagger_ui_html(
            openapi_url="/openapi.json",
            title="kesu 客诉 API",
            swagger_js_url="/static/vendor/swagger-ui/swagger-ui-bundle.js",
            swagger_css_url="/static/vendor/swagger-ui/swagger-ui.css",
            swagger_favicon_url="/static/vendor/swagger-ui/favicon-32x32.png",
            swagger_ui_parameters={"validatorUrl": None},
        )

    app.state.runtime = runtime

    @app.exception_handler(Problem)
    async def _problem(request: Request, exc: Problem):
        return problem_response(exc, request)

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError):
        return problem_response(validation_problem(exc), request)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException):
        code, detail = _HTTP_CODES.get(exc.status_code, ("http_error", str(exc.detail)))
        headers = dict(exc.headers or {})
        if exc.status_code == 405:
            headers["Allow"] = _allowed(request)
        problem = Problem(exc.status_code, code, str(exc.detail), detail, headers=headers)
        return problem_response(problem, request)

    @app.exception_handler(DBAPIError)
    async def _database(request: Request, exc: DBAPIError):
        return problem_response(database_problem(exc, request.url.path), request)

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception):
        log.exception("unexpected error on %s", request.url.path)
        return problem_response(
            Problem(
                500, "internal_error", "Internal error", "服务器内部错误，已记录，请稍后重试。"
            ),
            request,
        )

    @app.get("/healthz", tags=["ops"], summary="健康检查 Health")
    async def healthz():
        return {"status": "ok", "version": __version__}

    app.include_router(accounts_router)
    app.include_router(teams_router)
    app.include_router(intake_router)
    app.include_router(bulk_router)  # before /complaints/{number}: export.csv is no number
    app.include_router(complaints_router)
    app.include_router(attachments_router)
    app.include_router(deadlines_router)
    app.include_router(triage_router)
    app.include_router(law_router)
    app.include_router(reports_router)
    app.include_router(outbox_router)
    app.include_router(notices_router)
    app.include_router(webhooks_router)
    app.include_router(referrals_router)
    app.include_router(appeals_router)
    app.include_router(incidents_router)
    app.include_router(appeal_reports_router)
    app.include_router(quality_router)
    app.include_router(corrective_router)
    app.include_router(sources_router)
    app.include_router(messages_in_router)
    app.include_router(mail_router)
    for pages in page_routers():
        app.include_router(pages)
    app.openapi = lambda: document(app)  # type: ignore[method-assign]
    app.add_middleware(TextGuard)  # inside BodyLimit: it reads only bodies within the limit
    app.add_middleware(
        BodyLimit, max_bytes=runtime.settings.max_body_bytes, large_paths_max=UPLOAD_BODY_MAX
    )
    return app
