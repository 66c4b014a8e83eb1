"""One file row → contact fields and normalised phones, or a rejection. Pure."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from phonebank.lists.headers import CUSTOM_PREFIX, IGNORE, PHONE, ColumnMap
from phonebank.lists.merge import SCALAR_FIELDS
from phonebank.lists.phones import Phone, Rejection, normalize
from phonebank.lists.reader import Row
from phonebank.lists.values import name_key, parse_date, parse_support, parse_tags

# Several numbers in one cell: "06 12 34 56 78 / 01 42 68 53 00", "0612345678; 0712345678".
_MULTI = re.compile(r"\s+/\s+|[;,|\n]|\s+(?:ou|or|et|and)\s+", re.IGNORECASE)
_MAX_TEXT = {"postal_code": 16, "country": 2, "precinct": 64, "email": 320, "external_id": 128}


@dataclass
class ParsedRow:
    line: int
    fields: dict[str, Any]
    tags: list[str]
    custom: dict[str, Any]
    phones: list[tuple[Phone, str]]
    invalid: list[Rejection] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    # Why the whole row is rejected (None: it is imported).
    reject: str | None = None

    def __post_init__(self) -> None:
        self._keys: tuple[str, str | None] | None = None

    def _compute_keys(self) -> tuple[str, str | None]:
        if self._keys is None:
            key = name_key(self.fields.get("last_name") or "", self.fields.get("first_name") or "")
            birth = self.fields.get("birth_date")
            identity = None if birth is None or key == "|" else f"{key}|{birth.isoformat()}"
            self._keys = (key, identity)
        return self._keys

    @property
    def name_key(self) -> str:
        return self._compute_keys()[0]

    @property
    def anonymous(self) -> bool:
        return self.name_key == "|"

    @property
    def identity_key(self) -> str | None:
        """Name and birth date: enough to say two rows are one person (set once parsed)."""
        return self._compute_keys()[1]


def split_numbers(cell: str) -> list[str]:
    return [part.strip() for part in _MULTI.split(cell) if part.strip()]


def _set_field(parsed: ParsedRow, target: str, header: str, value: str) -> None:
    if target == "birth_date":
        birth = parse_date(value)
        if birth is None:
            parsed.warnings.append(f"{header}: {value!r} is not a date; kept as a custom field")
            parsed.custom[header] = value
        else:
            parsed.fields["birth_date"] = birth
    elif target == "support_level":
        level = parse_support(value)
        if level is None:
            parsed.warnings.append(
                f"{header}: {value!r} is not a known support level; kept as a custom field"
            )
            parsed.custom[header] = value
        else:
            parsed.fields["support_level"] = level
    elif target == "tags":
        parsed.tags.extend(t for t in parse_tags(value) if t not in parsed.tags)
    elif target == "country":
        parsed.fields["country"] = value.upper()[:2]
    else:
        limit = _MAX_TEXT.get(target, 255 if target.startswith("address") else 128)
        if len(value) > limit:
            parsed.warnings.append(f"{header}: longer than {limit} characters; cut")
        parsed.fields[target] = value[:limit]


def parse_row(row: Row, mapping: ColumnMap, region: str) -> ParsedRow:
    """The row's contact; `reject` says why it cannot be imported, if so."""
    parsed = ParsedRow(row.line, {}, [], {}, [])
    if row.extra:
        parsed.reject = (
            f"{len(mapping.fields) + len(row.extra)} or more cells where the header has "
            f"{len(mapping.fields)} (a delimiter inside an unquoted field?)"
        )
        return parsed
    phone_cells: list[tuple[str, str]] = []
    for header, target in mapping.fields.items():
        value = row.values.get(header, "")
        if not value or target == IGNORE:
            continue
        if target == PHONE:
            phone_cells.append((header, value))
        elif target.startswith(CUSTOM_PREFIX):
            parsed.custom[target[len(CUSTOM_PREFIX) :]] = value
        elif target in SCALAR_FIELDS or target == "tags":
            _set_field(parsed, target, header, value)
    if not parsed.fields.get("last_name") and parsed.fields.get("birth_name"):
        # Electoral rolls may carry the birth name only: it is the name to call by.
        parsed.fields["last_name"] = parsed.fields["birth_name"]
    postal_code = parsed.fields.get("postal_code")
    seen: set[str] = set()
    for header, cell in phone_cells:
        for raw in split_numbers(cell):
            result = normalize(raw, region, postal_code)
            if isinstance(result, Rejection):
                parsed.invalid.append(result)
                parsed.warnings.append(f"{header}: {result}")
            elif result.e164 not in seen:
                seen.add(result.e164)
                parsed.phones.append((result, raw))
    if not parsed.phones:
        parsed.reject = (
            "no valid phone number (" + "; ".join(str(r) for r in parsed.invalid) + ")"
            if parsed.invalid
            else "no phone number"
        )
    return parsed
