"""The KPI registry: every KPI of kpis.yaml has its function and every function its
definition, or kesu does not start; a new KPI is one definition plus one function."""

from __future__ import annotations

import copy
import io
import subprocess
import sys
import textwrap
from datetime import date
from pathlib import Path

import pytest
from openpyxl import load_workbook
from sqlalchemy import and_, event

from kesu.accounts.roles import for_role
from kesu.data_files import load_yaml
from kesu.law.loader import article_text
from kesu.reports import catalog, kpi_report, registry
from kesu.reports.definitions import DefinitionError, parse_definitions
from kesu.reports.queries import C, all_of, millis, population
from kesu.reports.sources import closed
from kesu.web import dashboard
from tests.reports.conftest import bj, kpi

ROOT = Path(__file__).resolve().parents[2]


def defined_ids() -> list[str]:
    return [raw["id"] for raw in load_yaml("reports/kpis.yaml")["kpis"]]


def test_every_defined_kpi_has_a_function_and_every_function_a_definition():
    ids = defined_ids()
    assert len(ids) == len(set(ids))
    assert set(ids) == set(registry.registered())
    registry.check(ids)
    catalog.check_registry()
    for kid, done in registry.registered().items():
        assert done.id == kid and callable(done.compute)
    # Each function's parameters are given by its definition.
    for kid, k in catalog.definitions().items():
        assert set(registry.registered()[kid].params) <= set(k.params), kid


def test_a_missing_function_or_definition_is_named():
    ids = defined_ids()
    with pytest.raises(DefinitionError) as err:
        registry.check([*ids, "nps"])
    assert "without a registered function: ['nps']" in str(err.value)
    assert '@kpi("<id>")' in str(err.value)
    with pytest.raises(DefinitionError) as err:
        registry.check(ids[1:])
    assert f"registered without a definition in data/reports/kpis.yaml: ['{ids[0]}']" in str(
        err.value
    )


def test_a_kpi_registered_twice_is_refused(monkeypatch):
    monkeypatch.setattr(registry, "_KPIS", dict(registry._KPIS))
    with pytest.raises(DefinitionError, match="registered twice"):
        registry.kpi("ack_24h_rate")(lambda k, ask: None)


EXTRA_DEFINITION = """
import kesu.data_files as files

shipped = files.load_yaml


def load_yaml(name):
    data = shipped(name)
    if name == "reports/kpis.yaml":
        data = {**data, "kpis": [*data["kpis"], {"id": "nps"}]}
    return data


files.load_yaml = load_yaml
"""

EXTRA_FUNCTION = """
from kesu.reports.registry import kpi


@kpi("nps")
def nps(k, ask):
    raise AssertionError
"""


@pytest.mark.parametrize(
    "before, message",
    [
        (EXTRA_DEFINITION, "without a registered function: ['nps']"),
        (EXTRA_FUNCTION, "registered without a definition in data/reports/kpis.yaml: ['nps']"),
    ],
)
def test_kesu_does_not_start_with_an_incomplete_registry(before, message):
    code = textwrap.dedent(before) + "\nimport kesu.app\n"
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert done.returncode != 0
    assert "DefinitionError: KPI registry incomplete" in done.stderr
    assert message in done.stderr


# The worked example of docs/kpis.md: 48小时办结率.
NEW_KPI = {
    "id": "closed_within_48h_rate",
    "name": "48小时办结率",
    "en": "Closed within 48 hours",
    "unit": "rate",
    "population": {
        "time": "closed_at",
        "kinds": ["complaint", "fault", "appeal"],
        "statuses": ["closed"],
    },
    "params": {"within_hours": 48},
    "definition": "期内归档的投诉类工单中，自受理时间 received_at 起48小时内归档的比例。",
    "numerator": "分母中 closed_at − received_at ≤ 48小时 的投诉数",
    "denominator": "期内归档的投诉类工单数",
    "source": {"policy": True, "text": "运营商内部考核口径"},
}


def add_new_kpi(monkeypatch) -> None:
    """NEW_KPI added to kpis.yaml and its function registered, until `monkeypatch` undoes it."""
    monkeypatch.setattr(registry, "_KPIS", dict(registry._KPIS))

    @registry.kpi("closed_within_48h_rate", params=("within_hours",))
    def closed_within_48h_rate(k, ask):
        pop = all_of(population(C, k.population))
        within = int(k.params["within_hours"] * 3600 * 1000)
        fast = millis(ask.dialect, C.closed_at, C.received_at) <= within
        return closed(ask).rate(k, den=pop, num=and_(pop, fast))

    data = copy.deepcopy(load_yaml("reports/kpis.yaml"))
    data["kpis"].append(NEW_KPI)
    registry.check(raw["id"] for raw in data["kpis"])
    defs = parse_definitions(data, article_text, catalog.vocabulary(), registry.needed_params())
    monkeypatch.setattr(kpi_report, "definitions", lambda: defs)


def statements(rt, call) -> int:
    sent = []

    def count(*_args, **_kw):
        sent.append(1)

    event.listen(rt.engine, "before_cursor_execute", count)
    try:
        call()
    finally:
        event.remove(rt.engine, "before_cursor_execute", count)
    return len(sent)


def test_a_new_kpi_is_one_definition_and_one_function(rt, desk, client, monkeypatch):
    a = desk.register(bj(11, 2, 9))
    desk.close(a, bj(11, 2, 10), bj(11, 2, 12))  # 3 hours
    b = desk.register(bj(11, 2, 9))
    desk.close(b, bj(11, 2, 10), bj(11, 4, 8))  # 47 hours
    c = desk.register(bj(11, 2, 9))
    desk.close(c, bj(11, 2, 10), bj(11, 5, 9))  # 72 hours: late
    desk.done()

    def report():
        return kpi_report.kpis(rt, "system", date(2026, 11, 1), date(2026, 11, 7))

    report()  # the per-process event index is built on first use
    before = statements(rt, report)
    with monkeypatch.context() as m:
        add_new_kpi(m)
        # It counts rows another KPI reads already: no query more.
        assert statements(rt, report) == before
        r = report()
        k = kpi(r, "closed_within_48h_rate")
        assert (k["numerator"], k["denominator"], k["value"]) == (2, 3, round(2 / 3, 6))
        assert k["name"] == "48小时办结率" and k["unit_name"] == "比率"
        assert r["kpis"][-1]["id"] == "closed_within_48h_rate"
        assert [(p["date"], p["value"]) for p in r["trends"]["closed_within_48h_rate"][1:5]] == [
            ("2026-11-02", 1.0),
            ("2026-11-03", None),
            ("2026-11-04", 1.0),
            ("2026-11-05", 0.0),
        ]
        # The API, the export and the dashboard show it without a change of their own.
        params = {"from": "2026-11-01", "to": "2026-11-07"}
        body = client.get("/api/v1/reports/kpis", params=params).json()
        assert body["kpis"][-1]["id"] == "closed_within_48h_rate"
        xlsx = client.get("/api/v1/reports/kpis.xlsx", params=params)
        names = [row[0] for row in load_workbook(io.BytesIO(xlsx.content))["指标"].iter_rows()]
        assert names[-1].value == "48小时办结率"
        boss = for_role("boss", "supervisor")
        shown = dashboard.Figures().compute(rt, boss, date(2026, 11, 1), date(2026, 11, 7))
        assert shown["k"]["kpis"][-1]["id"] == "closed_within_48h_rate"
    # Gone with the test: the shipped KPIs only.
    assert "closed_within_48h_rate" not in registry.registered()
    assert [k["id"] for k in report()["kpis"]] == defined_ids()
