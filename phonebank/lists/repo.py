"""Database side of list imports: lookups by chunk and bulk writes (SQLAlchemy Core).

Every function works on one Connection inside the caller's transaction; the
import commits once at the end, so a failed import leaves nothing behind.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Connection,
    String,
    Table,
    any_,
    func,
    insert,
    select,
    update,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.sql.expression import bindparam

from phonebank.db.enums import LeadStatus, SupportLevel
from phonebank.db.models import (
    CallList,
    CallListEntry,
    Campaign,
    Contact,
    DoNotCallEntry,
    PhoneNumber,
)
from phonebank.lists.errors import CampaignNotFound
from phonebank.lists.merge import SCALAR_FIELDS, Draft
from phonebank.lists.pgcopy import (
    CONTACT_COLUMNS,
    PHONE_COLUMNS,
    CopyData,
    contact_rows,
    copy_data,
    json_text,
    phone_rows,
    send_copy,
)

_contacts: Table = Contact.__table__  # type: ignore[assignment]
_phones: Table = PhoneNumber.__table__  # type: ignore[assignment]
_entries: Table = CallListEntry.__table__  # type: ignore[assignment]
# Rows per statement: keeps IN lists and multi-row VALUES under SQLite's variable limit.
_BATCH = 500


def _batches(items: Sequence[Any], size: int = _BATCH) -> Iterator[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _postgres(conn: Connection) -> bool:
    return conn.dialect.name == "postgresql"


def _lookup_batches(conn: Connection, column: Any, values: Sequence[str]) -> Iterator[Any]:
    """WHERE clauses matching `column` against `values`: one array on PostgreSQL
    (one parameter, whatever the count), IN lists of 500 on SQLite."""
    if not values:
        return
    if _postgres(conn):
        yield column == any_(bindparam("values", list(values), type_=ARRAY(String)))
        return
    for batch in _batches(values):
        yield column.in_(batch)


def _copy(conn: Connection, table: Table, rows: list[dict[str, Any]]) -> None:
    """COPY rows given as dicts (one key per column, JSON columns not yet encoded)."""
    if not rows:
        return
    columns = list(rows[0])
    json_columns = {c for c in columns if isinstance(table.c[c].type, JSON)}
    if json_columns:
        flags = [c in json_columns for c in columns]
        values: Iterable[Sequence[Any]] = (
            [json_text(v) if j else v for j, v in zip(flags, row.values(), strict=True)]
            for row in rows
        )
    else:
        values = (list(row.values()) for row in rows)
    _copy_rows(conn, table, columns, values)


def _copy_rows(
    conn: Connection, table: Table, columns: Sequence[str], rows: Iterable[Sequence[Any]]
) -> None:
    send_copy(conn, copy_data(table, columns, rows))


def _reserve_ids(conn: Connection, table: str, count: int) -> list[int]:
    """Ids from the table's sequence, so that COPY can write them (PostgreSQL).

    Through the driver's cursor: SQLAlchemy's result rows cost more than the query.
    """
    raw: Any = conn.connection.driver_connection
    with raw.cursor() as cursor:
        cursor.execute(
            "SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)",
            (table, count),
        )
        return [row[0] for row in cursor.fetchall()]


def campaign_id(conn: Connection, name: str, create: bool = False) -> int:
    found = conn.execute(select(Campaign.id).where(Campaign.name == name)).scalar_one_or_none()
    if found is not None:
        return found
    if not create:
        raise CampaignNotFound(
            f"no campaign named {name!r}; create it first or add --create-campaign"
        )
    now = datetime.now(UTC)
    created: int = conn.execute(
        insert(Campaign).values(name=name, created_at=now, updated_at=now).returning(Campaign.id)
    ).scalar_one()
    return created


def call_list_id(conn: Connection, campaign: int, name: str, target: dict[str, Any]) -> int:
    """The campaign's list of that name, created if missing."""
    found = conn.execute(
        select(CallList.id).where(CallList.campaign_id == campaign, CallList.name == name)
    ).scalar_one_or_none()
    if found is not None:
        return found
    now = datetime.now(UTC)
    created: int = conn.execute(
        insert(CallList)
        .values(campaign_id=campaign, name=name, target=target, created_at=now, updated_at=now)
        .returning(CallList.id)
    ).scalar_one()
    return created


