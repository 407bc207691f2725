"""Who may do what: every role of roles.yaml against every protected operation, over HTTP.

The expectation is read from roles.yaml itself (a role may do an operation when it
holds one of the permissions the operation needs); the named facts of the issue
are hard-coded in separate tests below, so a change to roles.yaml that breaks
one of them is noticed too.
"""

from __future__ import annotations

import itertools
from datetime import date
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy import func, select

import kesu
from kesu.accounts import teams, tokens, users
from kesu.complaints import vocabulary as vocab
from kesu.deadlines import sla_policies
from kesu.store import tables as t
from tests.accounts.route_list import http_routes
from tests.conftest import complaint_body

SPEC = yaml.safe_load(
    (Path(kesu.__file__).parent / "data" / "accounts" / "roles.yaml").read_text(encoding="utf-8")
)
ROLES: dict[str, dict[str, Any]] = SPEC["roles"]
ACTIONS: dict[str, list[str]] = SPEC["actions"]
MISSING = "TS20261128999999"  # a number nobody registered
CALENDAR_2027 = {
    "official": True,
    "source": "国务院办公厅关于2027年部分节假日安排的通知（测试）",
    "holidays": {"2027-01-01": "元旦"},
    "workdays": {},
}


def perms(role: str) -> set[str]:
    return set(ROLES[role]["permissions"])


def org_of(role: str) -> str | None:
    return "代理商甲" if ROLES[role].get("scope") == "org" else None


def body(customer: dict | None = None, **overrides):
    # No province: five complaints of one category from one province within six hours
    # raise the mass-incident flag (triage), and with it the approval step before a reply.
    who = {"phone": "13800001234", "name": "张三", **(customer or {})}
    return complaint_body(customer=who, **overrides)


def _count(table, *where):
    return select(func.count()).select_from(table).where(*where).scalar_subquery()


_C, _U = t.complaints.c, t.users.c
_SNAPSHOT = select(
    *(
        _count(table).label(table.name)
        for table in (
            t.complaints,
            t.complaint_events,
            t.deadlines,
            t.users,
            t.api_tokens,
            t.calendar_years,
            t.law_cases,
            t.sla_policy_history,
            t.team_history,
            t.webhook_subscriptions,
            t.notifications,
            t.channel_sources,
            t.quality_reviews,
            t.quality_review_events,
            t.practice_rounds,
            t.practice_answers,
            t.incidents,
            t.incident_events,
            t.corrective_actions,
            t.corrective_action_events,
        )
    ),
    _count(t.quality_reviews, t.quality_reviews.c.state != "reviewed").label("contested"),
    select(func.coalesce(func.sum(_C.version), 0)).scalar_subquery().label("versions"),
    select(func.coalesce(func.sum(t.corrective_actions.c.version), 0))
    .scalar_subquery()
    .label("action_versions"),
    _count(t.complaints, _C.legal_hold).label("legal_holds"),
    _count(t.notifications, t.notifications.c.status == "dead").label("dead_messages"),
    _count(t.users, _U.active).label("active_users"),
    _count(t.webhook_subscriptions, t.webhook_subscriptions.c.state == "paused").label(
        "paused_webhooks"
    ),
    _count(t.users, _U.role == "admin").label("admins"),
    _count(t.mail_inbox, t.mail_inbox.c.status == "held").label("held_mail"),
    _count(t.api_tokens, t.api_tokens.c.revoked_at.is_not(None)).label("revoked_tokens"),
    select(func.max(t.law_index.c.indexed_at)).scalar_subquery().label("law_indexed_at"),
)


def snapshot(rt) -> dict[str, Any]:
    """What a refused request must leave as it was (the audit log aside), in one query."""
    with rt.engine.connect() as conn:
        return dict(conn.execute(_SNAPSHOT).one()._mapping)


class Desk:
    """Prepares complaints through the API as the supervisor (registered by `owner`)."""

    def __init__(self, client, owner: dict[str, str] | None = None) -> None:
        self.client = client
        self.owner = owner or {}
        self.pool: dict[str, str] = {}

    def ready(self, key: str, path=(), **overrides) -> str:
        """A complaint prepared this way, reused while nobody changed it (see `spent`)."""
        if key not in self.pool:
            self.pool[key] = self.new(path, **overrides)
        return self.pool[key]

    def spent(self, key: str) -> None:
        self.pool.pop(key, None)

    def new(self, path=(), **overrides) -> str:
        r = self.client.post("/api/v1/complaints", json=body(**overrides), headers=self.owner)
        assert r.status_code == 201, r.text
        number = r.json()["number"]
        for action, params in path:
            self.act(number, action, **params)
        return number

    def act(self, number: str, action: str, **params) -> dict:
        r = self.client.post(
            f"/api/v1/complaints/{number}/transitions", json={"action": action, **params}
        )
        assert r.status_code == 200, f"preparing {action}: {r.text}"
        return r.json()

    def get(self, number: str) -> dict:
        r = self.client.get(f"/api/v1/complaints/{number}")
        assert r.status_code == 200, r.text
        return r.json()


RESOLUTION = {"resolution": "经核查多扣30元流量费，已退还。"}
CAUSE = {"root_cause": "human_error"}  # closing needs a cause
ACCEPTED = [("accept", {})]
INVESTIGATING = [*ACCEPTED, ("investigate", {})]
PROPOSED_200 = [*INVESTIGATING, ("propose", {**RESOLUTION, "compensation": 200})]
REPLIED = [*ACCEPTED, ("reply", RESOLUTION)]
CALLED_BACK = [*REPLIED, ("callback", {"result": "satisfied"})]
CLOSED = [*CALLED_BACK, ("close", CAUSE)]

# action → (the way to the state where it is allowed, registration fields, its input,
#           the status after it)
SCENES: dict[str, tuple[list, dict, dict, str]] = {
    "accept": ([], {}, {}, "accepted"),
    "investigate": (ACCEPTED, {}, {}, "investigating"),
    "propose": (INVESTIGATING, {}, RESOLUTION, "proposed"),
    "approve": (PROPOSED_200, {}, {}, "approved"),
    "reject": (PROPOSED_200, {}, {"note": "补偿依据不足，请重拟"}, "investigating"),
    "reply": (ACCEPTED, {}, RESOLUTION, "replied"),
    "callback": (REPLIED, {}, {"result": "satisfied"}, "callback"),
    "close": (CALLED_BACK, {}, CAUSE, "closed"),
    "reopen": (CLOSED, {}, {"note": "客户来电表示问题仍未解决"}, "investigating"),
    "merge": ([], {}, {}, "merged"),  # `into`: a second open complaint, made in the test
    "invalidate": ([], {}, {"reason": "not_specific"}, "invalid"),
    "convert": ([], {"kind": "consultation"}, {}, "registered"),
    "classify": ([], {"category": "billing"}, {"category": "network"}, "registered"),
    "transfer": ([], {}, {"team": "billing"}, "registered"),
    "escalate": ([], {}, {}, "registered"),
    "flag": ([], {}, {"add_flags": ["vip"]}, "registered"),
    # Every role's user is of the front line (the test puts them there), as is the
    # supervisor who registers: assign names the supervisor, claim takes it oneself.
    "assign": ([], {}, {"assignee": "t-supervisor"}, "registered"),
    "claim": ([], {}, {}, "registered"),
    "delay": (ACCEPTED, {}, {"expected_on": "2026-12-18", "reason": "需现场测试"}, "accepted"),
}


def test_every_lifecycle_action_of_roles_yaml_is_covered():
    assert set(SCENES) == set(ACTIONS)


