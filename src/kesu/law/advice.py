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
from kesu.complaints import lookups
from kesu.complaints import vocabulary as vocab
from kesu.complaints.events import record_event
from kesu.law import obligations as ob
from kesu.law import replies
from kesu.law.citations import CitationError
from kesu.law.complaint_facts import complaint_facts
from kesu.law.index_store import state
from kesu.law.restate import restate
from kesu.problems import Problem
from kesu.store.db import read, write
from kesu.triage.signals import detect

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
    kind = body.get("remedy_kind")
    if kind is not None and kind not in vocab.REMEDY_KINDS:
        raise Problem(
            422,
            "unknown_remedy_kind",
            "Unknown remedy kind",
            f"未知的补救方式“{kind}”（退费/减免/赔偿/补偿）。",
        )
    now = rt.clock()
    with write(rt.engine) as conn:
        row = complaint_facts(conn, number, p).row  # out of scope: 404 before anything else
        # Drafting a reply is part of handling (it is recorded on the complaint).
        require_any(p, ["complaint.handle", "complaint.answer"], "起草答复函")
        outcome = body.get("outcome") or ("upheld" if row.compensation else "explained")
        remedy = masking.text(body.get("remedy") or "") or ""
        remedy_kind = kind or lookups.remedy_kind(conn, row.id)
        amount = f"{Decimal(row.compensation):.2f}" if row.compensation else None
        findings = masking.text(body.get("findings") or row.resolution or "") or ""
        draft = replies.render(
            st.templates,
            st.corpus,
            replies.DraftInput(
                number=row.number,
                category=row.category,
                outcome=outcome,
                customer=body.get("salutation") or _salutation(row.customer_name),
                received_date=_cn_date(row.received_at),
                problem=_problem(row),
                demands=masking.text(restate(row.demands or "", _threat, 100)) or "",
                findings=findings,
                remedy=remedy,
                remedy_kind=remedy_kind,
                amount=amount,
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
                "remedy_kind": remedy_kind,
                "citations": [c["citation"] for c in draft["citations"]],
            },
        )
    draft["number"] = number
    return draft


# Risk signals that make a clause a threat or an outburst, not a fact to restate.
_THREATS = frozenset({"media", "regulator", "legal", "emotion"})


def _threat(clause: str) -> bool:
    codes = {s.code for s in detect(clause)}
    # "要求三倍赔偿" is the customer's demand (restated); "否则就起诉" is a threat (left out).
    if codes == {"legal"} and clause.lstrip().startswith("要求"):
        return False
    return bool(codes & _THREATS)


def _problem(row) -> str:
    """The customer's statement restated to them; the category when nothing is left."""
    said = restate(row.description or "", _threat)
    if said:
        return masking.text("您反映，" + said) or ""
    name = vocab.CATEGORIES.get(row.category or "", {}).get("name") or "相关业务"
    return f"您反映了{name}方面的问题。"


def _cn_date(value: datetime) -> str:
    d = value.astimezone(BEIJING)
    return f"{d.year}年{d.month}月{d.day}日"
