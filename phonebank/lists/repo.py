"""Database side of list imports: lookups by chunk and bulk writes (SQLAlchemy Core).

Every function works on one Connection inside the caller's transaction; the
import commits once at the end, so a failed import leaves nothing behind.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from datetime import UTC, datetime
from typing import Any

from psycopg import sql
from sqlalchemy import Connection, Integer, Table, any_, func, insert, select, update
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
from phonebank.lists.matcher import Known
from phonebank.lists.merge import SCALAR_FIELDS, Draft
from phonebank.lists.pgcopy import (
    CONTACT_COLUMNS,
    PHONE_COLUMNS,
    contact_rows,
    copy_data,
    send_copy,
)

CONTACTS: Table = Contact.__table__  # type: ignore[assignment]
PHONES: Table = PhoneNumber.__table__  # type: ignore[assignment]
_contacts, _phones = CONTACTS, PHONES
_entries: Table = CallListEntry.__table__  # type: ignore[assignment]
# Rows per statement: keeps IN lists and multi-row VALUES under SQLite's variable limit.
_BATCH = 500


def _batches(items: Sequence[Any], size: int = _BATCH) -> Iterator[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _postgres(conn: Connection) -> bool:
    return conn.dialect.name == "postgresql"


def _lookup_batches(conn: Connection, column: Any, values: Sequence[Any]) -> Iterator[Any]:
    """WHERE clauses matching `column` against `values`: one parameter on PostgreSQL
    (the values joined by commas and split by the server: cheaper than an array
    parameter, whose values the driver adapts one by one), IN lists of 500 on SQLite."""
    if not values:
        return
    if _postgres(conn):
        joined = ",".join(map(str, values))
        split: Any = func.string_to_array(bindparam("joined", joined), ",")
        if column.type.python_type is int:
            split = split.cast(ARRAY(Integer))
        yield column == any_(split)
        return
    for batch in _batches(values):
        yield column.in_(batch)


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


class ContactIds:
    """Ids for new contacts, known before they are written (the rows that follow in the
    same chunk name them). PostgreSQL: from the table's sequence. SQLite: counted on
    from the largest id, under the write lock the import holds from its first statement
    (BEGIN IMMEDIATE), so nobody else can take one meanwhile."""

    def __init__(self, conn: Connection) -> None:
        self._next, self._sequence = 0, ""
        if _postgres(conn):
            found = conn.execute(select(func.pg_get_serial_sequence("contacts", "id"))).scalar()
            self._sequence = str(found)
        else:
            self._next = (conn.execute(select(func.max(Contact.id))).scalar() or 0) + 1

    def take(self, conn: Connection, count: int) -> list[int]:
        if count <= 0:
            return []
        if not _postgres(conn):
            first, self._next = self._next, self._next + count
            return list(range(first, self._next))
        # The sequence named by a literal: pg_get_serial_sequence() in the query would be
        # evaluated once per id (4 µs each, against 0.5 µs for nextval itself). Through
        # the driver's cursor: SQLAlchemy's result rows cost more than the query.
        raw: Any = conn.connection.driver_connection
        query = sql.SQL("SELECT nextval({}) FROM generate_series(1, %s)").format(
            sql.Literal(self._sequence)
        )
        with raw.cursor() as cursor:
            cursor.execute(query, (count,))
            return [row[0] for row in cursor.fetchall()]


def lookup(
    conn: Connection,
    campaign: int,
    source: str,
    numbers: Sequence[str],
    external_ids: Sequence[str],
    candidates: Iterable[int],
    ids: tuple[ContactIds, int],
) -> Known:
    """What the database knows of one chunk's rows, and `ids[1]` new contact ids."""
    owners = phone_owners(conn, campaign, numbers)
    external = by_external_id(conn, campaign, source, external_ids) if external_ids else {}
    wanted = {*owners.values(), *external.values(), *candidates}
    return Known(
        owners,
        dnc_numbers(conn, numbers),
        external,
        load_drafts(conn, wanted),
        ids[0].take(conn, ids[1]),
    )


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
    if not wanted:
        return drafts
    for where in _lookup_batches(conn, _contacts.c.id, wanted):
        for row in conn.execute(select(_contacts).where(where)).mappings():
            drafts[row["id"]] = Draft(
                fields={name: row[name] for name in SCALAR_FIELDS},
                tags=list(row["tags"] or []),
                custom=dict(row["custom_fields"] or {}),
                id=row["id"],
                source=row["source"],
                persisted=True,
            )
    for where in _lookup_batches(conn, PhoneNumber.contact_id, wanted):
        counts = conn.execute(
            select(PhoneNumber.contact_id, func.count())
            .where(where)
            .group_by(PhoneNumber.contact_id)
        )
        for contact, count in counts:
            drafts[contact].stored_phones = count
    return drafts