# (name, method, path) of the operations other than the transitions; what each needs
# is in NEEDS (permission names of roles.yaml), how it is called in `_prepare`.
OPERATIONS = [
    ("register", "POST", "/api/v1/complaints"),
    ("list", "GET", "/api/v1/complaints"),
    ("get", "GET", "/api/v1/complaints/{number}"),
    ("events", "GET", "/api/v1/complaints/{number}/events"),
    ("personal data", "POST", "/api/v1/complaints/{number}/personal-data"),
    ("triage", "POST", "/api/v1/triage"),
    ("law search", "GET", "/api/v1/law/search"),
    ("obligations", "GET", "/api/v1/complaints/{number}/obligations"),
    ("reply draft", "POST", "/api/v1/complaints/{number}/reply-draft"),
    ("case promotion", "POST", "/api/v1/cases"),
    ("law reindex", "POST", "/api/v1/law/reindex"),
    ("calendar load", "PUT", "/api/v1/calendar/years/{year}"),
    ("users list", "GET", "/api/v1/users"),
    ("user create", "POST", "/api/v1/users"),
    ("user change", "PATCH", "/api/v1/users/{username}"),
    ("audit", "GET", "/api/v1/audit"),
    ("legal hold", "POST", "/api/v1/complaints/{number}/legal-hold"),
    ("legal hold release", "DELETE", "/api/v1/complaints/{number}/legal-hold"),
    ("retention preview", "POST", "/api/v1/retention/run"),
    ("attachment upload", "POST", "/api/v1/complaints/{number}/attachments"),
    ("attachments", "GET", "/api/v1/complaints/{number}/attachments"),
    (
        "attachment download",
        "GET",
        "/api/v1/complaints/{number}/attachments/{attachment_id}",
    ),
    ("kpis", "GET", "/api/v1/reports/kpis"),
    ("kpis export", "GET", "/api/v1/reports/kpis.xlsx"),
    ("regulator report", "GET", "/api/v1/reports/regulator"),
    ("regulator report export", "GET", "/api/v1/reports/regulator.xlsx"),
    ("report overview", "GET", "/api/v1/reports/overview"),
    ("report series", "GET", "/api/v1/reports/series"),
    ("about to breach", "GET", "/api/v1/reports/about-to-breach"),
    ("approvals", "GET", "/api/v1/reports/approvals"),
    ("people", "GET", "/api/v1/reports/people"),
    ("people export", "GET", "/api/v1/reports/people.xlsx"),
    ("list export csv", "GET", "/api/v1/complaints/export.csv"),
    ("list export xlsx", "GET", "/api/v1/complaints/export.xlsx"),
    ("bulk flag", "POST", "/api/v1/complaints/bulk"),
    ("split", "POST", "/api/v1/complaints/{number}/split"),
    ("sla policy add", "POST", "/api/v1/sla-policies"),
    ("sla policy change", "PUT", "/api/v1/sla-policies/{policy_id}"),
    ("sla policy remove", "DELETE", "/api/v1/sla-policies/{policy_id}"),
    ("outbox", "GET", "/api/v1/outbox"),
    ("outbox message", "GET", "/api/v1/outbox/{message_id}"),
    ("outbox resend", "POST", "/api/v1/outbox/{message_id}/resend"),
    ("notification templates", "GET", "/api/v1/notification-templates"),
    ("notification template", "GET", "/api/v1/notification-templates/{key}"),
    ("notification template edit", "PUT", "/api/v1/notification-templates/{key}"),
    ("teams list", "GET", "/api/v1/teams"),
    ("team get", "GET", "/api/v1/teams/{code}"),
    ("team create", "POST", "/api/v1/teams"),
    ("team change", "PATCH", "/api/v1/teams/{code}"),
    ("team members", "PUT", "/api/v1/teams/{code}/members"),
    ("user team", "PUT", "/api/v1/users/{username}/team"),
    ("webhooks", "GET", "/api/v1/webhooks"),
    ("webhook create", "POST", "/api/v1/webhooks"),
    ("webhook", "GET", "/api/v1/webhooks/{webhook_id}"),
    ("webhook change", "PATCH", "/api/v1/webhooks/{webhook_id}"),
    ("webhook delete", "DELETE", "/api/v1/webhooks/{webhook_id}"),
    ("webhook test", "POST", "/api/v1/webhooks/{webhook_id}/test"),
    ("webhook deliveries", "GET", "/api/v1/webhooks/{webhook_id}/deliveries"),
    ("referral receive", "POST", "/api/v1/referrals"),
    ("referral", "GET", "/api/v1/referrals/{ref}"),
    ("referral reply", "POST", "/api/v1/referrals/{ref}/reply"),
    ("referral document", "GET", "/api/v1/referrals/{ref}/reply"),
    ("complaint record", "POST", "/api/v1/complaint-records"),
    ("likely duplicates", "GET", "/api/v1/complaints/{number}/likely-duplicates"),
    ("channel sources", "GET", "/api/v1/channel-sources"),
    ("channel source create", "POST", "/api/v1/channel-sources"),
    ("channel source", "GET", "/api/v1/channel-sources/{source}"),
    ("channel source change", "PATCH", "/api/v1/channel-sources/{source}"),
    ("channel source delete", "DELETE", "/api/v1/channel-sources/{source}"),
    ("held mail", "GET", "/api/v1/mail/held"),
    ("held mail register", "POST", "/api/v1/mail/held/{mail_id}/register"),
    ("held mail discard", "POST", "/api/v1/mail/held/{mail_id}/discard"),
    ("appeal receive", "POST", "/api/v1/appeals"),
    ("appeals", "GET", "/api/v1/appeals"),
    ("appeal", "GET", "/api/v1/appeals/{number}"),
    ("appeal action", "POST", "/api/v1/appeals/{number}/transitions"),
    ("appeal referral letter", "GET", "/api/v1/appeals/{number}/referral-letter"),
    ("appeal operator record", "POST", "/api/v1/appeals/{number}/operator-record"),
    ("appeal operators", "GET", "/api/v1/appeal-operators"),
    ("appeal operator save", "PUT", "/api/v1/appeal-operators/{code}"),
    ("appeal statistics", "GET", "/api/v1/reports/appeals"),
    ("appeal statistics export", "GET", "/api/v1/reports/appeals.xlsx"),
    ("quality sample", "GET", "/api/v1/quality/sample"),
    ("quality review create", "POST", "/api/v1/quality/reviews"),
    ("quality reviews", "GET", "/api/v1/quality/reviews"),
    ("quality review", "GET", "/api/v1/quality/reviews/{review_id}"),
    ("quality contest", "POST", "/api/v1/quality/reviews/{review_id}/contest"),
    ("quality decision", "POST", "/api/v1/quality/reviews/{review_id}/decision"),
    ("practice start", "POST", "/api/v1/practice"),
    ("practice answer", "POST", "/api/v1/practice/{round_id}/answers"),
    ("incidents", "GET", "/api/v1/incidents"),
    ("incident", "GET", "/api/v1/incidents/{incident_id}"),
    ("incident message", "POST", "/api/v1/incidents/{incident_id}/message"),
    ("incident approve", "POST", "/api/v1/incidents/{incident_id}/message/approve"),
    ("incident close", "POST", "/api/v1/incidents/{incident_id}/close"),
    ("corrective open", "POST", "/api/v1/corrective-actions"),
    ("corrective actions", "GET", "/api/v1/corrective-actions"),
    ("corrective action", "GET", "/api/v1/corrective-actions/{action_id}"),
    ("corrective progress", "POST", "/api/v1/corrective-actions/{action_id}/progress"),
    ("corrective transition", "POST", "/api/v1/corrective-actions/{action_id}/transitions"),
]
NEEDS = {
    "register": {"complaint.register"},
    "list": {"complaint.read"},
    "get": {"complaint.read"},
    "events": {"complaint.read"},
    "personal data": {"pii.show"},
    "triage": {"triage.use"},
    "law search": {"law.read"},
    "obligations": {"law.read"},
    "reply draft": {"complaint.handle", "complaint.answer"},
    "case promotion": {"case.promote"},
    "law reindex": {"law.reindex"},
    "calendar load": {"calendar.manage"},
    "users list": {"users.manage"},
    "user create": {"users.manage"},
    "user change": {"users.manage"},
    "audit": {"audit.read"},
    "legal hold": {"complaint.hold"},
    "legal hold release": {"complaint.hold"},
    "retention preview": {"retention.run"},
    "attachment upload": {"complaint.register", "complaint.handle", "complaint.answer"},
    "attachments": {"complaint.read"},
    "attachment download": {"complaint.read"},
    "kpis": {"report.read"},
    "regulator report": {"report.read"},
    "regulator report export": {"report.read"},
    "kpis export": {"report.read"},
    # Supervisors see everyone, team leads their team, agents and handlers their own row.
    "people": {"report.read", "people.team", "people.own"},
    "people export": {"report.read", "people.team", "people.own"},
    "report overview": {"report.read"},
    "report series": {"report.read"},
    "about to breach": {"report.read"},
    "approvals": {"report.read"},
    # complaint.read as well, which every role with report.read has.
    "list export csv": {"report.read"},
    "list export xlsx": {"report.read"},
    "bulk flag": {"complaint.flag"},
    "split": {"complaint.split"},
    "sla policy add": {"sla.manage"},
    "sla policy change": {"sla.manage"},
    "sla policy remove": {"sla.manage"},
    "outbox": {"outbox.manage"},
    "outbox message": {"outbox.manage"},
    "outbox resend": {"outbox.manage"},
    "notification templates": {"outbox.manage"},
    "notification template": {"outbox.manage"},
    "notification template edit": {"outbox.manage"},
    "teams list": {"complaint.read"},
    "team get": {"complaint.read"},
    "team create": {"teams.manage"},
    "team change": {"teams.manage"},
    "team members": {"teams.manage"},
    "user team": {"teams.manage"},
    "webhooks": {"outbox.manage"},
    "webhook create": {"outbox.manage"},
    "webhook": {"outbox.manage"},
    "webhook change": {"outbox.manage"},
    "webhook delete": {"outbox.manage"},
    "webhook test": {"outbox.manage"},
    "webhook deliveries": {"outbox.manage"},
    "referral receive": {"complaint.register"},
    "referral": {"complaint.read"},
    "referral reply": {"complaint.handle"},
    "referral document": {"complaint.read"},
    "complaint record": {"complaint.read"},
    "likely duplicates": {"complaint.read"},
    "channel sources": {"channel_sources.manage"},
    "channel source create": {"channel_sources.manage"},
    "channel source": {"channel_sources.manage"},
    "channel source change": {"channel_sources.manage"},
    "channel source delete": {"channel_sources.manage"},
    "held mail": {"complaint.register"},
    "held mail register": {"complaint.register"},
    "held mail discard": {"complaint.handle"},
    # The appeal centre's side: only its own roles (an operator's staff hold none).
    "appeal receive": {"appeal.register"},
    "appeals": {"appeal.read"},
    "appeal": {"appeal.read"},
    "appeal action": {"appeal.handle"},
    "appeal referral letter": {"appeal.read"},
    "appeal operator record": {"appeal.handle"},
    "appeal operators": {"appeal.read"},
    "appeal operator save": {"appeal.manage"},
    "appeal statistics": {"appeal.report"},
    "appeal statistics export": {"appeal.report"},
    # Quality inspection: the reviewer samples and scores; everyone who handles complaints
    # reads their own reviews and contests them; supervisors decide; the review of
    # another's complaint needs quality.read.
    "quality sample": {"quality.review"},
    "quality review create": {"quality.review"},
    "quality reviews": {"quality.read", "quality.own"},
    "quality review": {"quality.read"},
    "quality contest": {"quality.own"},
    "quality decision": {"quality.decide"},
    "practice start": {"case.practice"},
    "practice answer": {"case.practice"},
    "incidents": {"incident.read"},
    "incident": {"incident.read"},
    "incident message": {"incident.message"},
    "incident approve": {"incident.manage"},
    "incident close": {"incident.manage"},
    # Corrective actions: reading, and (on an action owned by someone else) managing;
    # the owner's own progress and closing are in tests/corrective/test_actions_api.py.
    "corrective open": {"corrective.manage"},
    "corrective actions": {"corrective.read"},
    "corrective action": {"corrective.read"},
    "corrective progress": {"corrective.manage"},
    "corrective transition": {"corrective.manage"},
}
# The operator's own inbox: only roles that see every complaint (scope all), whatever
# their permissions (a reseller's users register complaints, but not from it).
ALL_SCOPE_ONLY = {"held mail", "held mail register", "held mail discard"}