def identity_rows(conn: Connection, campaign: int) -> Iterator[tuple[int, str, str, Any]]:
    """(id, last_name, first_name, birth_date) of the campaign's dated contacts, streamed."""
    statement = select(Contact.id, Contact.last_name, Contact.first_name, Contact.birth_date).where(
        Contact.campaign_id == campaign, Contact.birth_date.is_not(None)
    )
    # On the statement, not the connection: that would make every later statement stream.
    result = conn.execute(statement.execution_options(yield_per=5000))
    for row in result:
        yield row.id, row.last_name, row.first_name, row.birth_date


def phone_owners(conn: Connection, campaign: int, numbers: Sequence[str]) -> dict[str, int]:
    owners: dict[str, int] = {}
    for where in _lookup_batches(conn, PhoneNumber.e164, numbers):
        # The campaign is filtered here, not in SQL: with it there, planners (SQLite's,
        # PostgreSQL's with statistics from before the import) scan the campaign's
        # contacts instead of using the e164 index, and an import becomes quadratic.
        rows = conn.execute(
            select(PhoneNumber.e164, PhoneNumber.contact_id, Contact.campaign_id)
            .join(Contact, Contact.id == PhoneNumber.contact_id)
            .where(where)
        )
        owners.update({row.e164: row.contact_id for row in rows if row.campaign_id == campaign})
    return owners


def dnc_numbers(conn: Connection, numbers: Sequence[str]) -> set[str]:
    found: set[str] = set()
    for where in _lookup_batches(conn, DoNotCallEntry.e164, numbers):
        found.update(conn.execute(select(DoNotCallEntry.e164).where(where)).scalars().all())
    return found


def by_external_id(
    conn: Connection, campaign: int, source: str, ids: Sequence[str]
) -> dict[str, int]:
    out: dict[str, int] = {}
    for where in _lookup_batches(conn, Contact.external_id, ids):
        rows = conn.execute(
            select(Contact.external_id, Contact.id).where(
                Contact.campaign_id == campaign, Contact.source == source, where
            )
        )
        out.update({row.external_id: row.id for row in rows})
    return out


def load_drafts(conn: Connection, ids: Iterable[int]) -> dict[int, Draft]:
    """Stored contacts as drafts, to merge rows into."""
    wanted = sorted(set(ids))
    drafts: dict[int, Draft] = {}
    for batch in _batches(wanted):
        for row in conn.execute(select(_contacts).where(_contacts.c.id.in_(batch))).mappings():
            drafts[row["id"]] = Draft(
                fields={name: row[name] for name in SCALAR_FIELDS},
                tags=list(row["tags"] or []),
                custom=dict(row["custom_fields"] or {}),
                id=row["id"],
            )
        counts = conn.execute(
            select(PhoneNumber.contact_id, func.count())
            .where(PhoneNumber.contact_id.in_(batch))
            .group_by(PhoneNumber.contact_id)
        )
        for contact, count in counts:
            drafts[contact].stored_phones = count
    return drafts


def _contact_values(draft: Draft, campaign: int, source: str, now: datetime) -> dict[str, Any]:
    values = {name: draft.fields.get(name) for name in SCALAR_FIELDS}
    values["first_name"] = values["first_name"] or ""
    values["last_name"] = values["last_name"] or ""
    values["support_level"] = values["support_level"] or SupportLevel.UNKNOWN
    values.update(
        campaign_id=campaign,
        tags=draft.tags,
        custom_fields=draft.custom,
        source=source,
        created_at=now,
        updated_at=now,
    )
    return values