def _contact_values(draft: Draft, campaign: int, now: datetime) -> dict[str, Any]:
    values = dict(zip(CONTACT_COLUMNS, next(contact_rows([draft], campaign)), strict=True))
    values.update(
        first_name=values["first_name"] or "",
        last_name=values["last_name"] or "",
        tags=draft.tags,
        custom_fields=draft.custom,
        created_at=now,
        updated_at=now,
    )
    return values


def insert_contacts(conn: Connection, drafts: Sequence[Draft], campaign: int) -> None:
    """New contacts, their ids already given (SQLite; PostgreSQL takes COPY text)."""
    now = datetime.now(UTC)
    for batch in _batches(drafts):
        conn.execute(insert(_contacts), [_contact_values(d, campaign, now) for d in batch])


def insert_phones(conn: Connection, rows: Sequence[tuple[Any, ...]]) -> None:
    """Phone rows in PHONE_COLUMNS order (SQLite; PostgreSQL takes COPY text)."""
    now = datetime.now(UTC)
    values = [
        {**dict(zip(PHONE_COLUMNS, row, strict=True)), "created_at": now, "updated_at": now}
        for row in rows
    ]
    for batch in _batches(values, 2000):
        conn.execute(insert(_phones), list(batch))


def contact_updates(drafts: Sequence[Draft]) -> list[dict[str, Any]]:
    """The parameters of update_contacts, taken now: the drafts change with later rows."""
    now = datetime.now(UTC)
    rows = []
    for draft in drafts:
        values = {f"b_{name}": draft.fields.get(name) for name in SCALAR_FIELDS}
        values["b_first_name"] = values["b_first_name"] or ""
        values["b_last_name"] = values["b_last_name"] or ""
        values["b_support_level"] = values["b_support_level"] or SupportLevel.UNKNOWN
        values.update(
            b_id=draft.id,
            b_tags=list(draft.tags),
            b_custom_fields=dict(draft.custom),
            b_updated_at=now,
        )
        rows.append(values)
    return rows


def update_contacts(conn: Connection, rows: Sequence[dict[str, Any]]) -> None:
    if not rows:
        return
    names = [*SCALAR_FIELDS, "tags", "custom_fields", "updated_at"]
    statement = (
        update(_contacts)
        .where(_contacts.c.id == bindparam("b_id"))
        .values({name: bindparam(f"b_{name}") for name in names})
    )
    for batch in _batches(rows):
        conn.execute(statement, list(batch))


def add_entries(conn: Connection, list_id: int, contact_ids: Sequence[int]) -> int:
    """Put contacts on a call list (those not already on it); how many were added."""
    present: set[int] = set()
    for where in _lookup_batches(conn, CallListEntry.contact_id, contact_ids):
        present.update(
            conn.execute(
                select(CallListEntry.contact_id).where(CallListEntry.call_list_id == list_id, where)
            )
            .scalars()
            .all()
        )
    fresh = [cid for cid in dict.fromkeys(contact_ids) if cid not in present]
    if _postgres(conn):
        send_copy(
            conn,
            copy_data(
                _entries,
                ("call_list_id", "contact_id", "status"),
                ((list_id, cid, LeadStatus.PENDING) for cid in fresh),
            ),
        )
        return len(fresh)
    now = datetime.now(UTC)
    rows = [
        {
            "call_list_id": list_id,
            "contact_id": cid,
            "status": LeadStatus.PENDING,
            "created_at": now,
            "updated_at": now,
        }
        for cid in fresh
    ]
    for batch in _batches(rows, 2000):
        conn.execute(insert(_entries), list(batch))
    return len(fresh)
