"""The supervisor's dashboard: today's load, KPIs with trends, charts, breaches, approvals."""

from __future__ import annotations

import logging
import threading
import time
from datetime import date, timedelta
from typing import Any

from fastapi import APIRouter, Depends
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response

from kesu.accounts.roles import Principal, require
from kesu.clock import supported_date, to_beijing
from kesu.complaints import transitions
from kesu.corrective import views as corrective_views
from kesu.problems import Problem
from kesu.reports import kpi_report, overview, queues
from kesu.reports.routes import DEFAULT_DAYS
from kesu.web.pages import Page, PageRoute, redirect, render, staff

router = APIRouter(route_class=PageRoute, include_in_schema=False)
log = logging.getLogger("kesu.web")


def _period(pg: Page, start: str | None, end: str | None) -> tuple[date, date]:
    today = to_beijing(pg.rt.clock()).date()
    try:
        hi = date.fromisoformat(end) if end else today
        lo = date.fromisoformat(start) if start else default_period(hi)[0]
    except ValueError:
        raise Problem(
            422, "invalid_date", "Invalid date", "日期格式不对，应为 YYYY-MM-DD。"
        ) from None
    return supported_date(lo, "from"), supported_date(hi, "to")


class Figures:
    """KPIs and chart series of a period, kept for FRESH seconds per scope and period.

    They aggregate tens of thousands of rows, so the dashboard shows them as of their
    computation (the page says when) and recomputes in the background once they are
    older than FRESH; the counts of today, the breaches and the approvals are always
    live. The permission is checked on every request, cached or not.
    """

    FRESH = 60.0
    KEEP = 64

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._entries: dict[tuple, tuple[float, dict[str, Any]]] = {}
        self._refreshing: set[tuple] = set()

    @staticmethod
    def key(p: Principal, lo: date, hi: date) -> tuple:
        return (p.scope, p.org, p.phone_hash, lo, hi)

    def compute(self, rt, p: Principal, lo: date, hi: date) -> dict[str, Any]:
        value = {
            "k": kpi_report.kpis(rt, p, lo, hi),
            "series": overview.series(rt, p, lo, hi),
            "as_of": rt.clock(),
        }
        with self._lock:
            self._entries[self.key(p, lo, hi)] = (time.monotonic(), value)
            if len(self._entries) > self.KEEP:
                oldest = min(self._entries, key=lambda k: self._entries[k][0])
                del self._entries[oldest]
        return value

    def get(self, rt, p: Principal, lo: date, hi: date) -> dict[str, Any]:
        require(p, "report.read")
        key = self.key(p, lo, hi)
        with self._lock:
            hit = self._entries.get(key)
            stale = hit is not None and time.monotonic() - hit[0] > self.FRESH
            if stale and key not in self._refreshing:
                self._refreshing.add(key)
                threading.Thread(
                    target=self._refresh, args=(rt, p, lo, hi, key), daemon=True
                ).start()
        if hit is None:
            return self.compute(rt, p, lo, hi)
        return hit[1]

    def _refresh(self, rt, p: Principal, lo: date, hi: date, key: tuple) -> None:
        try:
            self.compute(rt, p, lo, hi)
        except Exception:  # the next request computes it in its own time
            log.exception("refreshing the dashboard figures failed")
        finally:
            with self._lock:
                self._refreshing.discard(key)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()


def figures(rt) -> Figures:
    """The figures cache of this runtime (one per process and database)."""
    with _CREATE:
        return rt.caches.setdefault("dashboard.figures", Figures())


_CREATE = threading.Lock()


def default_period(today: date) -> tuple[date, date]:
    return today - timedelta(days=DEFAULT_DAYS - 1), today


def warm(rt) -> None:
    """Compute the default dashboard for the whole company before the first visit."""
    from kesu.accounts.roles import for_role

    lo, hi = default_period(to_beijing(rt.clock()).date())
    figures(rt).compute(rt, for_role("kesu-warm", "supervisor", kind="system"), lo, hi)


def _data(pg: Page, lo: date, hi: date) -> dict[str, Any]:
    p = pg.p
    found = figures(pg.rt).get(pg.rt, p, lo, hi)
    out: dict[str, Any] = {
        "overview": overview.overview(pg.rt, p),
        "k": found["k"],
        "series": found["series"],
        "as_of": found["as_of"],
        "breaching": queues.about_to_breach(pg.rt, p, hours=24, limit=30),
        "approvals": queues.approvals(pg.rt, p, limit=30) if p.can("complaint.approve") else [],
        # Corrective actions: open, overdue, the last closed with their effect (or None).
        "corrective": corrective_views.card(pg.rt, p),
    }
    return out


@router.get("/dashboard")
async def dashboard(
    pg: Page = Depends(staff), start: str | None = None, end: str | None = None
) -> Response:
    lo, hi = _period(
        pg, start or pg.request.query_params.get("from"), end or pg.request.query_params.get("to")
    )
    data = await run_in_threadpool(_data, pg, lo, hi)
    done = pg.request.query_params.get("done")
    if done == "reassigned":
        pg.flash.append(("ok", pg.t("dash.reassigned")))
    return render(pg, "dashboard.html", lo=lo, hi=hi, **data)


@router.post("/dashboard/reassign")
async def reassign(pg: Page = Depends(staff)) -> Response:
    """One-click reassignment of a complaint about to breach (the lifecycle's transfer)."""
    form = await pg.form()
    number = str(form.get("number") or "")
    params = {"team": str(form.get("team") or "")}
    assignee = str(form.get("assignee") or "").strip()
    if assignee:
        params["assignee"] = assignee
    params["note"] = "监控看板一键转派（临近超期）"
    await run_in_threadpool(transitions.transition, pg.rt, number, "transfer", params, pg.p)
    back = str(form.get("back") or "/dashboard")
    return redirect(back if back.startswith("/dashboard") else "/dashboard", pg.request)
