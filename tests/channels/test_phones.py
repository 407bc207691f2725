"""The one phone normaliser (channels.phones)."""

from __future__ import annotations

import pytest

from kesu.channels import phones


@pytest.mark.parametrize(
    "typed",
    ["13912345678", "+86 139-1234-5678", "+8613912345678", "(139) 1234 5678", " 139 1234 5678 "],
)
def test_the_ways_people_type_one_mobile_number_are_one_number(typed):
    number = phones.digits(typed)
    assert number == "13912345678"
    assert phones.is_mobile(number) and phones.is_phone(number)


def test_fixed_lines_are_phones_but_not_mobiles():
    number = phones.digits("0371-6566 0000")
    assert number == "037165660000"
    assert phones.is_phone(number) and not phones.is_mobile(number)


@pytest.mark.parametrize("typed", ["", "1234", "12345678901234567890123", "139abc45678"])
def test_what_is_not_a_phone(typed):
    assert not phones.is_phone(phones.digits(typed))
