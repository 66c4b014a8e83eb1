"""Rows of a list import as PostgreSQL COPY text: built apart from sending it, so that
the text of one chunk can be made while the previous one is still being written."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, String, Table

from phonebank.db.enums import PhoneType, SupportLevel
from phonebank.lists.merge import SCALAR_FIELDS, Draft


def json_text(value: Any) -> str:
    # Most contacts have no tags and no custom fields: skip the encoder for those.
    if not value:
        return "[]" if isinstance(value, list) else "{}"
    return json.dumps(value, ensure_ascii=False)


@dataclass
class CopyData:
    """Rows of one table as COPY's CSV text, ready to send."""

    table: Table
    columns: Sequence[str]
    text: str


def copy_data(
    table: Table, columns: Sequence[str], rows: Iterable[Sequence[Any]]
) -> CopyData | None:
    """Rows (tuples in `columns` order, JSON already encoded) as CSV, written by the csv
    module (C speed); None when there are none."""
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerows(rows)
    text = buffer.getvalue()
    return CopyData(table, columns, text) if text else None


def send_copy(conn: Connection, data: CopyData | None) -> None:
    """COPY the rows on PostgreSQL, inside the connection's transaction: an empty
    field is NULL, except in NOT NULL text columns (FORCE_NOT_NULL), where it is ''."""
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
        copy.write(data.text)


CONTACT_COLUMNS = (
    "id",
    *SCALAR_FIELDS,
    "campaign_id",
    "tags",
    "custom_fields",
    "source",
    "created_at",
    "updated_at",
)
_UNKNOWN = SupportLevel.UNKNOWN
# contact_rows spells the fields out (a tuple display is the fast way to build a row).
if CONTACT_COLUMNS[1:15] != SCALAR_FIELDS:
    raise RuntimeError("contact_rows no longer matches merge.SCALAR_FIELDS")


def contact_rows(
    drafts: Sequence[Draft], campaign: int, source: str, now: datetime | str
) -> Iterator[tuple[Any, ...]]:
    """What _contact_values gives, as COPY rows in CONTACT_COLUMNS order."""
    for d in drafts:
        get = d.fields.get
        yield (
            d.id,
            get("first_name") or "",
            get("last_name") or "",
            get("birth_name"),
            get("birth_date"),
            get("address_line1"),
            get("address_line2"),
            get("address_line3"),
            get("postal_code"),
            get("city"),
            get("country"),
            get("precinct"),
            get("support_level") or _UNKNOWN,
            get("email"),
            get("external_id"),
            campaign,
            json_text(d.tags),
            json_text(d.custom),
            source,
            now,
            now,
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
    "created_at",
    "updated_at",
)


def phone_rows(drafts: Iterable[Draft], now: datetime | str) -> Iterator[tuple[Any, ...]]:
    """Rows in PHONE_COLUMNS order."""
    for draft in drafts:
        for index, p in enumerate(draft.phones, start=draft.stored_phones):
            phone = p.phone
            yield (
                draft.id,
                phone.e164,
                p.raw[:64],
                PhoneType(phone.type),
                phone.country or None,
                phone.time_zone,
                index,
                not p.do_not_call,
                p.do_not_call,
                now,
                now,
            )
