"""`phonebank import --bulk`: a first load of a big list, the way PostgreSQL's manual
advises loading much data ("Populating a Database": remove foreign keys, load, add
them again).

In an ordinary import the server checks every new number against its contact, one row
at a time: a query each, a third of the server's work on a million rows. With --bulk,
inside the import's own transaction and before the first row, that foreign key is
dropped; after the last row it is added again from the model's definition, which checks
every row in one pass (one join), as the row-by-row checks would have. A failure, Ctrl-C
or --dry-run rolls the drop back with the rows.

The other foreign key (contacts → campaigns) and the indexes stay: dropping that key
would lock the campaigns, which every page reads, and with the number checks gone the
server keeps up with this process anyway; building the indexes again at the end cost
more than keeping them up to date (docs/lists.md, "Speed").

The price is a lock: until the import commits, nobody else can read the contacts or the
numbers (dropping the key takes ACCESS EXCLUSIVE locks on both tables). So --bulk refuses
to start while a dialer is running, gives up after a few seconds if another transaction
holds the tables, and is meant for loading a campaign before the phone bank opens, from
the command line. PostgreSQL only.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import Connection, ForeignKeyConstraint, Table, select, text

from phonebank.db.models import DialerEngine, PhoneNumber
from phonebank.lists.errors import BulkImportRefused

# A dialer whose heartbeat is this recent is running (engines beat every few seconds).
DIALER_ALIVE = timedelta(minutes=2)
LOCK_TIMEOUT = "5s"

_phones: Table = PhoneNumber.__table__  # type: ignore[assignment]


def _foreign_key() -> ForeignKeyConstraint:
    """phone_numbers.contact_id → contacts."""
    found = [c for c in _phones.foreign_key_constraints if c.column_keys == ["contact_id"]]
    if len(found) != 1:
        raise RuntimeError("bulk.py no longer matches the models' foreign keys")
    return found[0]


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
    """The row-by-row check a bulk import does without, dropped in its transaction."""
    if conn.dialect.name != "postgresql":
        raise BulkImportRefused("--bulk is for PostgreSQL; on SQLite import without it")
    conn.execute(text(f"SET LOCAL lock_timeout = '{LOCK_TIMEOUT}'"))
    try:
        conn.execute(text(f"ALTER TABLE {_phones.name} DROP CONSTRAINT {_foreign_key().name}"))
    except Exception as exc:
        if "lock timeout" in str(exc):
            raise BulkImportRefused(
                f"another transaction holds the contacts (waited {LOCK_TIMEOUT}): "
                "try again when nobody is working on them, or import without --bulk"
            ) from None
        raise


def restore(conn: Connection) -> None:
    """Add the key again, checked over every row in one pass (a number of a contact that
    does not exist fails the import, as it would have row by row)."""
    conn.execute(text(_add_statement(_foreign_key())))


def _add_statement(key: ForeignKeyConstraint) -> str:
    """ALTER TABLE … ADD CONSTRAINT for the model's key, written out here: SQLAlchemy's
    AddConstraint would mark the model's constraint as added apart, and every CREATE TABLE
    made later in this process would leave it out."""
    referred = key.elements[0].column.table.name
    columns = ", ".join(key.column_keys)
    targets = ", ".join(e.column.name for e in key.elements)
    on_delete = f" ON DELETE {key.ondelete}" if key.ondelete else ""
    return (
        f"ALTER TABLE {_phones.name} ADD CONSTRAINT {key.name} FOREIGN KEY ({columns}) "
        f"REFERENCES {referred} ({targets}){on_delete}"
    )
