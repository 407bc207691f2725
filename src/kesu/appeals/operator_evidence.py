"""The operator's own complaint record as evidence for 电信用户申诉处理办法 第十条（四）
(pure).

A connected operator's kesu answers the centre's signed question (its
`POST /api/v1/complaint-records`, channels.record_query) with the appellant's complaints
there: number, kind, category, status and the days received, answered, closed. `parse`
takes that answer (or refuses a malformed one); `weigh` adds what it shows to the
condition the appellant's own dates decided (appeals.conditions `_complained`):

- the appellant gave no complaint date, but the record holds a complaint received before
  the appeal: not a case for 第十三条 before the officer has looked — the item is open
  (待核实) and names the complaints;
- the appellant gave a date and the record holds a complaint received within
  `record_match_days` days of it (data/appeals/policy.yaml): the record agrees, and it
  is named; when the appellant gave no answer date and
  the record shows the operator answered on or before the appeal's receipt, the user
  appeals against an answer (对处理结果不满意), which meets the condition;
- the appellant gave a date the record does not bear out: the item is open, with what
  the record holds.

Whether a complaint in the record is about the same matter only the officer can say (the
record carries no text): an item the record changes is left to the officer unless the
record's dates alone decide it (an answer before the appeal).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from functools import cache
from typing import Any

from kesu.appeals.civil_periods import chinese_date
from kesu.data_files import load_yaml


@cache
def near_days() -> int:
    """Days between the stated complaint date and a complaint in the record for the two
    to be the same (data/appeals/policy.yaml `record_match_days`: centre policy)."""
    return int(load_yaml("appeals/policy.yaml")["policy"]["record_match_days"])


_FIELDS = ("number", "kind", "category", "status", "received_on", "answered_on", "closed_on")


def record_url(referral_url: str) -> str:
    """The operator's complaint-record URL, next to its referral URL
    (…/api/v1/referrals → …/api/v1/complaint-records)."""
    base = referral_url.split("?", 1)[0].rstrip("/")
    return base.rsplit("/", 1)[0] + "/complaint-records"


class BadRecord(ValueError):
    """The operator's answer is not a complaint record."""


def _date(value: Any, field: str) -> str | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(str(value)).isoformat()
    except ValueError:
        raise BadRecord(f"投诉记录中的{field}“{str(value)[:20]}”不是日期。") from None


def parse(data: Any, fetched_at: str, operator: str) -> dict[str, Any]:
    """The record as the appeal keeps it, or BadRecord (in Chinese)."""
    if not isinstance(data, dict) or not isinstance(data.get("complaints"), list):
        raise BadRecord("被申诉企业的应答不是投诉记录（缺少 complaints 列表）。")
    found = []
    for item in data["complaints"][:200]:
        if not isinstance(item, dict) or not isinstance(item.get("number"), str):
            raise BadRecord("投诉记录中有一条没有投诉编号。")
        one = {k: (str(item[k])[:40] if item.get(k) is not None else None) for k in _FIELDS}
        for k in ("received_on", "answered_on", "closed_on"):
            one[k] = _date(item.get(k), k)
        if one["received_on"] is None:
            raise BadRecord(f"投诉记录中的“{one['number']}”没有受理日期。")
        found.append(one)
    return {
        "operator": operator,
        "fetched_at": fetched_at,
        "since": _date(data.get("since"), "since"),
        "limited": bool(data.get("limited")),
        "complaints": found,
    }


def _day(value: str | None) -> date | None:
    return None if value is None else date.fromisoformat(value)


def _received(c: Mapping[str, Any]) -> date:
    return date.fromisoformat(c["received_on"])  # parse() refuses a complaint without it


def _named(c: Mapping[str, Any]) -> str:
    said = f"{c['number']}（{chinese_date(_received(c))}受理"
    answered = _day(c.get("answered_on"))
    said += f"，{chinese_date(answered)}答复）" if answered else "，未答复）"
    return said


def _source(record: Mapping[str, Any]) -> str:
    fetched = str(record.get("fetched_at") or "")[:10]
    return f"（被申诉企业的投诉记录，查询于{fetched}）" if fetched else "（被申诉企业的投诉记录）"


def weigh(
    entry: dict[str, Any],
    appeal: Mapping[str, Any],
    record: Mapping[str, Any] | None,
    received: date,
) -> dict[str, Any]:
    """`entry` (第十条（四）, decided from the appellant's dates) with the record's evidence."""
    before = [c for c in (record or {}).get("complaints") or () if _received(c) <= received]
    tag = _source(record) if record else ""
    out = {**entry, "operator_record": [c["number"] for c in before]} if record else dict(entry)
    verified = (appeal.get("declared") or {}).get("complaint_verified")
    if verified is not None and not isinstance(verified, bool):
        raise ValueError(
            f"declared.complaint_verified must be true, false or null, not {verified!r}"
        )
    if verified is False:
        out.update(
            met=False,
            redirect=True,
            decides="officer",
            evidence=(
                "受理人员核实：申诉人未就申诉事项向被申诉人投诉。依第十三条第二款，应告知申诉人"
                f"先向电信业务经营者投诉。{tag}"
            ),
        )
        return out
    if not record:
        return entry
    complained = appeal.get("complained_at")
    if complained is None:
        if not before:
            none = "被申诉企业的记录中也没有该号码在申诉前的投诉"
            out["evidence"] = f"{entry['evidence']}{none}{tag}。"
            return out
        out["redirect"] = False
        listed = "、".join(_named(c) for c in before[-3:])
        out.update(
            met=None,
            decides="officer",
            evidence=(
                f"需受理人员核实：申诉人未填写向被申诉人投诉的日期，但被申诉企业的记录显示该号码"
                f"在申诉前投诉过：{listed}{tag}。如为同一事项，请补填投诉日期；"
                "如不是，请确认申诉人未就申诉事项投诉。"
            ),
        )
        return out
    near = [c for c in before if abs((_received(c) - complained).days) <= near_days()]
    if not near:
        held = "、".join(_named(c) for c in before[-3:]) if before else "无申诉前的投诉"
        if verified:
            out["evidence"] = (
                f"{entry['evidence']}被申诉企业的记录中没有该号码在{chinese_date(complained)}"
                f"前后{near_days()}日内的投诉（记录：{held}）{tag}；受理人员已核实申诉人确曾投诉。"
            )
            out["decides"] = "officer"
            return out
        out.update(
            met=None if entry["met"] is not False else False,
            decides="officer" if entry["met"] is not False else entry.get("decides"),
            evidence=(
                f"{entry['evidence']}但被申诉企业的记录中没有该号码在"
                f"{chinese_date(complained)}前后{near_days()}日内的投诉（记录：{held}）{tag}，需核实。"
            ),
        )
        return out
    match = min(near, key=lambda c: abs((_received(c) - complained).days))
    answered = _day(match.get("answered_on"))
    agrees = f"被申诉企业的记录相符：{_named(match)}{tag}。"
    if (
        entry["met"] is False
        and appeal.get("operator_answered_at") is None
        and answered is not None
        and answered <= received
    ):
        out.update(
            met=True,
            evidence=(
                f"申诉人于{chinese_date(complained)}向被申诉人投诉，被申诉人于"
                f"{chinese_date(answered)}答复，申诉人对处理结果不满意而提出申诉。{agrees}"
            ),
        )
        return out
    out["evidence"] = f"{entry['evidence']}{agrees}"
    return out
