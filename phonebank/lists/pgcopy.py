"""Rows of a list import as PostgreSQL COPY text: built apart from sending it, so that
the text of one chunk can be made while the previous one is still being written."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Collection, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, String, Table

from phonebank.db.enums import SupportLevel
from phonebank.lists.merge import SCALAR_FIELDS, Draft, NewPhone


def json_text(value: Any) -> str:
    # Most contacts have no tags and no custom fields: skip the encoder for those.
    if not value:
        return "[]" if isinstance(value, list) else "{}"
    return json.dumps(value, ensure_ascii=False)


@dataclass
class CopyData:
    """Rows of one table as COPY's CSV text, encoded, ready to send."""

    table: Table
    columns: Sequence[str]
    data: bytes


def copy_data(
    table: Table, columns: Sequence[str], rows: Iterable[Sequence[Any]]
) -> CopyData | None:
    """Rows (tuples in `columns` order, JSON already encoded) as CSV, written by the csv
    module (C speed); None when there are none."""
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerows(rows)
    text = buffer.getvalue()
    # Encoded here, in the thread that builds it: the thread that sends it then hands
    # bytes to the driver without needing the interpreter for long.
    return CopyData(table, columns, text.encode()) if text else None


def send_copy(conn: Connection, data: CopyData | None) -> None:
    """COPY the rows on PostgreSQL, inside the connection's transaction: an empty
    field is NULL, except in NOT NULL text columns (FORCE_NOT_NULL), where it is ''.
    Columns left out take their server default (the timestamps: the transaction's time)."""
    if data is None:
        return
    table, columns = data.table, data.columns
    not_null_text = [
        c for c in columns if not table.c[c].nullable and isinstance(table.c[c].type, String)
    ]
    options = "FORMAT csv" + (
        f", FORCE_NOT_NULL ({', '.join(not_null_text)})" if not_null_text else ""
    )
    raw: Any = conn.connection.driver_connection
    with (
        raw.cursor() as cursor,
        cursor.copy(
            f"COPY {table.name} ({', '.join(columns)}) FROM STDIN WITH ({options})"
        ) as copy,
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
    """New contacts as rows in `columns` order (see contact_columns). An empty first or
    last name is sent as NULL, which COPY's FORCE_NOT_NULL turns into ''."""
    optional = columns[4:-4]
    for d in drafts:
        get = d.fields.get
        yield (
            d.id,
            get("first_name"),
            get("last_name"),
            get("support_level") or _UNKNOWN,
            *map(get, optional),
            campaign,
            json_text(d.tags),
            json_text(d.custom),
            d.source,
        )


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