def contacts_copy(
    conn: Connection, drafts: Sequence[Draft], campaign: int, source: str
) -> CopyData | None:
    """PostgreSQL: give new drafts ids from the sequence; their rows, to send_copy."""
    if not drafts:
        return None
    for draft, new_id in zip(drafts, _reserve_ids(conn, "contacts", len(drafts)), strict=True):
        draft.id = new_id
    # The time as COPY's CSV would spell it (str()), formatted once, not twice a row.
    stamp = str(datetime.now(UTC))
    return copy_data(_contacts, CONTACT_COLUMNS, contact_rows(drafts, campaign, source, stamp))


def insert_contacts(conn: Connection, drafts: Sequence[Draft], campaign: int, source: str) -> None:
    """Insert new drafts and give each its id."""
    if not drafts:
        return
    if _postgres(conn):
        send_copy(conn, contacts_copy(conn, drafts, campaign, source))
        return
    now = datetime.now(UTC)
    for batch in _batches(drafts):
        statement = insert(_contacts).returning(_contacts.c.id, sort_by_parameter_order=True)
        ids = conn.execute(
            statement, [_contact_values(d, campaign, source, now) for d in batch]
        ).scalars()
        for draft, new_id in zip(batch, ids, strict=True):
            draft.id = new_id


def phones_copy(drafts: Iterable[Draft]) -> CopyData | None:
    """The drafts' new phones, to send_copy (PostgreSQL)."""
    return copy_data(_phones, PHONE_COLUMNS, phone_rows(drafts, str(datetime.now(UTC))))


def insert_phones(conn: Connection, drafts: Iterable[Draft]) -> None:
    if _postgres(conn):
        send_copy(conn, phones_copy(drafts))
        return
    now = datetime.now(UTC)
    rows = [dict(zip(PHONE_COLUMNS, row, strict=True)) for row in phone_rows(drafts, now)]
    for batch in _batches(rows, 2000):
        conn.execute(insert(_phones), list(batch))


def update_contacts(conn: Connection, drafts: Sequence[Draft]) -> None:
    if not drafts:
        return
    now = datetime.now(UTC)
    names = [*SCALAR_FIELDS, "tags", "custom_fields"]
    statement = (
        update(_contacts)
        .where(_contacts.c.id == bindparam("b_id"))
        .values({name: bindparam(f"b_{name}") for name in [*names, "updated_at"]})
    )
    rows = []
    for draft in drafts:
        values = {f"b_{name}": draft.fields.get(name) for name in SCALAR_FIELDS}
        values["b_first_name"] = values["b_first_name"] or ""
        values["b_last_name"] = values["b_last_name"] or ""
        values["b_support_level"] = values["b_support_level"] or SupportLevel.UNKNOWN
        values.update(
            b_id=draft.id, b_tags=draft.tags, b_custom_fields=draft.custom, b_updated_at=now
        )
        rows.append(values)
    for batch in _batches(rows):
        conn.execute(statement, list(batch))


def add_entries(conn: Connection, list_id: int, contact_ids: Sequence[int]) -> int:
    """Put contacts on a call list (those not already on it); how many were added."""
    present: set[int] = set()
    for batch in _batches(contact_ids, 5000 if _postgres(conn) else _BATCH):
        present.update(
            conn.execute(
                select(CallListEntry.contact_id).where(
                    CallListEntry.call_list_id == list_id, CallListEntry.contact_id.in_(batch)
                )
            )
            .scalars()
            .all()
        )
    now = datetime.now(UTC)
    rows = [
        {
            "call_list_id": list_id,
            "contact_id": cid,
            "status": LeadStatus.PENDING,
            "created_at": now,
            "updated_at": now,
        }
        for cid in dict.fromkeys(contact_ids)
        if cid not in present
    ]
    if _postgres(conn):
        _copy(conn, _entries, rows)
        return len(rows)
    for batch in _batches(rows, 2000):
        conn.execute(insert(_entries), list(batch))
    return len(rows)
