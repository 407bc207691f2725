"""Corrections as training data: complaints whose category a person corrected.

The texts leave kesu masked (personal numbers struck) and the export is audited.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from kesu.accounts import masking
from kesu.accounts.audit import audit
from kesu.accounts.roles import Actor, as_principal, require
from kesu.complaints import lookups
from kesu.store.db import write

if TYPE_CHECKING:
    from kesu.runtime import Runtime


def corrections(rt: Runtime, actor: Actor = "system") -> list[dict[str, Any]]:
    """(number, text, category, kind) of every re-categorised complaint in the caller's scope."""
    p = as_principal(actor)
    require(p, "complaint.read")
    with write(rt.engine) as conn:
        rows = lookups.recategorized(conn, p)
        audit(
            conn,
            p,
            rt.clock(),
            "export",
            None,
            None,
            {"what": "triage corrections", "rows": len(rows)},
        )
    return [
        {
            "number": r.number,
            "text": masking.text("\n".join(x for x in (r.title, r.description) if x)),
            "category": r.category,
            "kind": r.kind if r.kind != "appeal" else "complaint",
        }
        for r in rows
    ]