PDF = b"%PDF-1.4\n%%EOF\n"
REPORTS = {
    "kpis": "/api/v1/reports/kpis",
    "kpis export": "/api/v1/reports/kpis.xlsx",
    "report overview": "/api/v1/reports/overview",
    "report series": "/api/v1/reports/series",
    "about to breach": "/api/v1/reports/about-to-breach",
    "approvals": "/api/v1/reports/approvals",
    "people": "/api/v1/reports/people",
    "people export": "/api/v1/reports/people.xlsx",
}


def _prepare(name: str, client, me: str, desk: Desk) -> tuple[str, str, dict, str | None]:
    """The request for operation `name` by user `me`, on a complaint prepared for it.

    Also returns the key of the prepared complaint in the desk's pool (if any): it is
    reused for the next operation unless this one changed it.
    """
    if name == "register":
        return "POST", "/api/v1/complaints", {"json": body()}, None
    if name == "list":
        return "GET", "/api/v1/complaints", {}, None
    if name == "triage":
        return "POST", "/api/v1/triage", {"json": {"text": "宽带断网三天没人修"}}, None
    if name == "law search":
        return "GET", "/api/v1/law/search", {"params": {"q": "停机"}}, None
    if name == "law reindex":
        return "POST", "/api/v1/law/reindex", {}, None
    if name == "calendar load":
        return "PUT", "/api/v1/calendar/years/2027", {"json": CALENDAR_2027}, None
    if name == "users list":
        return "GET", "/api/v1/users", {}, None
    if name == "user create":
        new = {"username": f"new-{me}", "role": "agent", "password": "password-123456"}
        return "POST", "/api/v1/users", {"json": new}, None
    if name == "user change":  # promoting oneself: only a user manager may
        return "PATCH", f"/api/v1/users/{me}", {"json": {"role": "admin"}}, None
    if name == "audit":
        return "GET", "/api/v1/audit", {}, None
    if name == "retention preview":
        return "POST", "/api/v1/retention/run", {"params": {"dry_run": "true"}}, None
    if name in REPORTS:
        return "GET", REPORTS[name], {}, None
    if name.startswith("regulator report"):
        path = "/api/v1/reports/regulator" + (".xlsx" if name.endswith("export") else "")
        return "GET", path, {"params": {"month": "2026-11"}}, None
    if name.startswith("list export "):
        return "GET", "/api/v1/complaints/export." + name.rsplit(" ", 1)[1], {}, None
    if name == "bulk flag":
        n = desk.ready("flag")
        bulk = {"numbers": [n], "action": "flag", "params": {"add_flags": ["vip"]}}
        return "POST", "/api/v1/complaints/bulk", {"json": bulk}, "flag"
    if name == "split":  # the first complaint is not changed: its record only gains an event
        n = desk.ready("shared")
        second = {"category": "other", "description": "另反映营业厅排队两小时无人办理。"}
        return "POST", f"/api/v1/complaints/{n}/split", {"json": second}, None
    if name.startswith("sla policy"):
        return _sla_policy(name, client)
    if name.startswith(("quality", "practice")):
        return _quality(name, client, me, desk)
    if name.startswith("appeal"):
        return _appeal(name, client)
    if name.startswith("corrective"):
        return _corrective(name, client)
    if name == "complaint record":  # an appeal centre's question, asked by staff
        return "POST", "/api/v1/complaint-records", {"json": RECORD_QUERY}, None
    if name.startswith("outbox"):
        return _outbox(name, client)
    if name.startswith("notification template"):
        path = "/api/v1/notification-templates" + ("" if name.endswith("templates") else "/closed")
        if name.endswith("edit"):
            edit = {"text": f"您的投诉（单号{{number}}）已办结。（{me}）", "note": "调整话术"}
            return "PUT", path, {"json": edit}, None
        return "GET", path, {}, None
    if name == "teams list":
        return "GET", "/api/v1/teams", {}, None
    if name == "team get":
        return "GET", "/api/v1/teams/legal", {}, None
    if name == "team create":
        new = {"code": "team_" + me.replace("-", "_"), "name": f"{me}的班组"}
        return "POST", "/api/v1/teams", {"json": new}, None
    if name == "team change":
        return "PATCH", "/api/v1/teams/legal", {"json": {"policy": "least_open"}}, None
    if name == "team members":
        return "PUT", "/api/v1/teams/legal/members", {"json": {"members": []}}, None
    if name == "user team":  # moving oneself into a team: only a team manager may
        return "PUT", f"/api/v1/users/{me}/team", {"json": {"skills": ["billing"]}}, None
    if name.startswith("webhook"):
        return _webhook(name, client)
    if name.startswith("referral"):
        return _referral(name, me, desk)
    if name.startswith("channel source"):
        return _channel_source(name, client)
    if name.startswith("held mail"):
        return _held_mail(name, client)
    if name.startswith("incident"):
        return _incident(name, client)
    if name == "case promotion":
        n = desk.ready("closed", CLOSED)
        return "POST", "/api/v1/cases", {"json": {"complaint": n}}, "closed"
    if name == "legal hold release":
        n = desk.new()
        r = desk.client.post(f"/api/v1/complaints/{n}/legal-hold", json={"reason": "诉讼中"})
        assert r.status_code == 200, r.text
        return "DELETE", f"/api/v1/complaints/{n}/legal-hold", {}, None
    if name == "legal hold":
        n = desk.ready("not held")
        return (
            "POST",
            f"/api/v1/complaints/{n}/legal-hold",
            {"json": {"reason": "已起诉"}},
            "not held",
        )
    # The reads share one complaint: none of them stops the others.
    n = desk.ready("shared")
    if name == "get":
        return "GET", f"/api/v1/complaints/{n}", {}, None
    if name == "events":
        return "GET", f"/api/v1/complaints/{n}/events", {}, None
    if name == "likely duplicates":
        return "GET", f"/api/v1/complaints/{n}/likely-duplicates", {}, None
    if name == "personal data":
        return "POST", f"/api/v1/complaints/{n}/personal-data", {"json": {"reason": "verify"}}, None
    if name == "obligations":
        return "GET", f"/api/v1/complaints/{n}/obligations", {}, None
    if name == "reply draft":
        return "POST", f"/api/v1/complaints/{n}/reply-draft", {"json": {}}, None
    if name == "attachment upload":
        files = {"files": {"file": ("a.pdf", PDF)}}
        return "POST", f"/api/v1/complaints/{n}/attachments", files, None
    if name == "attachments":
        return "GET", f"/api/v1/complaints/{n}/attachments", {}, None
    if name == "attachment download":
        r = desk.client.post(
            f"/api/v1/complaints/{n}/attachments",
            files={"file": ("a.pdf", PDF)},
            headers=desk.owner,
        )
        assert r.status_code == 201, r.text
        return "GET", r.json()["url"], {}, None
    raise AssertionError(name)


