"""The KPIs kesu computes: their definitions, their registered functions, the subscriber base.

Importing this module imports every KPI module (kpi_*.py: each registers its KPIs) and
checks the registry against data/reports/kpis.yaml: a KPI defined without a function, or
a function without a definition, stops kesu at start-up with a DefinitionError naming
them (the app imports this module through the reports routes and the dashboard).
`definitions()`: data/reports/kpis.yaml, validated once per process (codes known,
citations checked against the texts held, the parameters each function needs there).
`subscribers()`: the subscriber base of 万户投诉率 from $KESU_SUBSCRIBERS_FILE or the
packaged data/reports/subscribers.yaml, re-read when the file changes; an unreadable file
is a clear error (problem 500).
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Iterable
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from kesu.complaints import lifecycle
from kesu.complaints import vocabulary as vocab
from kesu.data_files import DATA_DIR, load_yaml
from kesu.law.loader import article_text
from kesu.problems import Problem
from kesu.reports import kpi_closed, kpi_deadlines, kpi_received, registry
from kesu.reports.definitions import DefinitionError, Kpi, parse_definitions
from kesu.reports.subscribers import Subscribers, parse_subscribers

log = logging.getLogger("kesu.reports")

SUBSCRIBERS_ENV = "KESU_SUBSCRIBERS_FILE"
DEFAULT_SUBSCRIBERS = DATA_DIR / "reports" / "subscribers.yaml"
DEFINITIONS = "reports/kpis.yaml"

# The modules whose functions compute the KPIs (importing them registers them).
KPI_MODULES = (kpi_received, kpi_closed, kpi_deadlines)


def check_registry() -> None:
    """Every KPI of kpis.yaml has a registered function, and every function a definition."""
    registry.check(
        (raw.get("id") for raw in load_yaml(DEFINITIONS).get("kpis") or ()),
        where=f"data/{DEFINITIONS}",
    )


check_registry()


def vocabulary() -> dict[str, Iterable[str]]:
    """The codes the definitions may name, from the complaints' vocabulary and the rules."""
    return {
        "kinds": vocab.KINDS,
        "statuses": lifecycle.STATUSES,
        "events": vocab.EVENTS,
        "callback_results": vocab.CALLBACK_RESULTS,
        "channel_levels": {c["level"] for c in vocab.CHANNELS.values()},
        "rules": [r["id"] for r in load_yaml("deadline_rules.yaml")["rules"]],
    }


@lru_cache(maxsize=1)
def definitions() -> dict[str, Kpi]:
    """The KPIs of data/reports/kpis.yaml, validated (citations checked against the texts held)."""
    return parse_definitions(
        load_yaml(DEFINITIONS), article_text, vocabulary(), registry.needed_params()
    )


def subscribers_path() -> Path:
    """$KESU_SUBSCRIBERS_FILE, or the packaged data/reports/subscribers.yaml."""
    return Path(os.environ.get(SUBSCRIBERS_ENV) or DEFAULT_SUBSCRIBERS)


_subscribers_lock = threading.Lock()
_subscribers_cache: dict[str, Any] = {}


def subscribers() -> Subscribers:
    """The subscriber base: $KESU_SUBSCRIBERS_FILE or the packaged file; re-read when it changes."""
    path = subscribers_path()
    try:
        stat = path.stat()
        key = (str(path), stat.st_mtime_ns, stat.st_size)
        with _subscribers_lock:
            if _subscribers_cache.get("key") == key:
                return _subscribers_cache["value"]
            with path.open(encoding="utf-8") as fh:
                value = parse_subscribers(yaml.safe_load(fh), vocab.normalize_province)
            _subscribers_cache.update(key=key, value=value)
            return value
    except (OSError, yaml.YAMLError, DefinitionError) as err:
        log.error("subscriber file %s: %s", path, err)
        raise Problem(
            500,
            "subscribers_invalid",
            "Subscriber base unavailable",
            f"用户数配置文件（{path.name}）无法读取或格式有误，万户投诉率无法计算：{err}",
        ) from None
