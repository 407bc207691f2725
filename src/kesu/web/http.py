"""What every slice's HTTP routes share: the runtime of a request, FastJSON, problem+json
responses, and the mapping of validation and database errors to Problems (in Chinese).

Imported by the API routes of every slice and by the pages; it imports no page module
(kesu/web/__init__.py stays empty), so importing it never pulls the pages in.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from kesu.problems import Problem
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


_BUILTIN: dict[str, tuple[str, str]] = {
    "missing": ("missing_field", "缺少必填字段“{field}”。"),
    "string_too_long": ("text_too_long", "“{field}”过长，最多 {max_length} 个字符。"),
    "string_too_short": ("text_empty", "“{field}”不能为空。"),
    "too_long": ("too_many_items", "“{field}”的项目过多，最多 {max_length} 项。"),
    "json_invalid": ("invalid_json", "请求体不是合法的 JSON：{error}"),
    "datetime_parsing": ("invalid_datetime", "“{field}”不是合法的时间，应为 ISO 8601 格式。"),
    "datetime_from_date_parsing": (
        "invalid_datetime",
        "“{field}”不是合法的时间，应为 ISO 8601 格式。",
    ),
    "datetime_type": ("invalid_datetime", "“{field}”不是合法的时间，应为 ISO 8601 格式。"),
    "date_from_datetime_parsing": ("invalid_date", "“{field}”不是合法的日期，应为 YYYY-MM-DD。"),
    "date_parsing": ("invalid_date", "“{field}”不是合法的日期，应为 YYYY-MM-DD。"),
    "extra_forbidden": ("unknown_field", "不认识的字段“{field}”。"),
    "literal_error": ("invalid_value", "“{field}”的取值无效，可选：{expected}。"),
    "greater_than_equal": ("out_of_range", "“{field}”不能小于 {ge}。"),
    "less_than_equal": ("out_of_range", "“{field}”不能大于 {le}。"),
    "greater_than": ("out_of_range", "“{field}”必须大于 {gt}。"),
    "less_than": ("out_of_range", "“{field}”必须小于 {lt}。"),
}


def _field(loc: tuple[Any, ...]) -> str:
    parts = [str(p) for p in loc if p not in ("body", "query", "path", "header")]
    return ".".join(parts) or "请求体"


def field_error(error: dict[str, Any]) -> dict[str, str]:
    """One validation error (as Pydantic reports it) → {field, code, detail in Chinese}."""
    etype = error.get("type", "")
    field = "请求体" if etype == "json_invalid" else _field(tuple(error.get("loc", ())))
    ctx = {k: v for k, v in (error.get("ctx") or {}).items()}
    if etype in _BUILTIN:
        code, template = _BUILTIN[etype]
        try:
            detail = template.format(field=field, **{k: str(v) for k, v in ctx.items()})
        except (KeyError, IndexError):
            detail = template.split("{")[0] + field
    elif (
        etype.endswith("_type")
        or etype.endswith("_parsing")
        or etype
        in (
            "model_attributes_type",
            "dict_type",
            "list_type",
            "finite_number",
        )
    ):
        code, detail = "invalid_type", f"“{field}”的类型不对。"
    elif any(ord(ch) > 127 for ch in str(error.get("msg", ""))):
        # Our own PydanticCustomError: its type is the code, its message Chinese.
        code, detail = etype, str(error["msg"])
    else:
        code, detail = "invalid_value", f"“{field}”的取值无效。"
    return {"field": field, "code": code, "detail": detail}


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