QUALITY_CLOSED = [*CALLED_BACK, ("close", {"root_cause": "human_error"})]
MARKS = {
    "time_limit_told": True,
    "identity_verified": True,
    "category_correct": True,
    "article_cited": True,
    "replied_in_time": True,
    "courtesy": 5,
}


def _quality(name: str, client, me: str, desk: Desk) -> tuple[str, str, dict, str | None]:
    """Quality reviews (a review of its own for each request that needs one) and practice."""
    from kesu.quality import practice, reviews

    rt = client.app.state.runtime
    if name == "quality sample":
        day = {"from": "2026-11-28", "to": "2026-11-28"}
        return "GET", "/api/v1/quality/sample", {"params": day}, None
    if name == "quality reviews":
        return "GET", "/api/v1/quality/reviews", {}, None
    if name == "practice start":
        return "POST", "/api/v1/practice", {}, None
    if name == "practice answer":
        rnd = practice.start(rt, me)  # a round of `me`'s own
        answer = {"position": 1, "category": "billing"}
        return "POST", f"/api/v1/practice/{rnd['id']}/answers", {"json": answer}, None
    if name == "quality review create":
        n = desk.ready("closed for review", QUALITY_CLOSED)
        review = {"complaint": n, "marks": MARKS}
        return "POST", "/api/v1/quality/reviews", {"json": review}, "closed for review"
    # A contest: of a complaint `me` handled (assigned to them) when they may own one.
    role = me[2:].split("-")[0]
    own = name == "quality contest" and perms(role) & {"complaint.handle", "complaint.answer"}
    if name != "quality decision":
        path = [("assign", {"assignee": me}), *QUALITY_CLOSED] if own else QUALITY_CLOSED
        made = reviews.create(rt, "system", {"complaint": desk.new(path), "marks": MARKS})
        url = f"/api/v1/quality/reviews/{made['id']}"
        if name == "quality review":
            return "GET", url, {}, None
        return "POST", url + "/contest", {"json": {"reason": "录音中已告知时限。"}}, None
    # A decision: of a complaint the agent handled (nobody decides their own contest).
    path = [("assign", {"assignee": "t-agent"}), *QUALITY_CLOSED]
    made = reviews.create(rt, "system", {"complaint": desk.new(path), "marks": MARKS})
    reviews.contest(rt, "t-agent", made["id"], "录音中已告知时限。")
    url = f"/api/v1/quality/reviews/{made['id']}"
    return "POST", url + "/decision", {"json": {"outcome": "rejected"}}, None


# A scope of its own for each policy a test adds (kinds × categories × priorities).
_SCOPES = itertools.cycle(
    itertools.product(["complaint"], vocab.CATEGORIES, ["low", "high", "urgent"])
)


def _sla_policy(name: str, client) -> tuple[str, str, dict, str | None]:
    """An SLA policy to add (a scope of its own each time), change or remove."""
    if name == "sla policy add":
        scope = dict(zip(("kind", "category", "priority"), next(_SCOPES), strict=True))
        body = {"rule": "reopen_reply_5wd", **scope, "length": 3}
        return "POST", "/api/v1/sla-policies", {"json": {**body, "unit": "working_days"}}, None
    listing = client.get("/api/v1/sla-policies").json()
    ack = next(x for x in listing["rules"] if x["rule"] == "ack_24h")
    if name == "sla policy change":
        pid = ack["policies"][0]["id"]
        return "PUT", f"/api/v1/sla-policies/{pid}", {"json": {"length": 23}}, None
    rt = client.app.state.runtime
    made = sla_policies.create(
        rt,
        "system",
        {
            "rule": "ack_24h",
            **dict(zip(("kind", "category", "priority"), next(_SCOPES), strict=True)),
            "length": 2,
            "unit": "hours",
        },
    )
    return "DELETE", f"/api/v1/sla-policies/{made['id']}", {}, None


def _outbox(name: str, client) -> tuple[str, str, dict, str | None]:
    """A dead message (its gateway refused it every time) to read or send again."""
    from sqlalchemy import update

    from kesu.channels import outbox
    from kesu.store.db import write

    rt = client.app.state.runtime
    with write(rt.engine) as conn:
        outbox.enqueue(conn, rt.clock(), "sms", "13800001234", "您的投诉已受理。", "test")
        mid = conn.execute(select(func.max(t.notifications.c.id))).scalar_one()
        conn.execute(
            update(t.notifications)
            .where(t.notifications.c.id == mid)
            .values(status="dead", attempts=16, last_error="短信网关返回 HTTP 503")
        )
    if name == "outbox":
        return "GET", "/api/v1/outbox", {"params": {"status": "dead"}}, None
    if name == "outbox message":
        return "GET", f"/api/v1/outbox/{mid}", {}, None
    return "POST", f"/api/v1/outbox/{mid}/resend", {}, None


