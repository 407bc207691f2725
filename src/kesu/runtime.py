"""The running kesu: settings, database, clock, rules and calendar for API, CLI, worker."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Engine

from kesu.accounts import team_store
from kesu.accounts.team_store import Team
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
from kesu.store.db import make_engine, migrate, write


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
    teams_ttl: float = 2.0
    _teams: dict[str, Team] = field(default_factory=dict)
    _teams_version: int = -1
    _teams_checked: float = 0.0
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
        rt = cls(settings=settings, engine=engine, clock=clock)
        if migrate_db:
            rt.seed_teams()
        return rt

    def seed_teams(self) -> None:
        """A new installation starts with the teams of data/reference.yaml."""
        with self.engine.connect() as conn:
            if not team_store.missing_defaults(conn) or team_store.version(conn):
                return
        with write(self.engine) as conn:
            team_store.seed(conn, self.clock())

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
            teams=frozenset(self.teams()),
            risk_flags=frozenset(vocab.RISK_FLAGS),
            root_causes=frozenset(vocab.CLOSING_CAUSES),
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

    def teams(self, conn=None) -> dict[str, Team]:
        """The teams (code → Team), from the database; seeded from the file on first use.

        Their version (the history's highest id) is checked at most every `teams_ttl`
        seconds; a change made in this process re-reads them at once (invalidate_teams).
        """
        now = time.monotonic()
        if self._teams_version > 0 and now - self._teams_checked < self.teams_ttl:
            return self._teams
        if conn is None:
            with self.engine.connect() as own:
                return self.teams(own)
        v = team_store.version(conn)
        if v == 0:  # not seeded yet (start() seeds): the file's teams
            return team_store.defaults()
        if v != self._teams_version:
            self._teams = team_store.load(conn)
            self._teams_version = v
        self._teams_checked = now
        return self._teams

    def team_names(self) -> dict[str, dict[str, Any]]:
        """The teams as the vocabulary states them ({code: {name, en}}), for pages and lists."""
        return {code: team.vocab_entry() for code, team in self.teams().items()}

    def invalidate_teams(self) -> None:
        self._teams_checked = 0.0
        self._teams_version = -1

    def invalidate_calendar(self) -> None:
        with self._lock:
            self._calendar_checked = 0.0
            self._calendar_key = None

    def close(self) -> None:
        self.engine.dispose()
