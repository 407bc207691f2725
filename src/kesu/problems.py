"""RFC 9457 problem details: one exception type the slices raise, rendered by app.py;
and `field_error`, the one mapping of a validation error to a stable code and a Chinese
sentence naming the field (for the API, the pages and every intake channel)."""

from __future__ import annotations

import re
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


# One policy for text in every input (JSON bodies, form fields, query and path
# parameters): control characters are refused, except tab, line feed and carriage return;
# so are lone surrogates (not Unicode text). PostgreSQL cannot store NUL at all, and the
# others have no place in a complaint, a name or a search.
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")


def has_control_characters(text: str) -> bool:
    return _CONTROL.search(text) is not None


def control_characters(field: str) -> Problem:
    """The 422 for text carrying a character the policy above refuses."""
    return Problem(
        422,
        "control_character",
        "Control character",
        f"“{field}”含有不允许的控制字符（如 NUL），请删除后重试。",
        errors=[
            {
                "field": field,
                "code": "control_character",
                "detail": f"“{field}”含有不允许的控制字符。",
            }
        ],
    )