_REFERRALS = itertools.count(1)


def _referral(name: str, me: str, desk: Desk) -> tuple[str, str, dict, str | None]:
    """A referral of its own each time (received by the desk's owner, so that a
    reseller's users see it too)."""
    ref = f"ZB-{me}-{next(_REFERRALS)}"
    body = {
        "ref": ref,
        "appeal_received_on": "2026-11-25",
        "reply_due_on": "2026-12-05",
        "appellant": {"phone": "13900005555"},
        "issue": "申诉人反映营业厅办理业务时被搭售流量包。",
    }
    if name == "referral receive":
        return "POST", "/api/v1/referrals", {"json": body}, None
    r = desk.client.post("/api/v1/referrals", json=body, headers=desk.owner)
    assert r.status_code == 201, r.text
    if name == "referral reply":
        answer = {"handling": "已核实并取消。", "result": "已退费。"}
        return "POST", f"/api/v1/referrals/{ref}/reply", {"json": answer}, None
    if name == "referral document":
        return "GET", f"/api/v1/referrals/{ref}/reply", {}, None
    return "GET", f"/api/v1/referrals/{ref}", {}, None


def _webhook(name: str, client) -> tuple[str, str, dict, str | None]:
    """A subscription of its own for each request (a delete or a pause spends it)."""
    from kesu.channels import webhook_admin

    rt = client.app.state.runtime
    url = "https://hooks.example.cn/kesu"
    sid = webhook_admin.create(rt, "test", url, ["closed"])["id"]
    new = {"url": url, "events": ["registered"]}
    return {
        "webhooks": ("GET", "/api/v1/webhooks", {}, None),
        "webhook create": ("POST", "/api/v1/webhooks", {"json": new}, None),
        "webhook": ("GET", f"/api/v1/webhooks/{sid}", {}, None),
        "webhook change": ("PATCH", f"/api/v1/webhooks/{sid}", {"json": {"active": False}}, None),
        "webhook delete": ("DELETE", f"/api/v1/webhooks/{sid}", {}, None),
        "webhook test": ("POST", f"/api/v1/webhooks/{sid}/test", {}, None),
        "webhook deliveries": ("GET", f"/api/v1/webhooks/{sid}/deliveries", {}, None),
    }[name]


_SOURCES = itertools.count(1)


def _channel_source(name: str, client) -> tuple[str, str, dict, str | None]:
    """A message source of its own for each request (a delete or a pause spends it)."""
    from kesu.channels import source_admin

    rt = client.app.state.runtime
    made = source_admin.create(rt, "test", f"src-{next(_SOURCES)}", "sms")["name"]
    new = {"name": f"new-{next(_SOURCES)}", "kind": "wechat"}
    path = f"/api/v1/channel-sources/{made}"
    return {
        "channel sources": ("GET", "/api/v1/channel-sources", {}, None),
        "channel source create": ("POST", "/api/v1/channel-sources", {"json": new}, None),
        "channel source": ("GET", path, {}, None),
        "channel source change": ("PATCH", path, {"json": {"active": False}}, None),
        "channel source delete": ("DELETE", path, {}, None),
    }[name]


def _held_mail(name: str, client) -> tuple[str, str, dict, str | None]:
    """A mail of its own each time, held for want of a phone number (as mail in holds it)."""
    from kesu.channels import mail_in
    from tests.channels import mail_messages as mm

    rt = client.app.state.runtime
    out = mail_in.accept(rt, mm.plain(body="网速太慢，请处理。"), "smtp")
    assert out.status == "held", out
    return {
        "held mail": ("GET", "/api/v1/mail/held", {}, None),
        "held mail register": (
            "POST",
            f"/api/v1/mail/held/{out.id}/register",
            {"json": {"phone": "13800001234"}},
            None,
        ),
        "held mail discard": (
            "POST",
            f"/api/v1/mail/held/{out.id}/discard",
            {"json": {"reason": "垃圾邮件"}},
            None,
        ),
    }[name]


def _incident(name: str, client) -> tuple[str, str, dict, str | None]:
    """An incident of its own each time (approving spends its draft, closing spends it)."""
    from tests.incidents.make import incident

    rt = client.app.state.runtime
    iid = incident(rt, drafted=name == "incident approve")
    path = f"/api/v1/incidents/{iid}"
    return {
        "incidents": ("GET", "/api/v1/incidents", {}, None),
        "incident": ("GET", path, {}, None),
        "incident message": ("POST", f"{path}/message", {"json": {"text": "故障已修复。"}}, None),
        "incident approve": ("POST", f"{path}/message/approve", {}, None),
        "incident close": ("POST", f"{path}/close", {"json": {"summary": "已处理完毕。"}}, None),
    }[name]


def _judge(wrong: list[str], what: str, allowed: bool, r, before, after) -> None:
    if allowed:
        if not 200 <= r.status_code < 300:
            wrong.append(f"{what}: allowed by roles.yaml, got {r.status_code} {r.text[:200]}")
        return
    if r.status_code != 403 or r.json().get("code") != "forbidden":
        wrong.append(f"{what}: not allowed by roles.yaml, got {r.status_code} {r.text[:200]}")
    if before != after:
        changed = {k: (before[k], after[k]) for k in before if before[k] != after[k]}
        wrong.append(f"{what}: refused but changed {changed}")


def unclassified_routes(app) -> list[tuple[str, str]]:
    """API routes neither public, nor about oneself, nor in the matrix: a new route must be
    added to one of them."""
    public = {
        ("POST", "/api/v1/auth/login"),
        ("POST", "/api/v1/portal/code"),
        ("POST", "/api/v1/portal/login"),
        # No sign-in: signed by the message source (tests/channels/test_messages_in.py).
        ("POST", "/api/v1/channels/{source}/messages"),
        # No sign-in: signed by the operator (tests/appeals/test_exchange.py).
        ("POST", "/api/v1/appeals/operator-answers"),
    }
    # Routes every signed-in user may use about themselves or to read reference data.
    own_or_reference = {
        ("POST", "/api/v1/auth/logout"),
        ("GET", "/api/v1/auth/me"),
        ("POST", "/api/v1/auth/password"),
        ("POST", "/api/v1/tokens"),
        ("DELETE", "/api/v1/tokens/{token_id}"),
        ("GET", "/api/v1/roles"),
        ("GET", "/api/v1/reference"),
        ("GET", "/api/v1/deadline-rules"),
        ("GET", "/api/v1/sla-policies"),
        ("GET", "/api/v1/calendar/workdays"),
        ("GET", "/api/v1/calendar/years/{year}"),
        ("GET", "/api/v1/portal/complaints"),
        ("GET", "/api/v1/law/regulations"),
        ("GET", "/api/v1/law/article"),
        ("GET", "/api/v1/cases"),
        ("GET", "/api/v1/cases/{case_id}"),
        ("GET", "/api/v1/notices"),
        ("POST", "/api/v1/notices/read"),
        ("GET", "/api/v1/notices/prefs"),
        ("PUT", "/api/v1/notices/prefs"),
    }
    in_matrix = {(m, p) for _, m, p in OPERATIONS} | {
        ("POST", "/api/v1/complaints/{number}/transitions")
    }
    routes = {(m, path) for m, path in http_routes(app) if path.startswith("/api/v1/")}
    return sorted(routes - public - own_or_reference - in_matrix)


