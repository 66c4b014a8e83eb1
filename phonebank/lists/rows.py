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
# A cell _MULTI cannot split: no "/" after a space, no list separator, no letters.
_ONE_NUMBER = re.compile(r"[0-9+().\-\u00a0\u202f_ ]*|[0-9+().\-/]*")
_MAX_TEXT = {"postal_code": 16, "country": 2, "precinct": 64, "email": 320, "external_id": 128}
# Fields whose cells are converted, not just cut to length (see _set_field).
_SPECIAL = frozenset({"birth_date", "support_level", "tags", "country"})


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
    if _ONE_NUMBER.fullmatch(cell):
        # Nearly every cell holds one number written with digits, spaces, dots, dashes.
        return [cell.strip()] if cell.strip() else []
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


# What a column does, decided once per file rather than once per cell.
_PHONE, _CUSTOM, _SET, _TEXT = range(4)


class RowParser:
    """`parse_row` for one file's mapping: the per-column decisions are made once."""

    def __init__(self, mapping: ColumnMap, region: str) -> None:
        self._mapping, self._region = mapping, region
        self._plan: list[tuple[str, int, str, int]] = []
        for header, target in mapping.fields.items():
            if target == IGNORE:
                continue
            if target == PHONE:
                self._plan.append((header, _PHONE, target, 0))
            elif target.startswith(CUSTOM_PREFIX):
                self._plan.append((header, _CUSTOM, target[len(CUSTOM_PREFIX) :], 0))
            elif target in _SPECIAL:
                self._plan.append((header, _SET, target, 0))
            elif target in SCALAR_FIELDS:
                limit = _MAX_TEXT.get(target, 255 if target.startswith("address") else 128)
                self._plan.append((header, _TEXT, target, limit))

    def __call__(self, row: Row) -> ParsedRow:
        """The row's contact; `reject` says why it cannot be imported, if so."""
        fields: dict[str, Any] = {}
        parsed = ParsedRow(row.line, fields, [], {}, [])
        if row.extra:
            width = len(self._mapping.fields)
            parsed.reject = (
                f"{width + len(row.extra)} or more cells where the header has "
                f"{width} (a delimiter inside an unquoted field?)"
            )
            return parsed
        phone_cells: list[tuple[str, str]] = []
        values = row.values
        for header, kind, target, limit in self._plan:
            value = values.get(header, "")
            if not value:
                continue
            if kind == _TEXT:
                if len(value) > limit:
                    parsed.warnings.append(f"{header}: longer than {limit} characters; cut")
                    value = value[:limit]
                fields[target] = value
            elif kind == _PHONE:
                phone_cells.append((header, value))
            elif kind == _CUSTOM:
                parsed.custom[target] = value
            else:
                _set_field(parsed, target, header, value)
        if not fields.get("last_name") and fields.get("birth_name"):
            # Electoral rolls may carry the birth name only: it is the name to call by.
            fields["last_name"] = fields["birth_name"]
        postal_code = fields.get("postal_code")
        region = self._region
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


def parse_row(row: Row, mapping: ColumnMap, region: str) -> ParsedRow:
    """The row's contact; `reject` says why it cannot be imported, if so."""
    return RowParser(mapping, region)(row)
