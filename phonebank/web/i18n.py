"""French and English: catalogs read from `web/translations/*.po`, and choosing a language.

The `.po` files are the source of truth and are compiled in memory at start-up, so
there is no build step and no compiled file to forget. English is the source
language of every message.
"""

from __future__ import annotations

import io
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import NullTranslations, Translations

LANGUAGES = ("fr", "en")
DEFAULT_LANGUAGE = "fr"
LANGUAGE_NAMES = {"fr": "Français", "en": "English"}


def load_translations(translations_dir: Path) -> dict[str, NullTranslations]:
    """One translations object per language; English needs no catalog."""
    catalogs: dict[str, NullTranslations] = {"en": NullTranslations()}
    for language in LANGUAGES:
        po = translations_dir / language / "LC_MESSAGES" / "messages.po"
        if language == "en" and not po.exists():
            continue
        with po.open("rb") as handle:
            catalog = read_po(handle, locale=language)
        buffer = io.BytesIO()
        # Fuzzy entries are guesses by the tools, not translations: leave them out.
        write_mo(buffer, catalog, use_fuzzy=False)
        buffer.seek(0)
        catalogs[language] = Translations(fp=buffer)
    return catalogs


def parse_accept_language(header: str) -> list[tuple[str, float]]:
    """`fr-CH, fr;q=0.9, en;q=0.8` → [("fr-ch", 1.0), ("fr", 0.9), ("en", 0.8)], best first."""
    ranges: list[tuple[str, float]] = []
    for part in header.split(","):
        tag, _, params = part.strip().partition(";")
        tag = tag.strip().lower()
        if not tag:
            continue
        quality = 1.0
        params = params.strip()
        if params.startswith("q="):
            try:
                quality = float(params[2:])
            except ValueError:
                quality = 0.0
        if 0.0 < quality <= 1.0:
            ranges.append((tag, quality))
    return sorted(ranges, key=lambda item: -item[1])


def choose_language(preferred: str | None, accept_language: str) -> str:
    """The user's own setting first, then the browser's wishes, then French."""
    if preferred in LANGUAGES:
        return preferred
    for tag, _quality in parse_accept_language(accept_language):
        primary = tag.split("-")[0]
        if primary in LANGUAGES:
            return primary
    return DEFAULT_LANGUAGE