def test_each_role_may_do_exactly_what_roles_yaml_allows(rt, client, as_role):
    """The permission matrix: every role × every protected operation and lifecycle action.

    Every mismatch is listed (role, operation, answer), not only the first.
    """
    wrong: list[str] = [f"not in the matrix: {m} {p}" for m, p in unclassified_routes(client.app)]
    desks: dict[str | None, Desk] = {}
    teams.set_user(rt, "system", "t-supervisor", {"team": "frontline"})
    for role in ROLES:
        mine = perms(role)
        h = as_role(role, org_of(role))
        me = client.get("/api/v1/auth/me", headers=h).json()["username"]
        teams.set_user(rt, "system", me, {"team": "frontline"})
        # A reseller's complaints are those registered by its organisation. Complaints in
        # the same state are interchangeable: one that a refused request left as it was
        # serves the next role (or action) too.
        desk = desks.setdefault(org_of(role), Desk(client, h if org_of(role) else None))

        for name, _method, _path in OPERATIONS:
            allowed = bool(mine & NEEDS[name]) and not (name in ALL_SCOPE_ONLY and org_of(role))
            method, url, kwargs, key = _prepare(name, client, me, desk)
            before = None if allowed else snapshot(rt)
            r = client.request(method, url, headers=h, **kwargs)
            _judge(wrong, f"{role} {name}", allowed, r, before, None if allowed else snapshot(rt))
            if key and r.is_success:
                desk.spent(key)

        for action, (path, fields, params, status_after) in SCENES.items():
            allowed = bool(mine & set(ACTIONS[action]))
            key = repr((path, fields))
            number = desk.ready(key, path, **fields)
            if action == "merge":
                params = {"into": desk.ready("merge target")}
            before = None if allowed else snapshot(rt)
            r = client.post(
                f"/api/v1/complaints/{number}/transitions",
                json={"action": action, **params},
                headers=h,
            )
            _judge(wrong, f"{role} {action}", allowed, r, before, None if allowed else snapshot(rt))
            if r.is_success:
                desk.spent(key)
                if r.json()["status"] != status_after:
                    wrong.append(
                        f"{role} {action}: status {r.json()['status']}, not {status_after}"
                    )

    assert not wrong, "\n".join(wrong)


# -- the named facts, hard-coded ---------------------------------------------


def test_an_agent_cannot_approve_compensation(rt, client, as_role):
    assert "complaint.approve" not in perms("agent")
    agent = as_role("agent")
    desk = Desk(client)
    n = desk.new(PROPOSED_200)
    before = desk.get(n)
    for action, params in (("approve", {}), ("reject", {"note": "金额过高"})):
        r = client.post(
            f"/api/v1/complaints/{n}/transitions", json={"action": action, **params}, headers=agent
        )
        assert r.status_code == 403, r.text
        assert r.json()["code"] == "forbidden"
    # Answering is the agent's job, but not around the approval.
    r = client.post(
        f"/api/v1/complaints/{n}/transitions",
        json={"action": "reply", "resolution": "同意补偿200元"},
        headers=agent,
    )
    assert r.status_code == 409 and r.json()["code"] == "approval_required", r.text
    after = desk.get(n)
    assert (after["status"], after["compensation"], after["version"]) == (
        "proposed",
        "200.00",
        before["version"],
    )
    assert desk.act(n, "approve")["status"] == "approved"  # the supervisor may


def test_a_reseller_cannot_see_another_resellers_complaint(rt, client, as_role):
    ours, theirs = as_role("reseller", "代理商甲"), as_role("reseller", "代理商乙")
    a = Desk(client, ours).new(customer={"phone": "13800005555", "name": "李四"})
    b = Desk(client, theirs).new(customer={"phone": "13800006666"})
    events_before = client.get(f"/api/v1/complaints/{a}/events").json()["items"]

    attempts = {
        "get": ("GET", "/api/v1/complaints/{n}", {}),
        "events": ("GET", "/api/v1/complaints/{n}/events", {}),
        "likely duplicates": ("GET", "/api/v1/complaints/{n}/likely-duplicates", {}),
        "obligations": ("GET", "/api/v1/complaints/{n}/obligations", {}),
        "reply draft": ("POST", "/api/v1/complaints/{n}/reply-draft", {"json": {}}),
        "accept": ("POST", "/api/v1/complaints/{n}/transitions", {"json": {"action": "accept"}}),
        "personal data": (
            "POST",
            "/api/v1/complaints/{n}/personal-data",
            {"json": {"reason": "verify"}},
        ),
    }
    for what, (method, url, kwargs) in attempts.items():
        other = client.request(method, url.format(n=a), headers=theirs, **kwargs)
        missing = client.request(method, url.format(n=MISSING), headers=theirs, **kwargs)
        # Exactly as for a number that does not exist: nothing tells it is there.
        assert (other.status_code, other.json()["code"]) == (
            missing.status_code,
            missing.json()["code"],
        ), what
        assert other.status_code in (403, 404), what
        if what in ("get", "events", "likely duplicates", "accept", "obligations", "reply draft"):
            assert other.status_code == 404, f"{what}: {other.status_code} (must be 404, not 403)"
        assert "13800005555" not in other.text and "李四" not in other.text
        # Its own complaint: allowed (or refused for want of permission, never hidden).
        own = client.request(method, url.format(n=b), headers=theirs, **kwargs)
        assert own.status_code != 404, what

    def listed(headers, **params):
        r = client.get("/api/v1/complaints", params=params, headers=headers)
        assert r.status_code == 200, r.text
        return [c["number"] for c in r.json()["items"]]

    assert listed(theirs) == [b]
    assert listed(theirs, q=a) == []
    assert listed(theirs, customer_phone="13800005555") == []
    assert listed(theirs, status="registered", sort="due") == [b]
    assert listed(ours) == [a]
    assert set(listed({})) == {a, b}  # the supervisor sees both
    # The other reseller's attempts left no trace on the complaint.
    assert client.get(f"/api/v1/complaints/{a}/events").json()["items"] == events_before
    assert Desk(client).get(a)["status"] == "registered"


def test_a_reseller_reusing_another_resellers_idempotency_key_learns_nothing(client, as_role):
    """Keys are chosen by the caller (the README suggests call-DATE-SEQ): they collide."""
    ours, theirs = as_role("reseller", "代理商甲"), as_role("reseller", "代理商乙")
    key = {"Idempotency-Key": "call-20261128-0001"}
    r = client.post(
        "/api/v1/complaints",
        json=body(customer={"phone": "13800005555"}),
        headers={**ours, **key},
    )
    assert r.status_code == 201, r.text
    a = r.json()["number"]
    r = client.post(
        "/api/v1/complaints",
        json=body(customer={"phone": "13800006666"}),
        headers={**theirs, **key},
    )
    assert a not in r.text, f"the other organisation's complaint number leaks: {r.text}"


