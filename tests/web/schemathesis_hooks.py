"""Schemathesis hooks for tests/web/test_openapi_contract.py (loaded by SCHEMATHESIS_HOOKS).

The run is authenticated with one bearer token; `DELETE /api/v1/tokens/{token_id}` may
revoke any token its caller owns, so a generated id equal to the run's own token is moved
to one that does not exist (the operation is still called, and answers 404).
"""

from __future__ import annotations

import json
import os

import schemathesis

OWN_TOKEN = int(os.environ.get("KESU_CONTRACT_TOKEN_ID", "0"))


@schemathesis.hook
def before_call(ctx, case, **kwargs):
    params = case.path_parameters or {}
    if "token_id" in params and str(params["token_id"]) == str(OWN_TOKEN):
        params["token_id"] = OWN_TOKEN + 1_000_000


# Rejections of schema-valid input that no schema can state: they depend on what is
# stored (a password, a regulation, a file's bytes, a cursor the server issued) or on
# fields taken together. Each is a 4xx problem+json with its own code; any other
# rejection of schema-valid input is a failure.
BUSINESS_RULES = {
    # Quality: marks are checked against the scorecard (data), a practice position against
    # the round's size, a decision's score is required when upheld.
    "marks_incomplete",
    "unknown_mark",
    "invalid_mark",
    "case_not_in_round",
    "decision_score_required",
    "lesson_required",  # a promoted case's verdict needs a lesson
    "invalid_cursor",  # an opaque cursor the server did not issue
    "incident_text_invalid",  # a message or summary of blanks only (stripped, then empty)
    "wrong_password",  # the old password is checked against the stored hash
    "article_unknown_regulation",  # a citation of a regulation kesu does not hold
    "citation_unknown_regulation",
    "citation_not_held",
    "attachment_empty",  # a file's content is checked, not its declared type
    "attachment_type_refused",
    "nothing_to_change",  # PATCH with neither role nor active
    "period_too_long",  # from and to more than 366 days apart
    "invalid_period",  # from after to
    "invalid_calendar",  # a calendar's dates must fall in the year it is loaded for
    "org_required",  # a reseller's user needs an org, others must not have one
    "org_not_allowed",
    # Which fields a transition needs depends on its action (docs/api.md):
    "unknown_root_cause",
    "root_cause_required",  # closing needs a cause given now or recorded before
    # Corrective actions: the owner must be a user, the due date not past, one of a
    # complaint or a group given, what an action needs depends on the action:
    "unknown_owner",
    "due_in_past",
    "complaint_or_group",
    "group_required",
    "outcome_required",
    "resolution_required",
    "note_required",
    "team_required",
    "same_team",
    # An assignee must be a user of kesu, of the complaint's team (the database's):
    "unknown_assignee",
    "assignee_not_in_team",
    "assignee_cannot_handle",
    "assignee_required",
    "same_assignee",
    "unknown_user",  # a team's members are users of kesu
    "same_category",
    "merge_target_required",
    "merge_into_self",
    "merge_target_not_found",
    # The callback's survey: questions and answers are data (data/complaints/survey.yaml).
    "survey_invalid",
    "survey_unknown_question",
    "survey_invalid_answer",
    "survey_result_mismatch",
    "survey_incomplete",
    "invalid_compensation",
    # An appeal action's parameters depend on the action; dates on today; an operator
    # must be one the centre has configured (appeals.lifecycle, appeals.service):
    "appeal_field_required",
    "appeal_field_too_long",
    "appeal_field_invalid",
    "appeal_reason_required",
    "appeal_date_out_of_range",
    "unknown_operator",
    # The category schemes are data files a deployment may add to (KESU_APPEAL_SCHEMES_DIR).
    "unknown_scheme",
    "invalid_flags",
    "callback_result_required",
    "category_required",
    "validity_reason_required",
    "idempotency_key_reused",  # the key was used before with another body
    "split_same_category",  # a split's category must differ from the stored complaint's
    # An SLA policy's period depends on its unit, its warning lead on the period, and
    # the kinds, categories and priorities it may name on its rule (docs/api.md):
    "invalid_length",
    "invalid_warning",
    "policy_outside_rule",
    # Rules on every string and every date, stated in docs/api.md and the operations'
    # descriptions rather than as a pattern on each string of the document:
    "control_character",  # NUL and other C0/C1 controls (tab, LF, CR allowed)
    "date_out_of_range",  # dates and times outside 2000-01-01 … 2100-12-31
    # A regulator referral: its due date after its receipt date (fields together), the
    # receipt not after today (the clock), its source one an admin configured (stored):
    "reply_due_before_receipt",
    "received_in_future",
    "unknown_referral_source",
}


@schemathesis.hook
def filter_failure(ctx, failure, case, response):
    if type(failure).__name__ != "RejectedPositiveData":
        return True
    try:
        code = json.loads(response.content).get("code")
    except (ValueError, AttributeError):
        return True
    return code not in BUSINESS_RULES
