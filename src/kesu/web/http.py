"""What every slice's HTTP routes share: the runtime of a request, FastJSON, problem+json
responses, and the mapping of validation and database errors to Problems (in Chinese).

Imported by the API routes of every slice and by the pages; it imports no page module
(kesu/web/__init__.py stays empty), so importing it never pulls the pages in.
"""

from __future__ import annotations

import json
import logging

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DataError

from kesu.problems import Problem, field_error
from kesu.runtime import Runtime

PROBLEM_JSON = "application/problem+json"
log = logging.getLogger("kesu")


def runtime(request: Request) -> Runtime:
    return request.app.state.runtime


class FastJSON(JSONResponse):
    """JSON for answers the service already built from plain JSON types.

    Returned directly, it skips FastAPI's generic encoder, which costs more than the
    query on a page of 50 complaints.
    """

    def render(self, content) -> bytes:
        return json.dumps(content, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def database_problem(exc: Exception, path: str) -> Problem:
    """A database failure as the user should hear it: busy, conflicting, or ours."""
    orig = getattr(exc, "orig", exc)
    state = getattr(orig, "sqlstate", None)
    if state in ("40001", "40P01"):
        return Problem(
            409,
            "concurrent_update",
            "Concurrent update",
            "该投诉单正被他人同时修改，请刷新后重试。",
        )
    if isinstance(exc, DataError):
        # The last line of defence behind TextGuard and the schemas: a value the database
        # will not take (PostgreSQL: a NUL, a number out of range) is the input's fault.
        log.warning("database refused a value on %s: %s", path, orig)
        return Problem(
            422,
            "invalid_value",
            "Invalid value",
            "输入的值无法保存（含不允许的字符或超出范围），请检查后重试。",
        )
    if "database is locked" in str(orig):
        return Problem(503, "database_busy", "Database busy", "数据库繁忙，请稍后重试。")
    log.exception("database error on %s", path)
    return Problem(500, "internal_error", "Internal error", "服务器内部错误，已记录，请稍后重试。")


def problem_response(problem: Problem, request: Request | None = None) -> JSONResponse:
    headers = dict(problem.headers)
    if problem.status == 429 and "retry_after" in problem.extra:
        headers["Retry-After"] = str(problem.extra["retry_after"])
    return JSONResponse(
        problem.body(str(request.url.path) if request else None),
        status_code=problem.status,
        media_type=PROBLEM_JSON,
        headers=headers or None,
    )


def validation_problem(exc: RequestValidationError) -> Problem:
    errors = [field_error(e) for e in exc.errors()]
    first = errors[0] if errors else {"code": "invalid_request", "detail": "请求无效。"}
    status = 400 if first["code"] == "invalid_json" else 422
    detail = (
        first["detail"]
        if len(errors) == 1
        else (first["detail"] + f"（另有 {len(errors) - 1} 处错误，见 errors）")
    )
    return Problem(status, first["code"], "Invalid request", detail, errors=errors)


def one_of_pattern(choices, *, csv: bool = False) -> str:
    """A JSON-schema pattern for one of `choices` (or a comma-separated list of them, or
    nothing): the document states the vocabulary the server checks in code."""
    one = "(" + "|".join(sorted(choices)) + ")"
    return f"^({one}(,{one})*)?$" if csv else f"^{one}$"


DATE_SCHEMA = {"format": "date", "pattern": r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$"}
DATETIME_SCHEMA = {"format": "date-time"}
