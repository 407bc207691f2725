"""One lifecycle action on several complaints: each complaint is its own transition.

`run` applies the action to each number through `transitions.transition` (its own write
transaction: scope, permission, lifecycle guards, version, event and audit), so a refusal
changes nothing for that complaint and does not undo the others. The answer lists, per
number, `done` with the new version, or `failed` with the problem (the code, Chinese
detail and status the single-complaint API would have answered). One more audit entry
records the bulk request itself (who, the action, how many done and failed).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from kesu.accounts.audit import audit
from kesu.accounts.roles import Actor, action_permissions, as_principal, require, require_any
from kesu.complaints import lifecycle, transitions
from kesu.complaints.queries import scope_conditions
from kesu.problems import Problem, not_found
from kesu.store import tables as t
from kesu.store.db import read, write

if TYPE_CHECKING:
    from kesu.runtime import Runtime

C = t.complaints.c


def _failed(number: str, problem: Problem) -> dict[str, Any]:
    return {
        "number": number,
        "status": "failed",
        "problem": {"code": problem.code, "detail": problem.detail, "status": problem.status},
    }


def run(
    rt: Runtime,
    numbers: Sequence[str],
    action: str,
    params: Mapping[str, Any],
    actor: Actor,
    note: str | None = None,
) -> dict[str, Any]:
    """Apply `action` to each complaint in `numbers`; per-number results and a summary."""
    p = as_principal(actor)
    require(p, "complaint.read")
    if action not in lifecycle.ACTIONS:
        raise Problem(
            422,
            "unknown_action",
            "Unknown action",
            f"未知的操作“{action}”，可选：{'、'.join(lifecycle.ACTIONS)}",
        )
    # Nobody who may not take the action at all gets 500 refusals: one 403, nothing done.
    require_any(p, action_permissions(action), f"投诉单操作“{action}”")
    params = dict(params)
    if note and not params.get("note"):
        params["note"] = note
    with read(rt.engine) as conn:
        # Numbers that do not exist, or that the caller may not see, are refused without
        # opening a write transaction (and read as "not found" alike, so none leak).
        known = set(
            conn.execute(
                select(C.number).where(C.number.in_(list(numbers)), *scope_conditions(p))
            ).scalars()
        )
    results: list[dict[str, Any]] = []
    for number in numbers:
        if number not in known:
            results.append(_failed(number, not_found("投诉单", number)))
            continue
        try:
            after = transitions.transition(rt, number, action, params, p)
        except Problem as problem:
            results.append(_failed(number, problem))
            continue
        results.append(
            {
                "number": number,
                "status": "done",
                "version": after["version"],
                "complaint_status": after["status"],
            }
        )
    done = sum(1 for r in results if r["status"] == "done")
    summary = {"total": len(results), "done": done, "failed": len(results) - done}
    with write(rt.engine) as conn:
        audit(
            conn,
            p,
            rt.clock(),
            "complaint.bulk",
            "complaint",
            None,
            {
                "action": action,
                **summary,
                "done_numbers": [r["number"] for r in results if r["status"] == "done"],
                "failed_numbers": {
                    r["number"]: r["problem"]["code"] for r in results if r["status"] == "failed"
                },
            },
        )
    return {"action": action, "results": results, "summary": summary}
