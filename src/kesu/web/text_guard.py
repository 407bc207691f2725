"""TextGuard: one check at the edge that no request carries a control character.

The policy is kesu.problems.has_control_characters (tab, line feed and carriage return
are allowed; NUL, the other C0/C1 controls and lone surrogates are not). It looks at the
decoded path, the query parameters and, for JSON and urlencoded form bodies, every string
in the body (keys included). A refused request gets 422 `control_character`: as
problem+json for the API, as the error page (or the htmx flash) for the pages. Multipart
forms are the pages' (Page.form checks their fields); a file name is cleaned, not refused.

Without it, PostgreSQL answers a NUL with a DataError (a 500); SQLite stores it.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qsl

from starlette.requests import Request

from kesu.problems import Problem, control_characters, has_control_characters
from kesu.web.http import problem_response
from kesu.web.pages import error_page

API_PREFIX = "/api/"


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield key
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)


def _pairs_refused(raw: bytes) -> str | None:
    """The first field name of urlencoded pairs whose name or value is refused."""
    for name, value in parse_qsl(raw.decode("utf-8", "replace"), keep_blank_values=True):
        if has_control_characters(name) or has_control_characters(value):
            return name if not has_control_characters(name) else "参数名"
    return None


def _json_refused(raw: bytes) -> bool:
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        return False  # not JSON text: the route answers invalid_json
    if has_control_characters(text):
        return True
    if "\\u" not in text:  # no escapes: what was checked is what will be parsed
        return False
    try:
        parsed = json.loads(text)
    except ValueError:
        return False
    return any(has_control_characters(s) for s in _strings(parsed))


def _media_type(scope) -> str:
    for name, value in scope.get("headers", []):
        if name == b"content-type":
            return value.decode("latin-1").split(";")[0].strip().lower()
    return ""


class TextGuard:
    """ASGI middleware applying the control-character policy to every request."""

    def __init__(self, app) -> None:
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        field = None
        if has_control_characters(scope.get("path", "")):
            field = "路径"
        else:
            field = _pairs_refused(scope.get("query_string", b""))
        if field is not None:
            return await self._refuse(scope, receive, send, field)
        media = _media_type(scope)
        is_json = media == "application/json" or media.endswith("+json")
        if not (is_json or media == "application/x-www-form-urlencoded"):
            return await self.app(scope, receive, send)
        messages, body = [], b""
        while True:  # the body is small: the size limit outside has bounded it
            message = await receive()
            messages.append(message)
            if message["type"] != "http.request":
                break
            body += message.get("body", b"")
            if not message.get("more_body", False):
                break
        field = ("请求体" if _json_refused(body) else None) if is_json else _pairs_refused(body)
        if field is not None:
            return await self._refuse(scope, receive, send, field)

        async def replay():
            return messages.pop(0) if messages else await receive()

        await self.app(scope, replay, send)

    async def _refuse(self, scope, receive, send, field: str) -> None:
        problem: Problem = control_characters(field)
        request = Request(scope, receive)
        if scope.get("path", "").startswith(API_PREFIX) or "app" not in scope:
            response = problem_response(problem, request)
        else:
            response = error_page(request, problem.status, problem.code, problem.detail)
        await response(scope, receive, send)
