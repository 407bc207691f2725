"""The shape of the house (docs/architecture.md), kept by tests that read the source.

- no import cycle between modules of src/kesu (imports inside functions and under
  TYPE_CHECKING count);
- no module over 450 lines (migrations and data aside);
- the edges (HTTP routes, pages, CLI commands, the app, the demo) are imported by
  edges only: a service never reaches up into a route, a page or a command;
- the pure cores import only pure cores and the base (clock, problems, data files);
- each table is read and written by the slice that owns it: the complaint tables by
  complaints/ (and reports/, through its own query module), deadlines by deadlines/.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1] / "src" / "kesu"
LIMIT = 450

BASE = {"kesu", "kesu.clock", "kesu.problems", "kesu.data_files", "kesu.settings"}
PURE = {
    "kesu.complaints.lifecycle",
    "kesu.complaints.approval",
    "kesu.complaints.ownership",
    "kesu.complaints.delays",
    "kesu.complaints.lifecycle_table",
    "kesu.complaints.vocabulary",
    "kesu.complaints.repeats",
    "kesu.deadlines.calendar",
    "kesu.deadlines.rules",
    "kesu.deadlines.sla",
    "kesu.accounts.roles",
    "kesu.accounts.masking",
    "kesu.channels.phones",
    "kesu.channels.sms_text",
    "kesu.channels.mail",
    "kesu.channels.mail_parse",
    "kesu.appeals.materials",
    "kesu.appeals.time_limits",
    "kesu.appeals.lifecycle",
    "kesu.appeals.acceptance_items",
    "kesu.appeals.civil_periods",
    "kesu.appeals.conditions",
    "kesu.appeals.operator_evidence",
    "kesu.appeals.schemes",
    "kesu.appeals.statistics",
    "kesu.reports.xlsx",
    "kesu.quality.scorecard",
    "kesu.quality.sampling",
    "kesu.incidents.spikes",
    "kesu.reports.people_defs",
    "kesu.reports.people_xlsx",
    "kesu.complaints.survey_form",
    "kesu.corrective.lifecycle",
    "kesu.corrective.effect",
}
PURE_PACKAGES = ("kesu.law.", "kesu.triage.")
IMPURE_IN_PURE_PACKAGES = re.compile(
    r"\.(service|routes|commands|similar|arrival|corrections|articles|library|advice|"
    r"index_store|promotion|complaint_facts)$"
)
EDGE = re.compile(
    r"(\.routes$|_routes$|^kesu\.web(\.|$)|\.commands$|^kesu\.cli|"
    r"^kesu\.app$|^kesu\.demo(\.|$)|^kesu\.web_common$|^kesu\.accounts\.web$)"
)
OWNED = {
    # Key rotation re-encrypts every encrypted column, whichever slice owns the table.
    "complaints": ("kesu.complaints.", "kesu.reports.", "kesu.accounts.keys"),
    "complaint_events": ("kesu.complaints.", "kesu.reports."),
    "complaint_attachments": ("kesu.complaints.",),
    "complaint_surveys": ("kesu.complaints.", "kesu.reports."),
    "number_counters": ("kesu.complaints.",),
    "deadlines": ("kesu.deadlines.", "kesu.reports."),
    "calendar_years": ("kesu.deadlines.",),
    "sla_policies": ("kesu.deadlines.",),
    "sla_policy_history": ("kesu.deadlines.",),
    "teams": ("kesu.accounts.",),
    "team_history": ("kesu.accounts.",),
    "notifications": ("kesu.channels.", "kesu.accounts.keys"),
    "notification_optouts": ("kesu.channels.",),
    "staff_notices": ("kesu.channels.",),
    "staff_notice_prefs": ("kesu.channels.",),
    "webhook_subscriptions": ("kesu.channels.", "kesu.accounts.keys"),
    "referral_sources": ("kesu.channels.", "kesu.accounts.keys"),
    "referrals": ("kesu.channels.", "kesu.accounts.keys"),
    "mail_inbox": ("kesu.channels.",),
    "channel_sources": ("kesu.channels.", "kesu.accounts.keys"),
    "channel_messages": ("kesu.channels.",),
    "channel_replays": ("kesu.channels.",),
    "appeals": ("kesu.appeals.", "kesu.accounts.keys"),
    "appeal_events": ("kesu.appeals.",),
    "appeal_operators": ("kesu.appeals.", "kesu.accounts.keys"),
    "appeal_counters": ("kesu.appeals.",),
    "quality_reviews": ("kesu.quality.",),
    "quality_review_events": ("kesu.quality.",),
    "practice_rounds": ("kesu.quality.",),
    "practice_answers": ("kesu.quality.",),
    "incidents": ("kesu.incidents.",),
    "incident_complaints": ("kesu.incidents.",),
    "incident_events": ("kesu.incidents.",),
    "corrective_actions": ("kesu.corrective.",),
    "corrective_action_complaints": ("kesu.corrective.",),
    "corrective_action_events": ("kesu.corrective.",),
}


def _modules() -> dict[str, Path]:
    out = {}
    for path in ROOT.rglob("*.py"):
        rel = path.relative_to(ROOT.parent)
        if "migrations" in rel.parts or "data" in rel.parts:
            continue
        name = ".".join(rel.with_suffix("").parts)
        out[name.removesuffix(".__init__")] = path
    return out


MODULES = _modules()


def _imports(name: str, path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = set()
    for node in ast.walk(tree):
        targets: list[str] = []
        if isinstance(node, ast.Import):
            targets = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module != "__future__":
            base = node.module or ""
            if node.level:
                parts = name.split(".")
                parts = parts if path.name == "__init__.py" else parts[:-1]
                parts = parts[: len(parts) - (node.level - 1)]
                base = ".".join(parts + ([base] if base else []))
            targets = [base] + [f"{base}.{a.name}" for a in node.names]
        for target in targets:
            while target and target not in MODULES:
                target = target.rpartition(".")[0]
            if target and target != name and target != "kesu":
                found.add(target)
    return found


GRAPH = {name: _imports(name, path) for name, path in MODULES.items()}


def _cycles() -> list[list[str]]:
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on: set[str] = set()
    out: list[list[str]] = []
    counter = [0]

    def visit(v: str) -> None:
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in GRAPH[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    for v in GRAPH:
        if v not in index:
            visit(v)
    return out


def _pure(name: str) -> bool:
    if MODULES[name].name == "__init__.py" and not GRAPH[name]:
        return True  # a package that imports nothing: `from kesu.law import text` names it
    if name in PURE:
        return True
    return name.startswith(PURE_PACKAGES) and not IMPURE_IN_PURE_PACKAGES.search(name)


def test_no_import_cycles():
    assert _cycles() == []


def test_no_module_over_the_limit():
    sizes = {n: sum(1 for _ in p.open(encoding="utf-8")) for n, p in MODULES.items()}
    assert {n: s for n, s in sizes.items() if s > LIMIT} == {}


def test_only_edges_import_edges():
    wrong = {
        (name, target)
        for name, targets in GRAPH.items()
        if not EDGE.search(name)
        for target in targets
        if EDGE.search(target)
    }
    assert wrong == set()


def test_pure_cores_import_only_pure_cores_and_the_base():
    wrong = {
        (name, target)
        for name, targets in GRAPH.items()
        if _pure(name)
        for target in targets
        if not (_pure(target) or target in BASE)
    }
    assert wrong == set()


def test_each_table_is_used_by_the_slice_that_owns_it():
    wrong = []
    for name, path in MODULES.items():
        text = path.read_text(encoding="utf-8")
        for table, owners in OWNED.items():
            if re.search(rf"\bt\.{table}\b", text) and not name.startswith(owners):
                wrong.append((name, table))
    assert wrong == []
