"""What the queue page shows for many complaints at once: the bulk actions this user may
take, whether they may export, the query the total and the export links carry. The
routes behind them are in queue_bulk.py (which reads the queue's filters from
workbench.py, so this part sits apart from both)."""

from __future__ import annotations

from typing import Any

from kesu.accounts.roles import action_permissions
from kesu.complaints import lifecycle
from kesu.web.pages import Page

# The actions the bar offers (those the lifecycle knows and the user may take).
BAR_ACTIONS = ("assign", "transfer", "escalate", "flag")


def context(pg: Page) -> dict[str, Any]:
    p = pg.p
    return {
        "bulk_actions": [
            a for a in BAR_ACTIONS if a in lifecycle.ACTIONS and p.can_any(action_permissions(a))
        ],
        "can_export": p.can("complaint.read") and p.can("report.read"),
        "query": pg.request.url.query,
        "lifecycle_actions": lifecycle.ACTIONS,
    }
