"""The running kesu: settings, database, clock, rules and calendar for API, CLI, worker."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Engine

from kesu.clock import Clock, system_clock
from kesu.complaints import vocabulary as vocab
from kesu.complaints.lifecycle import Policy
from kesu.data_files import load_yaml
from kesu.deadlines import calendar_store, sla_store
from kesu.deadlines.calendar import WorkCalendar
from kesu.deadlines.rules import Rule, parse_rules
from kesu.deadlines.sla import EMPTY, PolicySet
from kesu.law.loader import article_text
from kesu.settings import Settings
from kesu.store.db import make_engine, migrate


def load_rules() -> dict[str, Rule]:
    return parse_rules(load_yaml("deadline_rules.yaml"), article_text, vocab.KINDS)


@dataclass
class Runtime:
    settings: Settings
    engine: Engine
    clock: Clock = system_clock
    rules: dict[str, Rule] = field(default_factory=load_rules)
    calendar_ttl: float = 10.0
    _calendar: WorkCalendar | None = None
    _calendar_key: object = None
    _calendar_checked: float = 0.0
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _sla: PolicySet = EMPTY
    # Per-process caches of the slices that need one (e.g. the dashboard's figures).
    caches: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def start(
        cls, settings: Settings | None = None, clock: Clock = system_clock, migrate_db: bool = True
    ) -> Runtime:
        settings = settings or Settings.from_env()
        engine = make_engine(settings.database_url)
        if migrate_db:
            migrate(engine)
        return cls(settings=settings, engine=engine, clock=clock)

    @property
    def policy(self) -> Policy:
        s = self.settings
        return Policy(
            approval_threshold=s.approval_threshold,
            reopen_days=s.reopen_days,
            callback_max_attempts=s.callback_max_attempts,
            approval_flags=vocab.APPROVAL_FLAGS,
            validity_reasons=frozenset(vocab.VALIDITY_REASONS),
            callback_results=frozenset(vocab.CALLBACK_RESULTS),
            teams=frozenset(vocab.TEAMS),
            risk_flags=frozenset(vocab.RISK_FLAGS),
            root_causes=frozenset(vocab.ROOT_CAUSES),
            categories=frozenset(vocab.CATEGORIES),
            derived_flags=vocab.DERIVED_FLAGS,
            remedy_kinds=frozenset(vocab.REMEDY_KINDS),
        )

    def calendar(self, conn=None) -> WorkCalendar:
        """The working-day calendar with the operator's overrides from the database.

        Other processes may load a year; the overrides are re-read when their
        fingerprint changes (checked at most every `calendar_ttl` seconds).
        """
        now = time.monotonic()
        if self._calendar is not None and now - self._calendar_checked < self.calendar_ttl:
            return self._calendar
        with self._lock:
            key = calendar_store.calendar_fingerprint(self.engine, conn)
            if self._calendar is None or key != self._calendar_key:
                self._calendar = calendar_store.build_calendar(self.engine, conn)
                self._calendar_key = key
            self._calendar_checked = now
            return self._calendar

    def sla_policies(self, conn=None) -> PolicySet:
        """The internal SLA policies in force. Their version (the history's highest id) is
        read on every call, so a change made in any process applies to the next complaint
        planned in this one; the policies themselves are re-read only when it moved."""
        if conn is None:
            with self.engine.connect() as own:
                return self.sla_policies(own)
        current = self._sla
        if sla_store.version(conn) != current.version:
            current = self._sla = sla_store.load(conn)
        return current

    def invalidate_calendar(self) -> None:
        with self._lock:
            self._calendar_checked = 0.0
            self._calendar_key = None

    def close(self) -> None:
        self.engine.dispose()