def test_an_auditor_changes_nothing_but_reads_the_audit_log(rt, client, as_role):
    auditor = as_role("auditor")
    desk = Desk(client)
    n = desk.new()
    closed = desk.new(CLOSED)
    held = desk.new()
    assert client.post(f"/api/v1/complaints/{held}/legal-hold", json={"reason": "诉讼"}).is_success
    other_token = client.post("/api/v1/tokens", json={"name": "other"}).json()["id"]
    users.create_user(rt, "test", "target-user", "agent", "password-123456")
    from kesu.channels import source_admin

    source_admin.create(rt, "test", "sms-gw", "sms")
    from tests.incidents.make import incident

    iid = incident(rt, drafted=True)
    from kesu.corrective import service as corrective

    action = corrective.open_action(rt, {**CORRECTIVE, "due_on": date(2026, 12, 31)}, "system")
    tx = f"/api/v1/complaints/{n}/transitions"
    # Every state-changing request there is, as the auditor (self-service on its own
    # account aside: signing out, its password, its own tokens).
    refused = [
        ("POST", "/api/v1/complaints", {"json": body()}),
        *[("POST", tx, {"json": {"action": a, **SCENES[a][2]}}) for a in ACTIONS],
        ("POST", tx, {"json": {"action": "merge", "into": closed}}),
        ("POST", "/api/v1/triage", {"json": {"text": "宽带断网"}}),
        ("POST", "/api/v1/cases", {"json": {"complaint": closed}}),
        ("POST", "/api/v1/law/reindex", {}),
        ("PUT", "/api/v1/calendar/years/2027", {"json": CALENDAR_2027}),
        ("POST", "/api/v1/users", {"json": {"username": "x-user", "role": "admin"}}),
        ("PATCH", "/api/v1/users/target-user", {"json": {"role": "admin"}}),
        ("PATCH", "/api/v1/users/target-user", {"json": {"active": False}}),
        ("PATCH", "/api/v1/users/target-user", {"json": {"email": "x@example.cn"}}),
        ("POST", "/api/v1/tokens", {"json": {"user": "target-user"}}),
        ("DELETE", f"/api/v1/tokens/{other_token}", {}),
        ("POST", f"/api/v1/complaints/{n}/legal-hold", {"json": {"reason": "诉讼"}}),
        ("DELETE", f"/api/v1/complaints/{held}/legal-hold", {}),
        ("POST", "/api/v1/retention/run", {"params": {"dry_run": "false"}}),
        ("POST", f"/api/v1/complaints/{n}/reply-draft", {"json": {}}),
        ("POST", "/api/v1/appeals", {"json": APPEAL}),
        ("POST", "/api/v1/appeals/SS20261128000001/transitions", {"json": {"action": "accept"}}),
        ("PUT", "/api/v1/appeal-operators/mobile", {"json": {"name": "某移动公司"}}),
        ("POST", "/api/v1/appeals/SS20261128000001/operator-record", {}),
        ("POST", "/api/v1/corrective-actions", {"json": {**CORRECTIVE, "complaint": n}}),
        ("POST", f"/api/v1/corrective-actions/{action}/progress", {"json": {"note": "进展"}}),
        ("POST", f"/api/v1/corrective-actions/{action}/transitions", {"json": {"action": "start"}}),
        ("POST", f"/api/v1/complaints/{n}/attachments", {"files": {"file": ("a.pdf", PDF)}}),
        ("POST", "/api/v1/complaints/bulk", {"json": {"numbers": [n], "action": "escalate"}}),
        (
            "POST",
            f"/api/v1/complaints/{n}/split",
            {"json": {"category": "other", "description": "另反映营业厅排队两小时无人办理。"}},
        ),
        (
            "POST",
            "/api/v1/sla-policies",
            {"json": {"rule": "ack_24h", "length": 5, "unit": "hours"}},
        ),
        ("PUT", "/api/v1/sla-policies/1", {"json": {"length": 5}}),
        ("DELETE", "/api/v1/sla-policies/1", {}),
        ("POST", "/api/v1/outbox/1/resend", {}),
        ("POST", "/api/v1/teams", {"json": {"code": "audit_team", "name": "审计组"}}),
        ("PATCH", "/api/v1/teams/billing", {"json": {"policy": "round_robin"}}),
        ("PUT", "/api/v1/teams/billing/members", {"json": {"members": ["target-user"]}}),
        ("PUT", "/api/v1/users/target-user/team", {"json": {"team": "billing"}}),
        (
            "POST",
            "/api/v1/webhooks",
            {"json": {"url": "https://h.example.cn", "events": ["closed"]}},
        ),
        ("PATCH", "/api/v1/webhooks/1", {"json": {"active": False}}),
        ("DELETE", "/api/v1/webhooks/1", {}),
        ("POST", "/api/v1/webhooks/1/test", {}),
        ("PUT", "/api/v1/notification-templates/closed", {"json": {"text": "已办结。"}}),
        (
            "POST",
            "/api/v1/referrals",
            {
                "json": {
                    "ref": "ZB-auditor",
                    "appeal_received_on": "2026-11-25",
                    "reply_due_on": "2026-12-05",
                    "appellant": {"phone": "13900005555"},
                    "issue": "申诉人反映被搭售流量包。",
                }
            },
        ),
        ("POST", "/api/v1/referrals/ZB-1/reply", {"json": {"handling": "x", "result": "y"}}),
        ("POST", "/api/v1/channel-sources", {"json": {"name": "audit-src", "kind": "sms"}}),
        ("PATCH", "/api/v1/channel-sources/sms-gw", {"json": {"active": False}}),
        ("DELETE", "/api/v1/channel-sources/sms-gw", {}),
        ("POST", "/api/v1/mail/held/1/register", {"json": {"phone": "13800001234"}}),
        ("POST", "/api/v1/mail/held/1/discard", {"json": {"reason": "垃圾邮件"}}),
        ("POST", "/api/v1/quality/reviews", {"json": {"complaint": closed, "marks": MARKS}}),
        ("POST", "/api/v1/quality/reviews/1/contest", {"json": {"reason": "不认可"}}),
        ("POST", "/api/v1/quality/reviews/1/decision", {"json": {"outcome": "rejected"}}),
        ("POST", "/api/v1/practice", {}),
        ("POST", "/api/v1/practice/1/answers", {"json": {"position": 1, "category": "billing"}}),
        ("POST", f"/api/v1/incidents/{iid}/message", {"json": {"text": "故障已修复。"}}),
        ("POST", f"/api/v1/incidents/{iid}/message/approve", {}),
        ("POST", f"/api/v1/incidents/{iid}/close", {"json": {"summary": "已处理。"}}),
    ]
    routes = {
        (m, path)
        for m, path in http_routes(client.app)
        if path.startswith("/api/v1/") and m in ("POST", "PUT", "PATCH", "DELETE")
    }
    self_service = {
        ("POST", "/api/v1/auth/login"),
        ("POST", "/api/v1/auth/logout"),
        ("POST", "/api/v1/auth/password"),
        ("POST", "/api/v1/portal/code"),
        ("POST", "/api/v1/portal/login"),
        ("POST", "/api/v1/notices/read"),
        ("PUT", "/api/v1/notices/prefs"),
    }
    # A read that is a POST: the audited "show" (pii.show).
    reads = {
        ("POST", "/api/v1/complaints/{number}/personal-data"),
        ("POST", "/api/v1/complaint-records"),  # what an appeal centre may learn
    }
    # No sign-in at all: a message source's signed request (tests/channels/test_messages_in).
    signed = {
        ("POST", "/api/v1/channels/{source}/messages"),
        ("POST", "/api/v1/appeals/operator-answers"),  # tests/appeals/test_exchange.py
    }
    tried = {(m, _template(u)) for m, u, _ in refused}
    others = self_service | reads | signed
    assert routes - others <= tried, sorted(routes - others - tried)

    client.get("/api/v1/law/regulations")  # the law index is built on first use, not by the auditor
    before = snapshot(rt)
    for method, url, kwargs in refused:
        r = client.request(method, url, headers=auditor, **kwargs)
        assert r.status_code == 403, f"{method} {url} {kwargs}: {r.status_code} {r.text}"
        assert r.json()["code"] == "forbidden"
    r = client.post(
        f"/api/v1/complaints/{n}/personal-data", json={"reason": "audit"}, headers=auditor
    )
    assert r.status_code == 200, r.text
    assert snapshot(rt) == before

    r = client.get("/api/v1/audit", params={"actor": "t-auditor"}, headers=auditor)
    assert r.status_code == 200, r.text
    assert [e["action"] for e in r.json()["items"]] == ["pii.show"]


