"""RFC 9457 problem details: one exception type the slices raise, rendered by app.py."""

from __future__ import annotations

from typing import Any


class Problem(Exception):
    """An error the user can act on: stable `code`, HTTP status, Chinese `detail`."""

    def __init__(
        self,
        status: int,
        code: str,
        title: str,
        detail: str,
        headers: dict[str, str] | None = None,
        **extra: Any,
    ) -> None:
        super().__init__(f"{code}: {detail}")
        self.status = status
        self.code = code
        self.title = title
        self.detail = detail
        self.headers = dict(headers or {})
        self.extra = extra

    def body(self, instance: str | None = None) -> dict[str, Any]:
        body: dict[str, Any] = {
            "type": f"https://kesu.dev/problems/{self.code}",
            "title": self.title,
            "status": self.status,
            "code": self.code,
            "detail": self.detail,
        }
        if instance:
            body["instance"] = instance
        body.update(self.extra)
        return body


def not_found(what: str, key: str) -> Problem:
    return Problem(404, "not_found", "Not found", f"{what}“{key}”不存在。")
