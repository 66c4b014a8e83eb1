"""Cell values and rows: dates, support levels, tags, several numbers per cell, merges."""

from __future__ import annotations

from datetime import date

import pytest

from phonebank.db.enums import SupportLevel
from phonebank.lists.headers import map_headers
from phonebank.lists.merge import Draft, merge_into
from phonebank.lists.reader import Row
from phonebank.lists.rows import parse_row, split_numbers
from phonebank.lists.values import parse_date, parse_support, parse_tags


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("17/05/1980", date(1980, 5, 17)),
        ("1/2/1970", date(1970, 2, 1)),
        ("17.05.1980", date(1980, 5, 17)),
        ("17-05-1980", date(1980, 5, 17)),
        ("1980-05-17", date(1980, 5, 17)),
        ("1980-05-17T00:00:00", date(1980, 5, 17)),
        ("1980/05/17", date(1980, 5, 17)),
        ("17/05/80", date(1980, 5, 17)),
        ("31/02/1990", None),
        ("mai 1980", None),
        ("", None),
    ],
)
def test_dates(text: str, expected: date | None) -> None:
    assert parse_date(text) == expected


@pytest.mark.parametrize(
    ("text", "level"),
    [
        ("Indécis", SupportLevel.UNDECIDED),
        ("SOUTIEN", SupportLevel.STRONG_SUPPORTER),
        ("plutôt favorable", SupportLevel.LEAN_SUPPORTER),
        ("Opposé", SupportLevel.OPPOSED),
        ("lean_opposed", SupportLevel.LEAN_OPPOSED),
        ("5", SupportLevel.OPPOSED),
        ("", SupportLevel.UNKNOWN),
        ("peut-être", None),
    ],
)
def test_support_levels(text: str, level: SupportLevel | None) -> None:
    assert parse_support(text) == level


def test_tags_and_number_lists() -> None:
    assert parse_tags("vip, tract;porte-à-porte | ") == ["vip", "tract", "porte-à-porte"]
    assert split_numbers("06 12 34 56 78 / 01 42 68 53 00") == ["06 12 34 56 78", "01 42 68 53 00"]
    assert split_numbers("0612345678; 0712345678 ou 0142685300") == [
        "0612345678",
        "0712345678",
        "0142685300",
    ]
    assert split_numbers("06/12/34/56/78") == ["06/12/34/56/78"]


def test_row_with_bad_values_keeps_them_as_custom_fields() -> None:
    mapping = map_headers(["Nom de naissance", "Tél", "Né le", "Statut"])
    row = Row(
        4,
        {
            "Nom de naissance": "Payet",
            "Tél": "0692 12 34 56 / 12",
            "Né le": "hier",
            "Statut": "bof",
        },
    )
    parsed = parse_row(row, mapping, "FR")
    assert parsed.reject is None
    assert parsed.fields["last_name"] == parsed.fields["birth_name"] == "Payet"
    assert [p.e164 for p, _ in parsed.phones] == ["+262692123456"]
    assert len(parsed.invalid) == 1
    assert parsed.custom == {"Né le": "hier", "Statut": "bof"}
    assert len(parsed.warnings) == 3


def test_merge_fills_keeps_aside_and_unites() -> None:
    draft = Draft(
        {
            "first_name": "Amélie",
            "city": "Paris",
            "email": None,
            "support_level": SupportLevel.UNKNOWN,
        },
        tags=["a"],
        custom={"Note": "x"},
    )
    changed = merge_into(
        draft,
        {
            "first_name": "AMELIE",
            "city": "Lyon",
            "email": "a@b.fr",
            "support_level": SupportLevel.UNDECIDED,
        },
        ["a", "b"],
        {"Note": "y", "Autre": "z"},
    )
    assert changed and draft.dirty
    assert draft.fields == {
        "first_name": "Amélie",
        "city": "Paris",
        "email": "a@b.fr",
        "support_level": SupportLevel.UNDECIDED,
    }
    assert draft.tags == ["a", "b"]
    assert draft.custom == {"Note": "x", "city (2)": "Lyon", "Note (2)": "y", "Autre": "z"}
    # The same values again change nothing.
    draft.dirty = False
    assert not merge_into(draft, {"city": "Lyon"}, ["b"], {"Note": "y"})
    assert not draft.dirty
