"""Header mapping: French and English synonyms, folding, custom fields, --map."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from phonebank.lists import headers
from phonebank.lists.errors import ListFileError
from phonebank.lists.headers import fold, guess_field, map_headers, parse_overrides


@pytest.mark.parametrize(
    ("header", "field"),
    [
        ("NOM", "last_name"),
        ("Nom d'usage", "last_name"),
        ("Last Name", "last_name"),
        ("Nom de naissance", "birth_name"),
        ("PRÉNOM", "first_name"),
        ("Prénoms", "first_name"),
        ("first_name", "first_name"),
        ("TÉL", "phone"),
        ("Tél.", "phone"),
        ("Téléphone", "phone"),
        ("Tél. domicile", "phone"),
        ("Fixe", "phone"),
        ("Portable", "phone"),
        ("Portable 2", "phone"),
        ("mobile", "phone"),
        ("Phone1", "phone"),
        ("N° de portable", "phone"),
        ("CP", "postal_code"),
        ("Code postal", "postal_code"),
        ("ZIP", "postal_code"),
        ("VILLE", "city"),
        ("Commune", "city"),
        ("city", "city"),
        ("BUREAU", "precinct"),
        ("Bureau de vote", "precinct"),
        ("precinct", "precinct"),
        ("STATUT", "support_level"),
        ("Support level", "support_level"),
        ("E-mail", "email"),
        ("Courriel", "email"),
        ("Date de naissance", "birth_date"),
        ("Né(e) le", "birth_date"),
        ("Adresse", "address_line1"),
        ("Complément d'adresse", "address_line2"),
    ],
)
def test_synonyms(header: str, field: str) -> None:
    assert guess_field(header) == field


def test_fold_ignores_accents_case_and_punctuation() -> None:
    assert fold("  Téléphone -- PORTABLE ") == "telephone portable"
    assert fold("Nom d’usage") == "nom d usage"


def test_unknown_columns_become_custom_fields_under_their_own_name() -> None:
    mapping = map_headers(["Nom", "Profession", "Tél", "Portable"])
    assert mapping.fields == {
        "Nom": "last_name",
        "Profession": "custom:Profession",
        "Tél": "phone",
        "Portable": "phone",
    }
    assert mapping.phone_columns == ["Tél", "Portable"]


def test_second_column_for_the_same_field_is_kept_as_custom() -> None:
    mapping = map_headers(["Nom", "Last name", "Tel"])
    assert mapping.fields == {"Nom": "last_name", "Last name": "custom:Last name", "Tel": "phone"}


def test_overrides_win() -> None:
    overrides = parse_overrides(["Numéro=phone", "nom=ignore", "Groupe=tags", "X=custom:Y"])
    assert overrides == {"numero": "phone", "nom": "ignore", "groupe": "tags", "x": "custom:Y"}
    mapping = map_headers(["NOM", "NUMÉRO", "Groupe", "X"], overrides)
    assert mapping.fields == {"NOM": "ignore", "NUMÉRO": "phone", "Groupe": "tags", "X": "custom:Y"}


@pytest.mark.parametrize(
    ("item", "message"),
    [("nom", "expected COLUMN=FIELD"), ("nom=", "expected COLUMN=FIELD"), ("a=b", "unknown field")],
)
def test_bad_overrides(item: str, message: str) -> None:
    with pytest.raises(ListFileError, match=message):
        parse_overrides([item])


def test_override_of_a_missing_column_names_it() -> None:
    with pytest.raises(ListFileError, match=r"list\.csv: --map names column\(s\) not in"):
        map_headers(["Nom"], {"telephone": "phone"}, source="list.csv")


_NAMES = st.text(
    alphabet=st.one_of(
        st.characters(min_codepoint=0x20, max_codepoint=0x24F),
        st.characters(min_codepoint=0x300, max_codepoint=0x36F),
        st.sampled_from("ŒœßØøĐđŁłİıſǅ½ﬁ’‐‑–—  ΣσςÅÅ"),
        st.characters(),
    ),
    max_size=30,
)


@settings(max_examples=3000, deadline=None)
@given(text=_NAMES)
def test_fold_by_table_is_fold_by_decomposition(text: str) -> None:
    # The translation table is a shortcut: it must give what Unicode's decomposition gives.
    assert fold(text) == headers._fold_slow(text)


def test_fold_table_covers_french_names() -> None:
    for name in ("Éloïse", "Noël", "Gaëtan", "Françoise", "Çağla", "Lê Văn Thành", "Ñúñez"):
        assert name.translate(headers._LATIN).isascii(), name
