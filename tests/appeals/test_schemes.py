"""The ministry's category schemes as data (appeals.schemes): the packaged files, the
scheme in force on a day, and bad files refused with a clear error."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
import yaml

from kesu.appeals import schemes
from kesu.complaints.vocabulary import CATEGORIES

PACKAGED = schemes.DEFAULT_DIR


def test_the_packaged_schemes_and_their_categories():
    loaded = schemes.load_all(PACKAGED)
    assert [s.id for s in loaded] == ["miit-2008", "miit-2010", "miit-2022q4", "miit-2025q1"]
    names = {s.id: [c.name for c in s.categories] for s in loaded}
    assert names["miit-2010"] == ["用户服务", "网络质量", "收费争议"]
    assert names["miit-2022q4"] == ["服务争议", "营销、收费、资费争议", "网络质量、信息安全"]
    assert names["miit-2025q1"] == ["服务争议", "资费争议", "营销", "其他"]
    for s in loaded:
        assert s.valid_from.day == 1 and s.valid_from.month in (1, 4, 7, 10)
        for kesu_category in CATEGORIES:
            assert s.category_of(kesu_category) in s.codes
        assert s.source


def test_each_file_says_which_categories_are_the_ministrys_and_which_are_ours():
    text = (PACKAGED / "miit-2025q1.yaml").read_text(encoding="utf-8")
    assert "From the notice" in text and "Ours: 其他" in text


@pytest.mark.parametrize(
    ("day", "scheme"),
    [
        (date(2005, 6, 1), "miit-2008"),  # before the first: the first
        (date(2009, 12, 31), "miit-2008"),
        (date(2010, 1, 1), "miit-2010"),
        (date(2021, 12, 31), "miit-2010"),
        (date(2022, 5, 1), "miit-2010"),  # 2022Q1–Q3: no notice held; the last begun
        (date(2022, 10, 1), "miit-2022q4"),
        (date(2024, 12, 31), "miit-2022q4"),
        (date(2025, 1, 1), "miit-2025q1"),
        (date(2026, 9, 30), "miit-2025q1"),  # after the last: the newest
    ],
)
def test_the_scheme_in_force_on_a_day(day, scheme):
    assert schemes.for_day(day).id == scheme


def test_category_of_maps_kesu_categories_and_sends_the_rest_to_the_remainder():
    s = schemes.by_id("miit-2025q1")
    assert s.category_of("billing") == "tariff"
    assert s.category_of("marketing") == "marketing"
    assert s.category_of("service") == "service"
    assert s.category_of("network") == "other"
    assert s.category_of(None) == s.category_of("no-such-category") == "other"
    assert s.category("tariff").name == "资费争议"
    old = schemes.by_id("miit-2010")
    assert old.category_of("network") == "network" and old.category_of(None) == "user_service"


GOOD = {
    "id": "test-2026",
    "name": "测试口径",
    "valid_from": "2026-07-01",
    "categories": [
        {"code": "a", "name": "甲类", "en": "A"},
        {"code": "z", "name": "其他", "en": "Other"},
    ],
    "remainder": "z",
    "map": {k: "a" for k in CATEGORIES},
}


def write(directory: Path, name: str, data) -> None:
    text = data if isinstance(data, str) else yaml.safe_dump(data, allow_unicode=True)
    (directory / name).write_text(text, encoding="utf-8")


def test_a_configured_directory_replaces_the_packaged_one(tmp_path, monkeypatch):
    write(tmp_path, "test.yaml", GOOD)
    monkeypatch.setenv(schemes.SCHEMES_ENV, str(tmp_path))
    assert [s.id for s in schemes.load_all()] == ["test-2026"]
    assert schemes.for_day(date(2020, 1, 1)).id == "test-2026"
    # a changed file is read again
    write(tmp_path, "test.yaml", {**GOOD, "name": "改过的口径"})
    assert schemes.load_all()[0].name == "改过的口径"


def _without(mapping: dict, key: str) -> dict:
    return {k: v for k, v in mapping.items() if k != key}


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({**GOOD, "map": _without(GOOD["map"], "security")}, r"not mapped: \['security'\]"),
        ({**GOOD, "map": {**GOOD["map"], "billing": "b"}}, "codes the scheme does not have"),
        ({**GOOD, "map": {**GOOD["map"], "roaming": "a"}}, "unknown kesu categories"),
        ({**GOOD, "remainder": "x"}, "remainder 'x' is not one of"),
        ({**GOOD, "valid_from": "2026-07-02"}, "not the first day of a quarter"),
        ({**GOOD, "valid_from": "July"}, "must be a date"),
        ({**GOOD, "valid_to": "2026-08-31"}, "not the last day of a quarter"),
        ({**GOOD, "valid_to": "2026-03-31"}, "before valid_from"),
        ({**GOOD, "colour": "red"}, "unknown fields"),
        ({**GOOD, "categories": []}, "non-empty list"),
        ({**GOOD, "categories": GOOD["categories"] * 2}, "listed twice"),
        ({**GOOD, "categories": [{"code": "a", "name": "甲类"}]}, "exactly code, name and en"),
        (_without(GOOD, "name"), "`name` must be a non-empty text"),
        ("id: [unclosed", "not readable YAML"),
        ("- just a list", "expected a mapping"),
    ],
)
def test_a_bad_file_is_refused_naming_the_file(tmp_path, data, message):
    write(tmp_path, "bad.yaml", data)
    with pytest.raises(schemes.SchemeError, match=message) as info:
        schemes.load_all(tmp_path)
    assert "bad.yaml" in str(info.value) or "YAML" in str(info.value)


def test_two_schemes_in_force_on_one_day_are_refused(tmp_path):
    write(tmp_path, "one.yaml", {**GOOD, "valid_to": "2026-12-31"})
    write(tmp_path, "two.yaml", {**GOOD, "id": "test-2026q4", "valid_from": "2026-10-01"})
    with pytest.raises(schemes.SchemeError, match="both in force on 2026-10-01"):
        schemes.load_all(tmp_path)
    write(tmp_path, "two.yaml", GOOD)
    with pytest.raises(schemes.SchemeError, match="unique"):
        schemes.load_all(tmp_path)


def test_no_scheme_at_all_is_refused(tmp_path):
    with pytest.raises(schemes.SchemeError, match="at least one"):
        schemes.load_all(tmp_path)
    with pytest.raises(schemes.SchemeError, match="no such directory"):
        schemes.load_all(tmp_path / "missing")
