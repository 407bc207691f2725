"""Read-only look-ups the admin pages need and no service offers.

Only one so far: who loaded each operator calendar year, and when. The calendar
itself (WorkCalendar, overrides) comes from the runtime like everywhere else.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from kesu.clock import to_beijing
from kesu.store import tables as t
from kesu.store.db import read

if TYPE_CHECKING:
    from kesu.runtime import Runtime


# TODO(house): calendar_years is the deadlines slice's table (deadlines/service.py builds the
# calendar from it; complaints.service.load_calendar_year writes it). This look-up belongs
# beside build_calendar() in deadlines/service.py, called from web/admin_calendar.py.
def calendar_loads(rt: Runtime) -> dict[int, dict[str, Any]]:
    """{year: {official, source, loaded_at (Beijing), loaded_by, holidays, workdays}}."""
    Y = t.calendar_years.c
    stmt = select(Y.year, Y.official, Y.source, Y.loaded_at, Y.loaded_by, Y.data).order_by(Y.year)
    with read(rt.engine) as conn:
        rows = conn.execute(stmt).all()
    return {
        row.year: {
            "year": row.year,
            "official": bool(row.official),
            "source": row.source or "",
            "loaded_at": to_beijing(row.loaded_at),
            "loaded_by": row.loaded_by,
            "holidays": len((row.data or {}).get("holidays") or {}),
            "workdays": len((row.data or {}).get("workdays") or {}),
        }
        for row in rows
    }
