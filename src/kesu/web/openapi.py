"""The OpenAPI document as the server behaves: every operation's problem+json answers.

FastAPI documents the success and a generic 422 in `application/json`; kesu answers every
error as RFC 9457 `application/problem+json` with a stable `code`. `document(app)` builds
FastAPI's document once and adds, per operation, the error statuses it can return, with
the stable codes each status carries listed in the description, and one `Problem` schema.

Which statuses an operation can return follows from what it takes and who may call it:
every API operation but the health check needs a signed-in principal (401) and may be
refused by the role matrix or the CSRF check (403); a path parameter names something
that may not exist (404); a body may be malformed (400), too large (413) or invalid
(422); a query may be invalid (400 for a stale cursor, 422); a write may conflict (409).
The codes below are the ones the server raises (kept by tests/web/test_openapi_doc.py).
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

from kesu.web.http import PROBLEM_JSON

# The stable codes per status. A code raised by the server and missing here fails
# tests/web/test_openapi_doc.py.
CODES: dict[int, tuple[str, ...]] = {
    400: ("invalid_json", "invalid_cursor", "http_error"),
    401: (
        "unauthenticated",
        "bad_credentials",
        "code_invalid",
        # Messages in (channels.sources): a request not signed right by a known source.
        "signature_missing",
        "signature_invalid",
        "signature_expired",
        "message_replayed",
        "source_unknown",
        "source_paused",
    ),
    403: ("forbidden", "csrf_failed", "customers_only"),
    404: (
        "not_found",
        "complaint_not_found",
        "attachment_not_found",
        "case_not_found",
        "article_not_held",
        "token_not_found",
        "user_not_found",
        "sla_policy_not_found",
        "team_not_found",
        "mail_not_found",
        "no_error_file",
        # Quality (kesu.quality): a review, a practice round of another or none.
        "review_not_found",
        "practice_not_found",
        "incident_not_found",
        # The satisfaction survey's portal link (a page, not an API route).
        "survey_link_invalid",
    ),
    405: ("method_not_allowed",),
    409: (
        # The appeal centre (appeals.lifecycle): an action not allowed now, conditions
        # of 第十条/第十一条 not met, an operator not connected.
        "appeal_transition_not_allowed",
        "appeal_conditions_not_met",
        "appeal_operator_unknown",
        "concurrent_update",
        "version_conflict",
        "complaint_closed",
        "merge_target_closed",
        "split_not_open",
        "rating_not_open",
        "mail_not_held",
        "already_anonymised",
        "hold_unchanged",
        "attachment_limit",
        "case_exists",
        "case_needs_closed_complaint",
        "user_exists",
        "user_disabled",
        "not_a_user",
        "cannot_disable_self",
        "no_session",
        "action_not_allowed",
        "approval_required",
        "callback_required",
        "reopen_window_passed",
        "statutory_rule",
        "sla_policy_exists",
        "sla_policy_default",
        "message_not_dead",
        "team_exists",
        "not_in_team",
        "referral_already_replied",
        # The centre: an operator's answer to an appeal no longer waiting for it.
        "appeal_answer_conflict",
        # The centre asks an operator for a complaint record: not connected, no phone.
        "operator_not_connected",
        "appellant_phone_missing",
        "source_exists",
        "not_a_duplicate",
        # Quality: one review per complaint, closed ones only, with a handler; one contest;
        # a decision only of a contested review; a practice case answered once.
        "review_exists",
        "review_needs_closed_complaint",
        "review_no_handler",
        "contest_used",
        "review_not_contested",
        "practice_answered",
        "practice_no_cases",
        "practice_case_gone",
        # Mass incidents (incidents.service): closed, no draft to approve, one's own draft.
        "incident_closed",
        "incident_no_draft",
        "incident_own_draft",
        # The satisfaction survey: one per complaint and handling round.
        "survey_already_answered",
        "survey_not_open",
    ),
    # The satisfaction survey's portal link past its last valid day (a page, not the API).
    410: ("survey_link_expired",),
    413: ("body_too_large", "attachment_too_large"),
    415: ("attachment_type_refused",),
    422: (
        # Quality: marks that do not fit the scorecard, a contest or decision incomplete,
        # a practice position outside the round; the case library's filters.
        "marks_incomplete",
        "unknown_mark",
        "invalid_mark",
        "contest_reason_required",
        "decision_score_required",
        "unknown_decision",
        "unknown_review_state",
        "case_not_in_round",
        "unknown_verdict",
        "lesson_required",
        # Mass incidents: a message or summary empty (blank) or too long.
        "incident_text_invalid",
        # The appeal centre (appeals.*).
        "appeal_field_required",
        "appeal_field_too_long",
        "appeal_field_invalid",
        "appeal_reason_required",
        "appeal_date_out_of_range",
        "unknown_appeal_action",
        "unknown_operator",
        "invalid_operator_code",
        "invalid_users",
        "unknown_queue",
        # Work-order files (channels.file_import) and their column mappings.
        "unreadable_file",
        "missing_columns",
        "unknown_mapping",
        "invalid_mapping",
        "mapping_packaged",
        "reason_too_long",
        # Customer templates edited (channels.templates) and the `delay` action.
        "template_empty",
        "template_bad_braces",
        "template_unknown_field",
        "template_too_long",
        "expected_on_required",
        "expected_on_invalid",
        "expected_on_not_future",
        "expected_on_too_far",
        "delay_reason_required",
        "delay_reason_too_long",
        "missing_field",
        "unknown_field",
        "invalid_type",
        "invalid_value",
        "out_of_range",
        "text_empty",
        "text_too_long",
        # The hotline form's own rules (complaints.schemas.FormComplaintIn); the API's
        # complaint body does not apply them.
        "description_too_short",
        "province_required",
        "too_many_items",
        "invalid_date",
        "invalid_datetime",
        "invalid_phone",
        "unknown_channel",
        "unknown_kind",
        "unknown_category",
        "unknown_priority",
        "unknown_team",
        "unknown_risk_flag",
        "unknown_province",
        "unknown_action",
        "unknown_role",
        "unknown_scope",
        "unknown_case_source",
        "invalid_username",
        "weak_password",
        "wrong_password",
        "invalid_expiry",
        "invalid_calendar",
        "year_out_of_range",
        "date_out_of_range",
        "control_character",
        "empty_query",
        "query_too_long",
        "nothing_to_change",
        "attachment_empty",
        "attachment_missing",
        "idempotency_key_reused",
        "received_in_future",
        "invalid_webhook_url",
        "invalid_ref",
        "reply_due_before_receipt",
        "unknown_referral_source",
        # Signed referrals and answers between a centre's and an operator's kesu.
        "referral_source_mismatch",
        "unknown_event",
        # Not reached through the API (the CLI and the referrals page), listed all the same.
        "invalid_referral_list",
        "invalid_callback_url",
        "invalid_source_code",
        "invalid_source_name",
        "invalid_webhook_events",
        "invalid_webhook_secret",
        "invalid_email",
        "unknown_notice_kind",
        "reason_required",
        "unknown_reveal_reason",
        "merge_target_not_found",
        "org_required",
        "org_not_allowed",
        "phone_mismatch",
        "invalid_rating",
        "invalid_period",
        "period_too_long",
        "unknown_scheme",  # appeal statistics: a category scheme not held (appeals.reports)
        "unknown_status",
        "unknown_root_cause",
        "root_cause_required",
        # Corrective actions (corrective.service, corrective.lifecycle).
        "complaint_or_group",
        "group_required",
        "unknown_group_key",
        "unknown_owner",
        "due_in_past",
        "outcome_required",
        "unknown_state",
        "unknown_remedy_kind",
        "resolution_required",
        # The callback's satisfaction survey (complaints.survey_form).
        "survey_invalid",
        "survey_unknown_question",
        "survey_invalid_answer",
        "survey_result_mismatch",
        "survey_incomplete",
        "note_required",
        "team_required",
        "same_team",
        "same_category",
        "merge_target_required",
        "merge_into_self",
        "invalid_compensation",
        "invalid_flags",
        "derived_flag",
        "split_same_category",
        "callback_result_required",
        "category_required",
        "validity_reason_required",
        "article_unknown_regulation",
        "article_bad_citation",
        "citation_unknown_regulation",
        "citation_not_held",
        "citation_bad_citation",
        "numbers_required",
        "duplicate_numbers",
        "unknown_rule",
        "unknown_unit",
        # Ownership (complaints.assignment, complaints.ownership) and teams (accounts.teams):
        "unknown_assignee",
        "assignee_not_in_team",
        "assignee_cannot_handle",
        "assignee_required",
        "same_assignee",
        "invalid_team_code",
        "team_name_required",
        "unknown_policy",
        "unknown_user",
        "invalid_length",
        "invalid_warning",
        "policy_outside_rule",
        # Messages in (channels.source_admin, channels.messages_in):
        "invalid_source_name",
        "unknown_source_kind",
        "invalid_source_secret",
        "phone_required",
    ),
    429: ("account_locked", "code_limit", "code_too_soon", "portal_rate_limited"),
    # Another system kesu asked did not answer usably (appeals.operator_record).
    502: ("operator_record_unavailable",),
    503: ("database_busy", "model_missing"),
}

_TITLES = {
    400: "请求格式错误 Bad request",
    401: "未登录或凭据无效 Not signed in",
    403: "无权限或 CSRF 校验失败 Forbidden",
    404: "不存在 Not found",
    405: "不支持的请求方法 Method not allowed",
    409: "与当前状态冲突 Conflict",
    413: "请求体过大 Body too large",
    415: "文件类型不受支持 Unsupported media type",
    422: "输入无效 Invalid input",
    429: "尝试过多，请稍后再试 Too many attempts",
    502: "对方系统未能应答 Upstream system did not answer",
    503: "服务繁忙 Busy",
}

PROBLEM_SCHEMA: dict[str, Any] = {
    "type": "object",
    "title": "Problem",
    "description": "RFC 9457 problem details; `code` is stable, `detail` is Chinese.",
    "required": ["type", "title", "status", "code", "detail"],
    "properties": {
        "type": {"type": "string"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "code": {"type": "string"},
        "detail": {"type": "string"},
        "instance": {"type": "string"},
        "errors": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "field": {"type": "string"},
                    "code": {"type": "string"},
                    "detail": {"type": "string"},
                },
            },
        },
    },
}

_PUBLIC = {"/healthz"}
_NO_SESSION = {
    "/api/v1/auth/login",
    "/api/v1/portal/code",
    "/api/v1/portal/login",
    "/api/v1/channels/{source}/messages",  # signed by the source (channels.sources)
    "/api/v1/appeals/operator-answers",  # signed by the operator (appeals.exchange)
}
_NAMES_IN_BODY = {"/api/v1/appeals/operator-answers"}  # the body names an appeal: 404
_LIMITED = {"/api/v1/auth/login", "/api/v1/portal/code", "/api/v1/portal/login"}
_MODEL = {"/api/v1/triage", "/api/v1/cases"}
_UPSTREAM = {"/api/v1/appeals/{number}/operator-record"}  # asks another kesu, may get no answer


def statuses(path: str, method: str, operation: dict[str, Any]) -> list[int]:
    """The error statuses one operation can answer with."""
    if path in _PUBLIC:
        return []
    params = operation.get("parameters", [])
    body = operation.get("requestBody")
    out = {401, 403, 503}
    if path in _NO_SESSION:
        out.discard(403)
    if (
        any(p.get("in") == "path" for p in params)
        or path.startswith("/api/v1/portal/")
        or path in _NAMES_IN_BODY
    ):
        out.add(404)
    if body is not None:
        out |= {400, 413, 422}
        if "multipart/form-data" in body.get("content", {}):
            out.add(415)
    if any(p.get("in") in ("query", "path", "header") for p in params):
        out |= {400, 422}
    if method != "get":
        out.add(409)
    if path in _LIMITED:
        out.add(429)
    if path in _UPSTREAM:
        out.add(502)
    return sorted(out)


def _response(status: int) -> dict[str, Any]:
    codes = "、".join(f"`{c}`" for c in CODES[status])
    return {
        "description": f"{_TITLES[status]}。code: {codes}",
        "content": {PROBLEM_JSON: {"schema": {"$ref": "#/components/schemas/Problem"}}},
    }


def document(app: FastAPI) -> dict[str, Any]:
    if app.openapi_schema:
        return app.openapi_schema
    doc = get_openapi(
        title=app.title,
        version=app.version,
        description=app.description,
        routes=app.routes,
    )
    schemas = doc.setdefault("components", {}).setdefault("schemas", {})
    schemas["Problem"] = PROBLEM_SCHEMA
    for name in ("HTTPValidationError", "ValidationError"):
        schemas.pop(name, None)
    for path, item in doc.get("paths", {}).items():
        for method, operation in item.items():
            responses = operation.setdefault("responses", {})
            responses.pop("422", None)
            for status in statuses(path, method, operation):
                responses[str(status)] = _response(status)
    app.openapi_schema = doc
    return doc
