"""The teams as stored: read, seeded from data/reference.yaml, their members (users of
the team, with their category skills), the round-robin counter, the history rows.

The highest id of `team_history` is the teams' version: every change writes a history
row in its transaction, so Runtime.teams() re-reads the teams only when it moved.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, func, insert, select, update
from sqlalchemy.exc import IntegrityError

from kesu.complaints import vocabulary as vocab
from kesu.complaints.ownership import Member
from kesu.store import tables as t

T = t.teams.c
H = t.team_history.c
U = t.users.c


@dataclass(frozen=True)
class Team:
    code: str
    name: str
    name_en: str | None = None
    policy: str = "manual"
    by_skill: bool = False

    def as_json(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "name": self.name,
            "name_en": self.name_en,
            "policy": self.policy,
            "by_skill": self.by_skill,
        }

    def vocab_entry(self) -> dict[str, Any]:
        """As data/reference.yaml states a team ({name, en}), for the pages' name()."""
        return {"name": self.name, "en": self.name_en or self.name}


def version(conn: Connection) -> int:
    return conn.execute(select(func.coalesce(func.max(H.id), 0))).scalar_one()


def team_of(row) -> Team:
    return Team(row.code, row.name, row.name_en, row.policy, bool(row.by_skill))


def load(conn: Connection) -> dict[str, Team]:
    """Every team, in the order they were made (the file's order first)."""
    return {r.code: team_of(r) for r in conn.execute(select(t.teams).order_by(T.id))}


def history(conn, team: str, action: str, now: datetime, actor: str, before, after) -> None:
    conn.execute(
        insert(t.team_history).values(
            team=team, action=action, at=now, actor=actor, before=before, after=after
        )
    )


def defaults() -> dict[str, Team]:
    return {c: Team(c, e["name"], e.get("en")) for c, e in vocab.TEAMS.items()}


def missing_defaults(conn: Connection) -> list[str]:
    have = set(conn.execute(select(T.code)).scalars())
    return [code for code in vocab.TEAMS if code not in have]


def seed(conn: Connection, now: datetime) -> int:
    """Each team of the file that is not stored yet is made as the file states it."""
    made = 0
    for code in missing_defaults(conn):
        entry = vocab.TEAMS[code]
        team = Team(code, entry["name"], entry.get("en"))
        nested = conn.begin_nested()
        try:
            conn.execute(
                insert(t.teams).values(**team.as_json(), updated_at=now, updated_by="system")
            )
        except IntegrityError:  # another process seeded it first
            nested.rollback()
            continue
        nested.commit()
        history(conn, code, "seeded", now, "system", None, team.as_json())
        made += 1
    return made


def locked(conn: Connection, code: str):
    return conn.execute(select(t.teams).where(T.code == code).with_for_update()).first()


def advance(conn: Connection, code: str) -> int:
    """The team's round-robin counter moved on by one, in one statement (its new value)."""
    return conn.execute(
        update(t.teams)
        .where(T.code == code)
        .values(rr_counter=T.rr_counter + 1)
        .returning(T.rr_counter)
    ).scalar_one()


def member_of(row) -> Member:
    return Member(row.username, frozenset(row.skills or ()))


def members(conn: Connection, code: str, active_only: bool = True) -> list:
    """The users of a team (rows: username, display_name, role, skills, active, email)."""
    stmt = select(U.username, U.display_name, U.role, U.skills, U.active, U.team, U.email).where(
        U.team == code
    )
    if active_only:
        stmt = stmt.where(U.active)
    return list(conn.execute(stmt.order_by(U.username)).all())


def user(conn: Connection, username: str):
    """One user's name, team, role, whether active, email (None: no such user)."""
    return conn.execute(
        select(U.username, U.display_name, U.role, U.skills, U.active, U.team, U.email).where(
            U.username == username
        )
    ).first()


def with_roles(conn: Connection, roles: Iterable[str], team: str | None = None) -> list:
    """The active users holding one of `roles` (of `team` when given), rows as members()."""
    stmt = select(U.username, U.display_name, U.role, U.skills, U.active, U.team, U.email).where(
        U.role.in_(list(roles)), U.active
    )
    if team is not None:
        stmt = stmt.where(U.team == team)
    return list(conn.execute(stmt.order_by(U.username)).all())


def by_email(conn: Connection, address: str):
    """The user whose email is this address (any case), or None: staff mail is not a
    customer's (channels.mail_in)."""
    if not address:
        return None
    return conn.execute(
        select(U.username).where(func.lower(U.email) == address.strip().lower()).limit(1)
    ).first()
