"""The teams' tables (owned by the accounts slice: accounts.team_store, accounts.teams)."""

from __future__ import annotations

from sqlalchemy import JSON, Boolean, Column, Integer, String, Table, false

from kesu.store.meta import metadata
from kesu.store.types import UTCDateTime

# Teams (data/reference.yaml `teams:` is what a new installation starts with): the name,
# the assignment policy (manual, round_robin, least_open), whether it routes by the
# members' category skills, and the round-robin counter (advanced by one UPDATE).
teams = Table(
    "teams",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("code", String(40), nullable=False, unique=True),
    Column("name", String(100), nullable=False),
    Column("name_en", String(100)),
    Column("policy", String(20), nullable=False, server_default="manual"),
    Column("by_skill", Boolean, nullable=False, server_default=false()),
    Column("rr_counter", Integer, nullable=False, server_default="0"),
    Column("updated_at", UTCDateTime, nullable=False),
    Column("updated_by", String(64), nullable=False),
)

# Every change of a team or of its members: who, when, before and after. The highest id
# is the teams' version (a process re-reads the teams when it moved).
team_history = Table(
    "team_history",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("team", String(40), nullable=False),
    Column("action", String(20), nullable=False),
    Column("at", UTCDateTime, nullable=False),
    Column("actor", String(64), nullable=False),
    Column("before", JSON),
    Column("after", JSON),
)
