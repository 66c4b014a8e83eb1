"""Rows of a list import as PostgreSQL COPY text: built apart from sending it, so that
the text of one chunk can be made while the previous one is still being written."""

from __future__ import annotations

import json
import re
from collections.abc import Collection, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date
from itertools import repeat
from typing import Any

from sqlalchemy import Connection, Table

from phonebank.db.enums import SupportLevel
from phonebank.lists.merge import SCALAR_FIELDS, Draft, NewPhone


def json_text(value: Any) -> str:
    # Most contacts have no tags and no custom fields: skip the encoder for those.
    if not value:
        return "[]" if isinstance(value, list) else "{}"
    return json.dumps(value, ensure_ascii=False)


@dataclass
class CopyData:
    """Rows of one table in COPY's text format, encoded, ready to send."""

    table: Table
    columns: Sequence[str]
    data: bytes


# COPY's text format: fields separated by tabs, NULL as \N, and in a value a backslash,
# tab, line feed or carriage return escaped with a backslash.
NULL = "\\N"
_UNSAFE = re.compile(r"[\\\t\n\r]")
_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


def cell(value: Any) -> str:
    """One value as a field of COPY's text format."""
    if value is None:
        return NULL
    if value is True or value is False:
        return "t" if value else "f"
    if isinstance(value, str):
        text = value
    elif isinstance(value, date):
        text = value.isoformat()
    else:
        text = str(value)
    return text.translate(_ESCAPES) if _UNSAFE.search(text) else text


def _encoded(lines: list[str]) -> bytes:
    # Encoded here, in the thread that builds it: the thread that sends it then hands
    # bytes to the driver without needing the interpreter for long.
    return ("\n".join(lines) + "\n").encode()


def copy_data(
    table: Table, columns: Sequence[str], rows: Iterable[Sequence[Any]]
) -> CopyData | None:
    """Rows (tuples in `columns` order, JSON already encoded); None when there are none."""
    lines = ["\t".join(map(cell, row)) for row in rows]
    return CopyData(table, columns, _encoded(lines)) if lines else None


def send_copy(conn: Connection, data: CopyData | None) -> None:
    """COPY the rows on PostgreSQL, inside the connection's transaction. Columns left out
    take their server default (the timestamps: the transaction's time)."""
    if data is None:
        return
    raw: Any = conn.connection.driver_connection
    with (
        raw.cursor() as cursor,
        cursor.copy(f"COPY {data.table.name} ({', '.join(data.columns)}) FROM STDIN") as copy,
    ):
        copy.write(data.data)


# Columns every new contact is written with; the rest of merge.SCALAR_FIELDS only when
# the file has a column for them (see contact_columns).
_FIRST = ("id", "first_name", "last_name", "support_level")
_LAST = ("campaign_id", "tags", "custom_fields", "source")
CONTACT_COLUMNS = (*_FIRST, *(f for f in SCALAR_FIELDS if f not in _FIRST), *_LAST)
_UNKNOWN = SupportLevel.UNKNOWN


def contact_columns(fields: Collection[str]) -> tuple[str, ...]:
    """The columns new contacts made from a file with these fields are written with.

    A field no column of the file maps stays NULL in every new contact: leaving it out
    of the COPY spares the csv module and the server an empty field per row.
    """
    return (*_FIRST, *(f for f in CONTACT_COLUMNS[4:-4] if f in fields), *_LAST)


def contact_rows(
    drafts: Sequence[Draft], campaign: int, columns: Sequence[str] = CONTACT_COLUMNS
) -> Iterator[tuple[Any, ...]]:
    """New contacts as rows in `columns` order (see contact_columns)."""
    optional = columns[4:-4]
    for d in drafts:
        get = d.fields.get
        yield (
            d.id,
            get("first_name") or "",
            get("last_name") or "",
            get("support_level") or _UNKNOWN,
            *map(get, optional),
            campaign,
            json_text(d.tags),
            json_text(d.custom),
            d.source,
        )


def contact_copy(
    table: Table, drafts: Sequence[Draft], campaign: int, columns: Sequence[str]
) -> CopyData | None:
    """contact_rows as COPY text, built for speed (a million rows go through here). A
    row is joined as it is, then checked: as many tabs as columns less one, as many
    backslashes as missing values (each a \\N: a person's own backslash, or own "\\N",
    adds one), no line break. Only a row that fails (a value with one of those
    characters) is built again value by value, escaped."""
    if not drafts:
        return None
    optional = columns[4:-4]
    nulls, width = repeat(NULL), len(optional)
    born = optional.index("birth_date") if "birth_date" in optional else -1
    tabs, tail = len(columns) - 1, f"\t{campaign}"
    lines = []
    for d in drafts:
        fields = d.fields
        get = fields.get
        values = list(map(get, optional, nulls))
        if born >= 0 and values[born] is not NULL:
            values[born] = values[born].isoformat()
        first, last, source = get("first_name") or "", get("last_name") or "", d.source or ""
        line = "\t".join(
            (str(d.id), first, last, get("support_level") or _UNKNOWN, *values)
        ) + "\t".join(
            (
                tail,
                json_text(d.tags) if d.tags else "[]",
                json_text(d.custom) if d.custom else "{}",
                source,
            )
        )
        if (
            line.count("\t") != tabs
            or line.count("\\") != width - sum(map(fields.__contains__, optional))
            or "\n" in line
            or "\r" in line
        ):
            line = "\t".join(map(cell, next(contact_rows([d], campaign, columns))))
        lines.append(line)
    return CopyData(table, columns, _encoded(lines))


PHONE_COLUMNS = (
    "contact_id",
    "e164",
    "raw",
    "type",
    "country",
    "time_zone",
    "position",
    "callable",
    "do_not_call",
)


def phone_rows(phones: Iterable[tuple[int, NewPhone, int]]) -> Iterator[tuple[Any, ...]]:
    """(contact id, phone, position) as rows in PHONE_COLUMNS order."""
    for contact_id, p, position in phones:
        phone = p.phone
        yield (
            contact_id,
            phone.e164,
            p.raw[:64],
            phone.type,
            phone.country or None,
            phone.time_zone,
            position,
            not p.do_not_call,
            p.do_not_call,
        )


def phone_copy(table: Table, phones: Sequence[tuple[int, NewPhone, int]]) -> CopyData | None:
    """phone_rows as COPY text, built for speed: only the number as written comes from
    the file (the rest is phonenumbers' and ours), so only it is checked for escapes."""
    if not phones:
        return None
    lines = []
    for contact_id, p, position in phones:
        phone = p.phone
        raw = p.raw[:64]
        if "\\" in raw or "\t" in raw or "\n" in raw or "\r" in raw:
            raw = raw.translate(_ESCAPES)
        flags = "f\tt" if p.do_not_call else "t\tf"
        lines.append(
            f"{contact_id}\t{phone.e164}\t{raw}\t{phone.type.value}\t{phone.country or NULL}"
            f"\t{phone.time_zone}\t{position}\t{flags}"
        )
    return CopyData(table, PHONE_COLUMNS, _encoded(lines))
