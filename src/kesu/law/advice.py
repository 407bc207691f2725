"""What the law says about one complaint: the obligations that apply, and a reply draft.

Obligations: the rules of data/law/obligations.yaml evaluated over the
complaint's facts (law/obligations.py), each with its articles quoted and its
duties linked to the complaint's deadlines. Reply drafts: the templates of
data/law/replies.yaml filled from the complaint and the handler's decision
(law/replies.py), recorded as an event on the complaint.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from kesu.accounts import masking
from kesu.accounts.roles import Actor, as_principal, require, require_any
from kesu.clock import BEIJING
from kesu.complaints.events import record_event
from kesu.law import obligations as ob
from kesu.law import replies
from kesu.law.citations import CitationError
from kesu.law.complaint_facts import complaint_facts
from kesu.law.index_store import state
from kesu.problems import Problem
from kesu.store.db import read, write

if TYPE_CHECKING:
    from kesu.runtime import Runtime


# -- obligations ----------------------------------------------------------------


def obligations(rt: Runtime, number: str, actor: Actor = "system") -> dict[str, Any]:
    p = as_principal(actor)
    require(p, "law.read")
    st = state(rt)
    with read(rt.engine) as conn:
        found = complaint_facts(conn, number, p)
    facts, due = found.facts, found.deadlines
    applied = ob.evaluate(st.obligations, facts)
    now = rt.clock()
    items = []
    for a in applied:
        rule = a.rule
        duties = []
        for duty in rule.duties:
            linked = []
            for rid in duty.get("deadline_rules", []):
                r = rt.rules.get(rid)
                d = due.get(rid)
                linked.append(
                    {
                        "rule": rid,
                        "name": r.name if r else rid,
                        "on_this_complaint": d is not None,
                        "due_at": d.due_at.astimezone(BEIJING).isoformat()
                        if d is not None
                        else None,
                        "state": None if d is None else _deadline_state(d, now),
                    }
                )
            duties.append({"text": duty["text"], "deadlines": linked})
        reason = rule.reason
        if a.evidence:
            reason += "（" + "；".join(a.evidence) + "）"
        items.append(
            {
                "id": rule.id,
                "title": rule.title,
                "reason": reason,
                "evidence": list(a.evidence),
                "risk": rule.risk,
                "risk_name": ob.RISK_NAMES[rule.risk],
                "articles": [st.corpus.quote(c) for c in rule.articles],
                "duties": duties,
                "remedies": list(rule.remedies),
            }
        )
    level = ob.legal_risk(applied, facts.flags)
    reasons = _past_statutory(rt, due, now)
    if reasons:
        level = "high"
    return {
        "number": number,
        "legal_risk": level,
        "legal_risk_name": ob.RISK_NAMES[level],
        "legal_risk_reasons": reasons,
        "obligations": items,
    }


def _past_statutory(rt: Runtime, due: Mapping[str, Any], now: datetime) -> list[str]:
    """Why the complaint is at high legal risk: each statutory limit it is past."""
    out = []
    for rid, d in due.items():
        if not d.statutory or not (d.breached or (d.met_at is None and d.due_at < now)):
            continue
        r = rt.rules.get(rid)
        cited = "、".join(b.citation for b in r.basis if not b.policy) if r else rid
        when = d.due_at.astimezone(BEIJING).strftime("%Y-%m-%d %H:%M")
        out.append(f"已超过法定时限“{d.name}”（{cited}），应于 {when} 前完成。")
    return out


def _deadline_state(d, now: datetime) -> str:
    if d.met_at is not None:
        return "met"
    if d.breached or d.due_at < now:
        return "breached"
    return "open"


# -- reply drafts -------------------------------------------------------------------


def _salutation(name: str | None) -> str:
    return "客户"


def reply_draft(rt: Runtime, number: str, body: Mapping[str, Any], actor: Actor) -> dict[str, Any]:
    p = as_principal(actor)
    st = state(rt)
    extra = tuple(body.get("citations") or ())
    for c in extra:
        try:
            st.corpus.resolve(c)
        except CitationError as err:
            raise Problem(
                422,
                f"citation_{err.code}",
                "Citation not held",
                f"{err}。草稿只引用系统已收录原文的条文。",
            ) from None
    now = rt.clock()
    with write(rt.engine) as conn:
        row = complaint_facts(conn, number, p).row  # out of scope: 404 before anything else
        # Drafting a reply is part of handling (it is recorded on the complaint).
        require_any(p, ["complaint.handle", "complaint.answer"], "起草答复函")
        outcome = body.get("outcome") or ("upheld" if row.compensation else "explained")
        remedy = masking.text(body.get("remedy") or "") or ""
        if not remedy and row.compensation:
            remedy = f"给予您补偿 {Decimal(row.compensation):.2f} 元。"
        findings = masking.text(body.get("findings") or row.resolution or "") or ""
        problem = masking.text((row.description or "").strip()) or ""
        if len(problem) > 300:
            problem = problem[:300] + "……"
        draft = replies.render(
            st.templates,
            st.corpus,
            replies.DraftInput(
                number=row.number,
                category=row.category,
                outcome=outcome,
                customer=body.get("salutation") or _salutation(row.customer_name),
                received_date=_cn_date(row.received_at),
                problem=problem,
                demands=masking.text((row.demands or "").strip()) or "",
                findings=findings,
                remedy=remedy,
                company=rt.settings.company_name,
                hotline=rt.settings.hotline,
                extra_citations=extra,
                province=row.customer_province,
            ),
        )
        record_event(
            conn,
            row,
            now,
            "reply_drafted",
            p.name,
            {
                "template": draft["template"],
                "outcome": outcome,
                "citations": [c["citation"] for c in draft["citations"]],
            },
        )
    draft["number"] = number
    return draft


def _cn_date(value: datetime) -> str:
    d = value.astimezone(BEIJING)
    return f"{d.year}年{d.month}月{d.day}日"
