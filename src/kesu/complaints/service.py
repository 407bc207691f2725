"""TEMPORARY: the names of the old complaint service, while the slices that still import
it are being moved to the use-case modules (numbering, views, queries, registration,
transitions, events; the watcher in deadlines.watcher). Removed in this same series."""

from kesu.complaints.events import record_event
from kesu.complaints.queries import (
    count,
    events,
    get,
    list_complaints,
    load_visible,
    personal_data,
)
from kesu.complaints.queries import filters as _filters
from kesu.complaints.queries import scope_conditions as _scope
from kesu.complaints.registration import bulk_import, register
from kesu.complaints.transitions import transition
from kesu.deadlines.calendar_years import load_year as load_calendar_year
from kesu.deadlines.watcher import warn_once, watch_once
from kesu.triage.corrections import corrections

__all__ = [
    "_filters",
    "_scope",
    "bulk_import",
    "corrections",
    "count",
    "events",
    "get",
    "list_complaints",
    "load_calendar_year",
    "load_visible",
    "personal_data",
    "record_event",
    "register",
    "transition",
    "warn_once",
    "watch_once",
]
