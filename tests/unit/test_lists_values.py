"""Cell values and rows: dates, support levels, tags, several numbers per cell, merges."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from phonebank.db.enums import SupportLevel
from phonebank.lists.headers import map_headers
from phonebank.lists.merge import Draft, merge_into
from phonebank.lists.phones import Phone, normalize
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


_CELL_PARTS = st.sampled_from(
    [
        "06 12 34 56 78",
        "0612345678",
        "+33 6 12 34 56 79",
        "0033612345680",
        "06.12.34.56",
        "78",
        "0692 12 34 56",
        "01 42 68 53 00",
        "0899 12 34 56",
        " / ",
        "/",
        "\n",
        ";",
        ",",
        " ou ",
        " ",
        "\t",
        "(0)",
        "abc",
        "\u0661",
    ]
)


@settings(max_examples=2000, deadline=None)
@given(parts=st.lists(_CELL_PARTS, min_size=1, max_size=5), postal=st.sampled_from(["", "97400"]))
def test_a_phone_cell_reads_as_split_then_normalised(parts: list[str], postal: str) -> None:
    # RowParser reads a cell whole when the fast path takes it; that must be what splitting
    # the cell and normalising each piece gives.
    cell = "".join(parts).strip()
    mapping = map_headers(["Tél", "CP"])
    parsed = parse_row(Row(2, {"Tél": cell, "CP": postal}), mapping, "FR")
    expected: list[tuple[str, str]] = []
    for raw in split_numbers(cell):
        found = normalize(raw, "FR", postal or None)
        if isinstance(found, Phone) and found.e164 not in {e for e, _ in expected}:
            expected.append((found.e164, raw))
    assert [(p.e164, raw) for p, raw in parsed.phones] == expected
    assert [p for p, _ in parsed.phones] == [
        normalize(raw, "FR", postal or None) for _, raw in expected
    ]
