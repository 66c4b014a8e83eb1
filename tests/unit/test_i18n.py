"""French and English: language choice, and every message of the interface translated."""

from __future__ import annotations

from pathlib import Path

from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po
from hypothesis import given
from hypothesis import strategies as st

from phonebank.web.i18n import LANGUAGES, choose_language, load_translations, parse_accept_language

ROOT = Path(__file__).resolve().parents[2]


def _interface_messages() -> set[str]:
    method_map = [("phonebank/**.py", "python"), ("web/templates/**.html", "jinja2")]
    options = {"web/templates/**.html": {"extensions": "jinja2.ext.i18n"}}
    found = set()
    for _file, _line, message, _comments, _context in extract_from_dir(
        str(ROOT), method_map, options
    ):
        found.add(message if isinstance(message, str) else message[0])
    return found


def test_every_interface_message_has_a_french_translation() -> None:
    with (ROOT / "web/translations/fr/LC_MESSAGES/messages.po").open("rb") as handle:
        catalog = read_po(handle, locale="fr")
    translated = {m.id for m in catalog if m.id and m.string and not m.fuzzy}
    messages = _interface_messages()
    assert messages, "no messages extracted: is the extraction set up?"
    missing = sorted(messages - translated)
    assert missing == [], "run `make translations`, then translate these in messages.po"


def test_catalogs_load_and_translate() -> None:
    catalogs = load_translations(ROOT / "web" / "translations")
    assert set(catalogs) == set(LANGUAGES)
    assert catalogs["fr"].gettext("Log in") == "Se connecter"
    assert catalogs["en"].gettext("Log in") == "Log in"


def test_accept_language_parsing() -> None:
    assert parse_accept_language("fr-CH, fr;q=0.9, en;q=0.8, *;q=0.5") == [
        ("fr-ch", 1.0),
        ("fr", 0.9),
        ("en", 0.8),
        ("*", 0.5),
    ]
    assert parse_accept_language("en;q=0, de;q=bad") == []


def test_language_choice_order() -> None:
    assert choose_language("en", "fr-FR,fr") == "en"  # the user's own setting wins
    assert choose_language(None, "de-DE, en-GB;q=0.8, fr;q=0.5") == "en"
    assert choose_language("", "de") == "fr"  # nothing we speak: French
    assert choose_language("xx", "") == "fr"


@given(st.text(), st.one_of(st.none(), st.text()))
def test_choose_language_always_answers_a_supported_language(
    header: str, preferred: str | None
) -> None:
    assert choose_language(preferred, header) in LANGUAGES
