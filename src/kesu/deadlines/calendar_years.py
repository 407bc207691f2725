"""Loading an operator's calendar year: store it, audit it, and move every unmet
deadline the new working days change (and the complaints' next due times with them).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlalchemy import select, update

from kesu.accounts.audit import audit
from kesu.accounts.roles import Actor, as_principal, require
from kesu.complaints.transitions import set_next_due
from kesu.deadlines import calendar_store
from kesu.deadlines import service as deadlines
from kesu.store import tables as t
from kesu.store.db import write

if TYPE_CHECKING:
    from kesu.deadlines.calendar import YearOverride
    from kesu.runtime import Runtime

Y = t.calendar_years.c


def load_year(rt: Runtime, override: YearOverride, actor: Actor) -> dict[str, Any]:
    """Store a year's calendar and recompute the unmet deadlines it changes."""
    p = as_principal(actor)
    require(p, "calendar.manage")
    now = rt.clock()
    with write(rt.engine) as conn:
        existing = conn.execute(select(t.calendar_years).where(Y.year == override.year)).first()
        values = {
            "official": override.official,
            "source": override.source,
            "data": {k: v for k, v in override.as_json().items() if k in ("holidays", "workdays")},
            "loaded_at": now,
            "loaded_by": p.name,
        }
        if existing is None:
            conn.execute(t.calendar_years.insert().values(year=override.year, **values))
        else:
            conn.execute(update(t.calendar_years).where(Y.year == override.year).values(**values))
        audit(
            conn,
            p,
            now,
            "calendar.load",
            "calendar",
            str(override.year),
            {
                "official": override.official,
                "source": override.source,
                "before": None if existing is None else dict(existing.data),
            },
        )
        calendar = calendar_store.build_calendar(rt.engine, conn)
        touched = deadlines.recompute(conn, rt, calendar)
        set_next_due(conn, touched)
    rt.invalidate_calendar()
    return {
        "year": override.year,
        "official": override.official,
        "calendar_version": calendar.version,
        "complaints_recomputed": len(touched),
    }
