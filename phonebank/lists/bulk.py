"""`phonebank import --bulk`: a first load of a big list, the way PostgreSQL's manual
advises loading much data ("Populating a Database": remove foreign keys and indexes,
load, create them again).

In an ordinary import the server checks every new contact against its campaign and
every new number against its contact, one row at a time (a query each: 38 % of the
server's work on a million rows), and keeps every index up to date row by row. With
--bulk, inside the import's own transaction and before the first row, the two foreign
keys and the contact indexes that no lookup of the import uses are dropped; after the
last row they are made again from the models' definitions, each in one pass (a sort
for an index, one join for a foreign key, which checks every row as the row-by-row
checks would have). A failure, Ctrl-C or --dry-run rolls the drops back with the rows.

The price is a lock: until the import commits, nobody else can read the contacts or
the numbers (dropping a constraint takes the table's ACCESS EXCLUSIVE lock). So --bulk
refuses to start while a dialer is running, gives up after a few seconds if another
transaction holds the tables, and is meant for loading a campaign before the phone
bank opens, from the command line. PostgreSQL only.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import Connection, ForeignKeyConstraint, Index, Table, select, text
from sqlalchemy.schema import AddConstraint, CreateIndex, DropConstraint, DropIndex

from phonebank.db.models import Contact, DialerEngine, PhoneNumber
from phonebank.lists.errors import BulkImportRefused

# A dialer whose heartbeat is this recent is running (engines beat every few seconds).
DIALER_ALIVE = timedelta(minutes=2)
LOCK_TIMEOUT = "5s"
# Memory for each index build's sort (the default 64 MB sorts a million names on disk).
INDEX_BUILD_MEMORY = "256MB"

_contacts: Table = Contact.__table__  # type: ignore[assignment]
_phones: Table = PhoneNumber.__table__  # type: ignore[assignment]


def _foreign_keys() -> list[ForeignKeyConstraint]:
    """contacts.campaign_id → campaigns, phone_numbers.contact_id → contacts."""
    found = [
        c
        for table, column in ((_contacts, "campaign_id"), (_phones, "contact_id"))
        for c in table.foreign_key_constraints
        if c.column_keys == [column]
    ]
    if len(found) != 2:
        raise RuntimeError("bulk.py no longer matches the models' foreign keys")
    return found


def _indexes() -> list[Index]:
    """The contact indexes no lookup of an import uses (names, postal codes, precincts)."""
    kept = {"campaign_id", "source", "external_id"}
    return sorted(
        (i for i in _contacts.indexes if not set(i.columns.keys()) <= kept),
        key=lambda i: str(i.name),
    )


def check_can_start(conn: Connection, now: datetime | None = None) -> None:
    """Refuse while a dialer runs; raise BulkImportRefused saying why."""
    now = now or datetime.now(UTC)
    alive = conn.execute(
        select(DialerEngine.hostname, DialerEngine.pid).where(
            DialerEngine.heartbeat_at > now - DIALER_ALIVE
        )
    ).first()
    if alive is not None:
        raise BulkImportRefused(
            f"a dialer is running (process {alive.pid} on {alive.hostname or 'this machine'}): "
            "--bulk locks the contacts until the import ends; stop `phonebank up` first, "
            "or import without --bulk"
        )


def drop(conn: Connection) -> None:
    """The checks and indexes a bulk import does without, dropped in its transaction."""
    if conn.dialect.name != "postgresql":
        raise BulkImportRefused("--bulk is for PostgreSQL; on SQLite import without it")
    conn.execute(text(f"SET LOCAL lock_timeout = '{LOCK_TIMEOUT}'"))
    try:
        for constraint in _foreign_keys():
            conn.execute(DropConstraint(constraint))
        for index in _indexes():
            conn.execute(DropIndex(index))
    except Exception as exc:
        if "lock timeout" in str(exc):
            raise BulkImportRefused(
                f"another transaction holds the contacts (waited {LOCK_TIMEOUT}): "
                "try again when nobody is working on them, or import without --bulk"
            ) from None
        raise


def restore(conn: Connection) -> None:
    """Make again what drop() dropped: indexes by one sort each, foreign keys checked
    over every row in one pass (a row breaking one fails the import, as it would have
    row by row)."""
    conn.execute(text(f"SET LOCAL maintenance_work_mem = '{INDEX_BUILD_MEMORY}'"))
    for index in _indexes():
        conn.execute(CreateIndex(index))
    for constraint in _foreign_keys():
        conn.execute(AddConstraint(constraint))
