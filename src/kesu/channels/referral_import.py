"""The administration's referral list (xlsx) imported: every row checked first, each
good row received like `POST /api/v1/referrals` (idempotent by its reference, so a list
imported again creates nothing new), each bad row reported with its problem in Chinese
and nothing of it written. `kesu referrals import FILE` and the referrals page use it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

from kesu.accounts.roles import Actor, as_principal, require
from kesu.channels import referrals
from kesu.channels.referral_in import HEADERS, ListError, ReferralIn, read_list
from kesu.problems import Problem, field_error

if TYPE_CHECKING:
    from kesu.runtime import Runtime


def import_list(
    rt: Runtime,
    content: bytes,
    actor: Actor,
    source: str | None = None,
    dry_run: bool = False,
    progress: Callable[[int, int], None] | None = None,
) -> dict[str, Any]:
    """{rows, created, existing, errors: [{row, ref, field, detail}], ignored_columns}."""
    p = as_principal(actor)
    require(p, "complaint.register")
    try:
        rows, ignored = read_list(content)
    except ListError as e:
        raise Problem(422, "invalid_referral_list", "Invalid referral list", str(e)) from None
    good: list[tuple[int, ReferralIn]] = []
    errors: list[dict[str, Any]] = []
    for n, body in rows:
        if source and not body.get("source"):
            body["source"] = source
        try:
            good.append((n, ReferralIn.model_validate(body)))
        except ValidationError as err:
            for e in err.errors():
                errors.append({"row": n, "ref": body.get("ref"), **_column(field_error(e))})  # type: ignore[arg-type]
    report: dict[str, Any] = {
        "rows": len(rows),
        "created": [],
        "existing": [],
        "errors": errors,
        "ignored_columns": ignored,
        "dry_run": dry_run,
    }
    if dry_run:
        report["valid"] = len(good)
        return report
    for i, (n, ref) in enumerate(good, start=1):
        try:
            made, created = referrals.receive(rt, ref, p)
        except Problem as e:  # refused as a whole (a date in the future, an unknown source)
            errors.append(
                {"row": n, "ref": ref.ref, "field": "", "code": e.code, "detail": e.detail}
            )
        else:
            entry = {"row": n, "ref": ref.ref, "complaint": made["complaint_number"]}
            report["created" if created else "existing"].append(entry)
        if progress is not None:
            progress(i, len(good))
    errors.sort(key=lambda e: e["row"])
    return report


# The list's own names for the fields, so a report names the column to correct.
_COLUMNS = {".".join(where): header for header, where in reversed(HEADERS.items())}


def _column(error: dict[str, str]) -> dict[str, str]:
    name = _COLUMNS.get(error["field"])
    if name is None:
        return error
    return {**error, "field": name, "detail": error["detail"].replace(error["field"], name)}


def summary(report: dict[str, Any]) -> str:
    """The report in one Chinese sentence (the CLI's last line, the page's heading)."""
    bad = len({e["row"] for e in report["errors"]})
    if report.get("dry_run"):
        return (
            f"共 {report['rows']} 行：{report['valid']} 行可导入，{bad} 行有误（试运行，未写入）。"
        )
    return (
        f"共 {report['rows']} 行：新登记 {len(report['created'])} 件，"
        f"已登记过 {len(report['existing'])} 件，{bad} 行有误未导入。"
    )
