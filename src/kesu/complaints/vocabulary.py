"""The complaint vocabulary (channels, kinds, statuses, flags ...) from data/reference.yaml."""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

from kesu.data_files import load_yaml


def _ref() -> dict:
    return load_yaml("reference.yaml")


CHANNELS: dict[str, dict] = _ref()["channels"]
KINDS: dict[str, dict] = _ref()["kinds"]
CATEGORIES: dict[str, dict] = _ref()["categories"]
STATUSES: dict[str, dict] = _ref()["statuses"]
PRIORITIES: dict[str, dict] = _ref()["priorities"]
RISK_FLAGS: dict[str, dict] = _ref()["risk_flags"]
VALIDITY_REASONS: dict[str, dict] = _ref()["validity_reasons"]
CALLBACK_RESULTS: dict[str, dict] = _ref()["callback_results"]
REVEAL_REASONS: dict[str, dict] = _ref()["reveal_reasons"]
ROOT_CAUSES: dict[str, dict] = _ref()["root_causes"]
REMEDY_KINDS: dict[str, dict] = _ref()["remedy_kinds"]
TEAMS: dict[str, dict] = _ref()["teams"]
# The causes a person chooses when closing (PRODUCT.md's list); `import_only` ones (the
# cause a historical import arrives without) are shown but never chosen.
CLOSING_CAUSES: dict[str, dict] = {k: v for k, v in ROOT_CAUSES.items() if not v.get("import_only")}
UNKNOWN_CAUSE: str = next(k for k, v in ROOT_CAUSES.items() if v.get("import_only"))

APPROVAL_FLAGS = frozenset(k for k, v in RISK_FLAGS.items() if v.get("requires_approval"))
# Flags only kesu's rules set (complaints/repeats.py): refused when given or changed by hand.
DERIVED_FLAGS = frozenset(k for k, v in RISK_FLAGS.items() if v.get("derived"))


def channel_level(channel: str) -> str:
    return CHANNELS[channel]["level"]


@lru_cache(maxsize=1)
def _provinces() -> tuple[dict[str, str], dict[str, str]]:
    by_code: dict[str, str] = {}
    by_name: dict[str, str] = {}
    for p in load_yaml("provinces.yaml"):
        by_code[p["code"]] = p["name"]
        for alias in (p["name"], p["short"], p["en"].lower()):
            by_name[alias] = p["name"]
    return by_code, by_name


def province_schema() -> dict[str, Any]:
    """What normalize_province accepts, for the API document: a name or a division code."""
    names = sorted(set(_provinces()[1]))
    return {"pattern": "^(" + "|".join(map(re.escape, names)) + r"|[0-9]{6})$"}


def normalize_province(value: str) -> str | None:
    """Full Chinese name for "河南省", "河南", "Henan" or a 6-digit division code like 410100."""
    value = value.strip()
    by_code, by_name = _provinces()
    if re.fullmatch(r"\d{6}", value):
        return by_code.get(value[:2])
    return by_name.get(value) or by_name.get(value.lower())


EVENTS: dict[str, dict] = _ref()["events"]
PRIORITY_DEFAULTS: list[dict] = _ref()["priority_defaults"]


def default_priority(kind: str, channel: str, flags: set[str] | frozenset[str]) -> str:
    return _default_priority(kind, channel, frozenset(flags))


@lru_cache(maxsize=1024)
def _default_priority(kind: str, channel: str, flags: frozenset[str]) -> str:
    level = channel_level(channel)
    for line in PRIORITY_DEFAULTS:
        if "flags" in line and not set(line["flags"]) & set(flags):
            continue
        if "kinds" in line and kind not in line["kinds"]:
            continue
        if "channel_levels" in line and level not in line["channel_levels"]:
            continue
        return line["priority"]
    return "normal"
