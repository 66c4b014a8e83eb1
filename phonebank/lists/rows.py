"""One file row → contact fields and normalised phones, or a rejection. Pure."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from phonebank.lists.headers import CUSTOM_PREFIX, IGNORE, PHONE, ColumnMap
from phonebank.lists.merge import SCALAR_FIELDS
from phonebank.lists.phones import MAX_RAW, Phone, Rejection, normalize, normalize_fast
from phonebank.lists.reader import Record, Row
from phonebank.lists.values import (
    identity_key,
    name_key,
    parse_date,
    parse_support,
    parse_tags,
)

# Several numbers in one cell: "06 12 34 56 78 / 01 42 68 53 00", "0612345678; 0712345678".
_MULTI = re.compile(r"\s+/\s+|[;,|\n]|\s+(?:ou|or|et|and)\s+", re.IGNORECASE)
# A cell _MULTI cannot split: no "/" after a space, no list separator, no letters.
_ONE_NUMBER = re.compile(r"[0-9+().\-\u00a0\u202f_ ]*|[0-9+().\-/]*")
_MAX_TEXT = {"postal_code": 16, "country": 2, "precinct": 64, "email": 320, "external_id": 128}
# Fields whose cells are converted, not just cut to length (see _set_field).
_SPECIAL = frozenset({"birth_date", "support_level", "tags", "country"})


class ParsedRow:
    """A row read into a contact's fields, its numbers and what went wrong."""

    __slots__ = (
        "custom",
        "fields",
        "identity_key",
        "invalid",
        "line",
        "name_key",
        "numbers",
        "phones",
        "reject",
        "tags",
        "warnings",
    )

    def __init__(
        self,
        line: int,
        fields: dict[str, Any],
        tags: list[str],
        custom: dict[str, Any],
        phones: list[tuple[Phone, str]],
    ) -> None:
        self.line = line
        self.fields = fields
        self.tags = tags
        self.custom = custom
        self.phones = phones
        # The E.164 of `phones`.
        self.numbers: set[str] = set()
        self.invalid: list[Rejection] = []
        self.warnings: list[str] = []
        # Why the whole row is rejected (None: it is imported).
        self.reject: str | None = None
        # Folded "last|first", and that plus the birth date: enough to say two rows are
        # one person (None without a name or a date). Set once the row is parsed.
        self.name_key = "|"
        self.identity_key: str | None = None

    @property
    def anonymous(self) -> bool:
        return self.name_key == "|"


def split_numbers(cell: str) -> list[str]:
    if _ONE_NUMBER.fullmatch(cell):
        # Nearly every cell holds one number written with digits, spaces, dots, dashes.
        return [cell.strip()] if cell.strip() else []
    return [part.strip() for part in _MULTI.split(cell) if part.strip()]


def _not_a(what: str, parsed: ParsedRow, header: str, value: str) -> None:
    parsed.warnings.append(f"{header}: {value!r} is not {what}; kept as a custom field")
    parsed.custom[header] = value


def _set_field(parsed: ParsedRow, target: str, header: str, value: str) -> None:
    if target == "tags":
        parsed.tags.extend(t for t in parse_tags(value) if t not in parsed.tags)
    else:  # country
        parsed.fields["country"] = value.upper()[:2]


# What a column does, decided once per file rather than once per cell.
_PHONE, _CUSTOM, _SET, _TEXT, _DATE, _SUPPORT = range(6)