def test_an_auditor_drafting_a_reply_leaves_no_trace_in_the_complaint(rt, client, as_role):
    """Drafting a reply records an event on the complaint, so it needs a handling
    permission; an auditor is refused and the complaint's history is unchanged."""
    n = Desk(client).new()
    before = client.get(f"/api/v1/complaints/{n}/events").json()["items"]
    r = client.post(f"/api/v1/complaints/{n}/reply-draft", json={}, headers=as_role("auditor"))
    assert r.status_code == 403, r.text
    after = client.get(f"/api/v1/complaints/{n}/events").json()["items"]
    assert after == before, f"the auditor added {[e['type'] for e in after[len(before) :]]}"


APPEAL = {
    "appellant": {
        "name": "王五",
        "phone": "13900006666",
        "address": "某市某路",
        "postcode": "100000",
    },
    "operator": "mobile",
    "request": "退还多收的费用",
    "facts": "十月账单多收了二十元，投诉后企业答复不退。",
    "dispute": "fee",
    "occurred_at": "2026-10-01",
    "complained_at": "2026-10-20",
    "operator_answered_at": "2026-10-25",
}


CORRECTIVE = {
    "title": "计费整改",
    "description": "修复套餐变更的计费规则",
    "owner": "t-supervisor",  # nobody else's own: the others need corrective.manage
    "due_on": "2026-12-31",
    "group": {"category": "billing"},
}


def _corrective(name: str, client) -> tuple[str, str, dict, str | None]:
    """Corrective actions' operations, on an action opened by the system for t-supervisor."""
    from kesu.corrective import service

    rt = client.app.state.runtime
    if name == "corrective open":
        return "POST", "/api/v1/corrective-actions", {"json": CORRECTIVE}, None
    if name == "corrective actions":
        return "GET", "/api/v1/corrective-actions", {"params": {"overdue": "false"}}, None
    action_id = service.open_action(rt, {**CORRECTIVE, "due_on": date(2026, 12, 31)}, "system")
    url = f"/api/v1/corrective-actions/{action_id}"
    if name == "corrective action":
        return "GET", url, {}, None
    if name == "corrective progress":
        return "POST", url + "/progress", {"json": {"note": "已排查"}}, None
    return "POST", url + "/transitions", {"json": {"action": "start"}}, None


def _appeal(name: str, client) -> tuple[str, str, dict, str | None]:
    """The appeal centre's operations, on an appeal registered by the system."""
    from kesu.appeals import operators, service
    from kesu.appeals.schemas import AppealIn

    rt = client.app.state.runtime
    operators.save(rt, "test", "mobile", "某移动公司")
    if name == "appeal receive":
        return "POST", "/api/v1/appeals", {"json": APPEAL}, None
    if name == "appeals":
        return "GET", "/api/v1/appeals", {}, None
    if name == "appeal operators":
        return "GET", "/api/v1/appeal-operators", {}, None
    if name == "appeal operator save":
        return "PUT", "/api/v1/appeal-operators/unicom", {"json": {"name": "某联通公司"}}, None
    if name.startswith("appeal statistics"):
        path = "/api/v1/reports/appeals" + (".xlsx" if name.endswith("export") else "")
        return "GET", path, {"params": {"from": "2026-10-01", "to": "2026-12-31"}}, None
    incomplete = {**APPEAL, "appellant": {**APPEAL["appellant"], "postcode": None}}
    view, _ = service.receive(rt, AppealIn.model_validate(incomplete), "test")
    number = view["number"]
    if name == "appeal referral letter":
        return "GET", f"/api/v1/appeals/{number}/referral-letter", {}, None
    if name == "appeal operator record":  # an operator whose kesu answers with a record
        url = _record_server() + "/api/v1/referrals"
        operators.save(rt, "test", "telecom", "某电信公司", None, None, url, "s" * 32)
        connected = {**APPEAL, "operator": "telecom"}
        number = service.receive(rt, AppealIn.model_validate(connected), "test")[0]["number"]
        return "POST", f"/api/v1/appeals/{number}/operator-record", {}, None
    if name == "appeal":
        return "GET", f"/api/v1/appeals/{number}", {}, None
    step = {"action": "supplement", "params": {"appellant.postcode": "100001"}}
    return "POST", f"/api/v1/appeals/{number}/transitions", {"json": step}, None


RECORD_QUERY = {"source": "gd-centre", "phone": "13900005555", "appeal": "SS20261128000001"}
_RECORD_SERVER: list[str] = []


def _record_server() -> str:
    """A real HTTP server answering as an operator's kesu with an empty complaint record
    (POST …/complaint-records), started once."""
    if not _RECORD_SERVER:
        import json
        import threading
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                self.rfile.read(int(self.headers["Content-Length"]))
                body = json.dumps({"since": "2024-11-28", "complaints": []}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args) -> None:
                pass

        server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        server.daemon_threads = True
        threading.Thread(target=server.serve_forever, daemon=True).start()
        _RECORD_SERVER.append(f"http://127.0.0.1:{server.server_port}")
    return _RECORD_SERVER[0]


# The path parameter that follows each collection of the API (/api/v1/<collection>/{…}).
_PARAMS = {
    "tokens": "{token_id}",
    "users": "{username}",
    "sla-policies": "{policy_id}",
    "outbox": "{message_id}",
    "teams": "{code}",
    "webhooks": "{webhook_id}",
    "notification-templates": "{key}",
    "referrals": "{ref}",
    "channel-sources": "{source}",
    "appeals": "{number}",
    "appeal-operators": "{code}",
    "practice": "{round_id}",
    "incidents": "{incident_id}",
    "corrective-actions": "{action_id}",
}


def _template(url: str) -> str:
    """/api/v1/complaints/TS…/transitions → /api/v1/complaints/{number}/transitions."""
    parts = url.split("/")
    if len(parts) > 4 and parts[3] == "complaints" and parts[4] not in ("bulk",):
        parts[4] = "{number}"
    if len(parts) > 4 and parts[3] in _PARAMS:
        parts[4] = _PARAMS[parts[3]]
    if len(parts) > 5 and parts[3] == "calendar":
        parts[5] = "{year}"
    if len(parts) > 5 and parts[3:5] == ["mail", "held"]:
        parts[5] = "{mail_id}"
    if len(parts) > 5 and parts[3:5] == ["quality", "reviews"]:
        parts[5] = "{review_id}"
    return "/".join(parts)


def test_only_admins_change_calendars_reindex_and_manage_users(rt, client, as_role):
    for permission in ("calendar.manage", "law.reindex", "users.manage"):
        assert {r for r in ROLES if permission in perms(r)} == {"admin"}, permission
    users.create_user(rt, "test", "target-user", "agent", "password-123456")
    target_token = tokens.create_token(rt, "test", "target-user", "phone")[1]["id"]
    for role in ROLES:
        h = as_role(role, org_of(role))
        admin = role == "admin"
        # Others try what the snapshot would show (a colleague made admin, disabled);
        # the admin changes the role to one that the later attempts can still change.
        change = {"role": "quality"} if admin else {"role": "admin"}
        attempts = [
            ("PUT", "/api/v1/calendar/years/2027", {"json": CALENDAR_2027}),
            ("POST", "/api/v1/law/reindex", {}),
            ("GET", "/api/v1/users", {}),
            (
                "POST",
                "/api/v1/users",
                {"json": {"username": f"made-by-{role}", "role": "agent"}},
            ),
            ("PATCH", "/api/v1/users/target-user", {"json": change}),
            ("PATCH", "/api/v1/users/target-user", {"json": {"active": admin}}),
            ("POST", "/api/v1/tokens", {"json": {"user": "target-user", "name": role}}),
            ("DELETE", f"/api/v1/tokens/{target_token}", {}),
        ]
        before = snapshot(rt)
        for method, url, kwargs in attempts:
            r = client.request(method, url, headers=h, **kwargs)
            if admin:
                assert r.is_success, f"admin {method} {url}: {r.status_code} {r.text}"
            else:
                assert r.status_code == 403, f"{role} {method} {url}: {r.status_code} {r.text}"
                assert r.json()["code"] == "forbidden"
        if not admin:
            assert snapshot(rt) == before, role
