"""Recognising an opt-out reply (STOP, ARRET, ARRÊT, DESABONNER, UNSUBSCRIBE)."""

from __future__ import annotations

import unicodedata

STOP_WORDS = frozenset({"STOP", "ARRET", "DESABONNER", "DESINSCRIRE", "UNSUBSCRIBE", "STOPSMS"})


def _fold(text: str) -> str:
    """Upper case without accents: ARRÊT → ARRET, désabonner → DESABONNER."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).upper()


def is_stop(text: str) -> bool:
    """True when the whole reply is a stop word, whatever the case, spaces or punctuation.

    "Stop!", " arrêt. ", "STOP STOP" count; "Don't stop" or "stop calling me at 8"
    do not: a sentence is stored as a reply for a person to read.
    """
    words = "".join(c if c.isalnum() else " " for c in _fold(text)).split()
    return bool(words) and all(word in STOP_WORDS for word in words)
