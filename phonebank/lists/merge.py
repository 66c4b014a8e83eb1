"""One contact being built from rows: fields, phones, and the merge rules. Pure.

Merge rules (the same person seen twice): an empty field is filled; a field
that already has a different value keeps it and the new value is kept as the
custom field "<field> (2)" (then " (3)", ...) so that nothing is lost; tags
are united; custom fields missing on the contact are added, different ones
are kept under "<name> (2)"; phones are added (one phone per number per
campaign). The support level counts as empty while it is "unknown".
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any, NamedTuple

from phonebank.db.enums import SupportLevel
from phonebank.lists.headers import fold
from phonebank.lists.phones import Phone

# Contact columns an import may write, besides tags and custom_fields.
SCALAR_FIELDS = (
    "first_name",
    "last_name",
    "birth_name",
    "birth_date",
    "address_line1",
    "address_line2",
    "address_line3",
    "postal_code",
    "city",
    "country",
    "precinct",
    "support_level",
    "email",
    "external_id",
)


# Names compare as the identity rule does: "DUPONT" and "Dupont" are one value.
_NAMES = frozenset({"first_name", "last_name", "birth_name"})


class NewPhone(NamedTuple):
    phone: Phone
    raw: str
    do_not_call: bool


@dataclass(slots=True)
class Draft:
    """A contact: new (not yet written) or loaded from the database to be merged into."""

    fields: dict[str, Any]
    tags: list[str] = field(default_factory=list)
    custom: dict[str, Any] = field(default_factory=dict)
    id: int | None = None
    # The file it came from: its external id means something only there.
    source: str | None = None
    # Phones to write, and how many it already has in the database (their positions).
    phones: list[NewPhone] = field(default_factory=list)
    stored_phones: int = 0
    # Written to the database (or to be, by a write already handed over).
    persisted: bool = False
    dirty: bool = False
    # Name|birth-date key, while it is known to be right: a draft made from a row starts
    # with the row's own (computing it again costs a fold of both names); a merge that
    # changes anything drops it.
    key_cache: tuple[str | None] | None = None

    @property
    def birth_date(self) -> date | None:
        value = self.fields.get("birth_date")
        return value if isinstance(value, date) else None


def _empty(name: str, value: Any) -> bool:
    if name == "support_level":
        return value in (None, SupportLevel.UNKNOWN)
    return value is None or value == ""


def _same(name: str, current: Any, value: Any) -> bool:
    if isinstance(current, str) and isinstance(value, str):
        if name in _NAMES:
            return fold(current) == fold(value)
        return current.strip().casefold() == value.strip().casefold()
    return bool(current == value)


def _keep_aside(custom: dict[str, Any], name: str, value: Any) -> None:
    text = value.isoformat() if isinstance(value, date) else str(value)
    if text in (str(v) for k, v in custom.items() if k == name or k.startswith(f"{name} (")):
        return
    n = 2
    while f"{name} ({n})" in custom:
        n += 1
    custom[f"{name} ({n})"] = text


def merge_into(
    target: Draft,
    fields: dict[str, Any],
    tags: list[str],
    custom: dict[str, Any],
    same_source: bool = True,
) -> bool:
    """Merge one row's values into `target`; True if anything changed.

    A row from another file than the contact's (`same_source` false) keeps its external
    id aside: that id names the person in the row's file, not in the contact's.
    """
    changed = False
    for name, value in fields.items():
        if _empty(name, value):
            continue
        current = target.fields.get(name)
        if name == "external_id" and not same_source:
            before = len(target.custom)
            _keep_aside(target.custom, name, value)
            changed = changed or len(target.custom) != before
        elif _empty(name, current):
            target.fields[name] = value
            changed = True
        elif not _same(name, current, value):
            before = len(target.custom)
            _keep_aside(target.custom, name, value)
            changed = changed or len(target.custom) != before
    for tag in tags:
        if tag not in target.tags:
            target.tags.append(tag)
            changed = True
    for name, value in custom.items():
        if value in (None, ""):
            continue
        if name not in target.custom or target.custom[name] in (None, ""):
            target.custom[name] = value
            changed = True
        elif target.custom[name] != value:
            before = len(target.custom)
            _keep_aside(target.custom, name, value)
            changed = changed or len(target.custom) != before
    if changed:
        target.key_cache = None
    target.dirty = target.dirty or changed
    return changed