class RowParser:
    """Rows of one file → ParsedRow; the per-column decisions are made once."""

    def __init__(self, mapping: ColumnMap, region: str, headers: Sequence[str] = ()) -> None:
        headers = list(headers or mapping.fields)
        self._width, self._region = len(headers), region
        # (cell index, header, what to do, field, length limit), in column order.
        self._plan: list[tuple[int, str, int, str, int]] = []
        for index, header in enumerate(headers):
            target = mapping.fields.get(header, IGNORE)
            if target == IGNORE:
                continue
            if target == PHONE:
                self._plan.append((index, header, _PHONE, target, 0))
            elif target.startswith(CUSTOM_PREFIX):
                self._plan.append((index, header, _CUSTOM, target[len(CUSTOM_PREFIX) :], 0))
            elif target == "birth_date":
                self._plan.append((index, header, _DATE, target, 0))
            elif target == "support_level":
                self._plan.append((index, header, _SUPPORT, target, 0))
            elif target in _SPECIAL:
                self._plan.append((index, header, _SET, target, 0))
            elif target in SCALAR_FIELDS:
                limit = _MAX_TEXT.get(target, 255 if target.startswith("address") else 128)
                self._plan.append((index, header, _TEXT, target, limit))

    @property
    def fields(self) -> set[str]:
        """The contact fields rows of this file can fill."""
        found = {target for _, _, kind, target, _ in self._plan if kind not in (_PHONE, _CUSTOM)}
        return found | {"last_name"} if "birth_name" in found else found

    def __call__(self, record: Record) -> ParsedRow:
        """The row's contact; `reject` says why it cannot be imported, if so."""
        line, cells = record
        fields: dict[str, Any] = {}
        parsed = ParsedRow(line, fields, [], {}, [])
        width = self._width
        if len(cells) > width and any(cells[width:]):
            extra = sum(1 for c in cells[width:] if c)
            parsed.reject = (
                f"{width + extra} or more cells where the header has "
                f"{width} (a delimiter inside an unquoted field?)"
            )
            return parsed
        phone_cells: list[tuple[str, str]] = []
        for index, header, kind, target, limit in self._plan:
            value = cells[index]
            if not value:
                continue
            if kind == _TEXT:
                if len(value) > limit:
                    parsed.warnings.append(f"{header}: longer than {limit} characters; cut")
                    value = value[:limit]
                fields[target] = value
            elif kind == _PHONE:
                phone_cells.append((header, value))
            elif kind == _DATE:
                birth = parse_date(value)
                if birth is None:
                    _not_a("a date", parsed, header, value)
                else:
                    fields[target] = birth
            elif kind == _SUPPORT:
                level = parse_support(value)
                if level is None:
                    _not_a("a known support level", parsed, header, value)
                else:
                    fields[target] = level
            elif kind == _CUSTOM:
                parsed.custom[target] = value
            else:
                _set_field(parsed, target, header, value)
        if "last_name" not in fields and "birth_name" in fields:
            # Electoral rolls may carry the birth name only: it is the name to call by.
            fields["last_name"] = fields["birth_name"]
        self._phones(parsed, phone_cells, fields.get("postal_code"))
        if parsed.reject is None:
            # The keys, once the fields are final.
            key = name_key(fields.get("last_name") or "", fields.get("first_name") or "")
            parsed.name_key = key
            parsed.identity_key = identity_key(key, fields.get("birth_date"))
        return parsed

    def _phones(
        self, parsed: ParsedRow, phone_cells: list[tuple[str, str]], postal_code: str | None
    ) -> None:
        region = self._region
        seen = parsed.numbers
        for header, cell in phone_cells:
            # One number in the cell, nearly always. A cell with no "/" nor line break that
            # the fast path reads whole cannot be one split_numbers would cut (what else
            # it cuts on, ; , | and words, the fast path does not read), so it is that one.
            if "/" not in cell and "\n" not in cell and len(cell) <= MAX_RAW:
                phone = normalize_fast(cell, region, postal_code)
                if phone is not None:
                    if phone.e164 not in seen:
                        seen.add(phone.e164)
                        parsed.phones.append((phone, cell.strip()))
                    continue
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


def parse_row(row: Row, mapping: ColumnMap, region: str) -> ParsedRow:
    """The row's contact; `reject` says why it cannot be imported, if so."""
    headers = list(mapping.fields)
    cells = [row.values.get(h, "") for h in headers] + row.extra
    return RowParser(mapping, region, headers)((row.line, cells))
