"""Likely duplicates across channels, shown on a complaint (its page and its API view),
and the one click that merges one: the same customer raising the same matter by two
channels within the window (complaints.lookups.likely_duplicates decides which). Nothing
is merged without a person asking; the merge is the lifecycle's `merge` action (the
later complaint merged into the earlier one), with its permission, checks and audit."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from kesu.accounts.roles import Actor, as_principal, require
from kesu.complaints import lookups, transitions
from kesu.complaints import vocabulary as vocab
from kesu.complaints.queries import load_visible
from kesu.problems import Problem
from kesu.store.db import read

if TYPE_CHECKING:
    from kesu.runtime import Runtime


def of(rt: Runtime, number: str, actor: Actor) -> list[dict[str, Any]]:
    """The likely duplicates of one complaint the caller may see (an empty list if none);
    a staff matter: a customer reading their complaint is shown none."""
    p = as_principal(actor)
    if p.kind == "customer":
        return []
    require(p, "complaint.read")
    with read(rt.engine) as conn:
        return lookups.likely_duplicates(rt, conn, load_visible(conn, number, p), p)


def merge(rt: Runtime, number: str, other: str, actor: Actor) -> dict[str, str]:
    """Merge `other`, a likely duplicate of `number`, and `number`: the later received
    into the earlier (`merge` action, its permission and audit). Returns which was kept
    and which merged."""
    p = as_principal(actor)
    require(p, "complaint.read")
    with read(rt.engine) as conn:
        row = load_visible(conn, number, p)
        found = [d for d in lookups.likely_duplicates(rt, conn, row, p) if d["number"] == other]
    if not found:
        raise Problem(
            409,
            "not_a_duplicate",
            "Not a likely duplicate",
            f"投诉单“{other[:20]}”现在不是本单的疑似重复（可能已合并、已结束或不在时间窗口内），"
            "请刷新页面后再看。",
        )
    d = found[0]
    names = "、".join(vocab.CHANNELS[c]["name"] for c in (row.channel, d["channel"]))
    note = f"跨渠道疑似重复（{names}），合并到 {d['keep']}。"
    transitions.transition(rt, d["merge"], "merge", {"into": d["keep"], "note": note}, p)
    return {"kept": d["keep"], "merged": d["merge"]}
