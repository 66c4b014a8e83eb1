"""Merge fields: `{first_name}` in an SMS text, `{{ first_name }}` in an e-mail template. Pure.

The fields a message may use are the contact's (first_name, last_name, city,
precinct, postal_code), the campaign's (campaign, election_date) and the
constants given with the send (`--set rally_place=Mairie`). A text naming any
other field is refused before anything is queued, with the field's name.
"""

from __future__ import annotations

import string
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date

from phonebank.followup.errors import FollowUpError

CONTACT_FIELDS = ("first_name", "last_name", "city", "precinct", "postal_code")
CAMPAIGN_FIELDS = ("campaign", "election_date")
# Always given to e-mail templates by the mailer itself.
EMAIL_FIELDS = ("unsubscribe_url", "language")


class MergeFieldError(FollowUpError):
    """A text or template names a merge field that no recipient has."""

    code = "unknown_merge_field"


@dataclass(frozen=True)
class ContactFields:
    first_name: str = ""
    last_name: str = ""
    city: str = ""
    precinct: str = ""
    postal_code: str = ""

    def as_dict(self) -> dict[str, str]:
        return {name: getattr(self, name) for name in CONTACT_FIELDS}


def campaign_fields(name: str, election_date: date | None) -> dict[str, str]:
    return {
        "campaign": name,
        "election_date": election_date.strftime("%d/%m/%Y") if election_date else "",
    }


def text_fields(text: str) -> tuple[str, ...]:
    """The merge fields a `str.format` text names; MergeFieldError if it is malformed."""
    names: list[str] = []
    try:
        parsed = list(string.Formatter().parse(text))
    except ValueError as exc:
        raise MergeFieldError(
            f"text has an unmatched brace ({exc}); write {{{{ or }}}} for a brace itself"
        ) from None
    for _literal, name, spec, conversion in parsed:
        if name is None:
            continue
        if not name.isidentifier() or spec or conversion:
            raise MergeFieldError(
                f"merge field {{{name}{'!' + conversion if conversion else ''}"
                f"{':' + spec if spec else ''}}} is not a plain field name such as {{first_name}}"
            )
        if name not in names:
            names.append(name)
    return tuple(names)


def check_fields(used: Iterable[str], available: Iterable[str], where: str) -> None:
    """Refuse a field nobody has; the message names it and lists the known ones."""
    known = set(available)
    unknown = [name for name in used if name not in known]
    if unknown:
        listed = ", ".join(sorted(known))
        raise MergeFieldError(
            f"{where} uses unknown merge field {{{unknown[0]}}}"
            + (f" (and {', '.join(unknown[1:])})" if unknown[1:] else "")
            + f"; known: {listed}"
        )


def available_fields(constants: Mapping[str, str]) -> tuple[str, ...]:
    return (*CONTACT_FIELDS, *CAMPAIGN_FIELDS, *constants)


def render_text(text: str, fields: Mapping[str, str]) -> str:
    """The SMS text for one recipient (fields already checked)."""
    return text.format_map(dict(fields))
