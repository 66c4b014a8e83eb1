"""The default dispositions' labels, translated on the screen.

Campaigns store their own labels; the defaults (phonebank/campaigns/defaults.py)
are written in English, so a French screen shows the French text of a label
that is still the default one. A label an admin changed is shown as written.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any


def N_(message: str) -> str:  # the name Babel's extractor looks for
    """Mark a message for translation without translating it here."""
    return message


DEFAULT_LABELS = frozenset(
    {
        N_("Strong supporter"),
        N_("Leaning supporter"),
        N_("Undecided"),
        N_("Opposed"),
        N_("Not home"),
        N_("Voicemail"),
        N_("Wrong number"),
        N_("Refused to talk"),
        N_("Call back later"),
        N_("Moved or deceased"),
        N_("Asked not to be called again"),
    }
)


def label_translator(gettext: Callable[[str], str]) -> Callable[[str], str]:
    """A label in the screen's language if it is a default one, else as written."""
    return lambda text: gettext(text) if text in DEFAULT_LABELS else text


def localize_card(card: dict[str, Any], gettext: Callable[[str], str]) -> dict[str, Any]:
    """The card with default disposition labels in the screen's language."""

    label = label_translator(gettext)
    dispositions = [d | {"label": label(d["label"])} for d in card.get("dispositions", ())]
    history = [h | {"disposition": label(h["disposition"])} for h in card.get("history", ())]
    return card | {"dispositions": dispositions, "history": history}
