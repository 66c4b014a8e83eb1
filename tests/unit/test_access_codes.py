"""Daily access codes: pure rules."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from phonebank.accounts.codes import (
    ALPHABET,
    CODE_LENGTH,
    CodeWindow,
    clean_volunteer_name,
    code_usable,
    format_code,
    generate_code,
    guest_username,
    normalize_code,
    validity,
)

NOON = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)


def test_codes_use_the_unambiguous_alphabet() -> None:
    for _ in range(200):
        code = generate_code()
        assert len(code) == CODE_LENGTH and set(code) <= set(ALPHABET)
    assert not set("01OIL") & set(ALPHABET)


def test_typed_forms_normalise() -> None:
    assert normalize_code(" k7qf-2m9p ") == "K7QF2M9P"
    assert normalize_code("K7QF 2M9P") == "K7QF2M9P"
    assert format_code("K7QF2M9P") == "K7QF-2M9P"


def test_window() -> None:
    start, end = validity(NOON, 14)
    window = CodeWindow(start, end, None)
    assert code_usable(window, NOON)
    assert code_usable(window, end - timedelta(seconds=1))
    assert not code_usable(window, end)
    assert not code_usable(window, NOON - timedelta(seconds=1))
    revoked = CodeWindow(start, end, NOON + timedelta(hours=1))
    assert code_usable(revoked, NOON)
    assert not code_usable(revoked, NOON + timedelta(hours=1))
    with pytest.raises(ValueError):
        validity(NOON, 0)
    with pytest.raises(ValueError):
        validity(NOON, 24 * 8)


def test_names() -> None:
    assert clean_volunteer_name("  Élodie   Martin ") == "Élodie Martin"
    for bad in ("", "   ", "x" * 65, "bad\x00name"):
        with pytest.raises(ValueError):
            clean_volunteer_name(bad)


@given(st.text(min_size=1, max_size=64), st.text(min_size=1, max_size=64))
def test_guest_usernames_are_valid_and_distinct(one: str, two: str) -> None:
    first, second = guest_username(7, one), guest_username(7, two)
    assert len(first) <= 64 and not any(ch.isspace() for ch in first)
    assert first == first.lower()
    if one.casefold() != two.casefold():
        assert first != second
    assert guest_username(8, one) != first
