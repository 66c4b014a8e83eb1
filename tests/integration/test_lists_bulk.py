"""`phonebank import --bulk` on the real PostgreSQL: the same outcome as an ordinary
import, the foreign keys and indexes back afterwards (and after a failure, a dry run or
a refusal), refused while a dialer runs or while another transaction holds the tables."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import psycopg
import pytest
from sqlalchemy import Connection, Engine, insert, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.schema import CreateTable

from phonebank.db import make_engine, upgrade
from phonebank.db.models import DialerEngine, PhoneNumber
from phonebank.lists import bulk
from phonebank.lists.bench import generate
from phonebank.lists.errors import BulkImportRefused, ListFileError
from phonebank.lists.service import ImportOptions, import_file

pytestmark = pytest.mark.postgres

EXPECTED_CONSTRAINTS = {"fk_contacts_campaign_id_campaigns", "fk_phone_numbers_contact_id_contacts"}
EXPECTED_INDEXES = {
    "ix_contacts_campaign_id_name",
    "ix_contacts_campaign_id_postal_code",
    "ix_contacts_campaign_id_precinct",
}


@pytest.fixture
def engine(fresh_database_url: str) -> Iterator[Engine]:
    upgrade(fresh_database_url)
    engine = make_engine(fresh_database_url)
    yield engine
    engine.dispose()


def _schema(engine: Engine) -> tuple[set[str], set[str]]:
    with engine.connect() as conn:
        constraints = set(
            conn.execute(
                text(
                    "SELECT conname FROM pg_constraint WHERE contype = 'f' "
                    "AND conrelid IN ('contacts'::regclass, 'phone_numbers'::regclass)"
                )
            ).scalars()
        )
        indexes = set(
            conn.execute(
                text("SELECT indexname FROM pg_indexes WHERE tablename = 'contacts'")
            ).scalars()
        )
    return constraints, indexes


def _assert_schema_whole(engine: Engine) -> None:
    constraints, indexes = _schema(engine)
    assert constraints >= EXPECTED_CONSTRAINTS
    assert indexes >= EXPECTED_INDEXES


def _state(engine: Engine, campaign: str) -> list[tuple[object, ...]]:
    with engine.connect() as conn:
        return [
            tuple(row)
            for row in conn.execute(
                text(
                    "SELECT c.last_name, c.first_name, c.birth_date, c.postal_code, "
                    "c.support_level, p.e164, p.type, p.time_zone, p.position, p.callable "
                    "FROM contacts c JOIN campaigns k ON k.id = c.campaign_id "
                    "JOIN phone_numbers p ON p.contact_id = c.id WHERE k.name = :n "
                    "ORDER BY c.id, p.position"
                ),
                {"n": campaign},
            )
        ]


def test_bulk_gives_what_an_ordinary_import_gives(engine: Engine, tmp_path: Path) -> None:
    path = tmp_path / "list.csv"
    generate(path, 3000)
    ordinary = import_file(engine, path, ImportOptions("A", create_campaign=True, chunk_size=500))
    loaded = import_file(
        engine, path, ImportOptions("B", create_campaign=True, chunk_size=500, bulk=True)
    )
    assert ordinary.contacts_created == loaded.contacts_created == 3000
    assert ordinary.phones_valid == loaded.phones_valid == 4500
    assert _state(engine, "A") == _state(engine, "B")
    _assert_schema_whole(engine)
    # The foreign keys are enforced again: a number for a contact that does not exist.
    orphan = text(
        "INSERT INTO phone_numbers (contact_id, e164, raw, type) "
        "VALUES (999999, '+33600000000', '', 'mobile')"
    )
    with (
        pytest.raises(IntegrityError, match="fk_phone_numbers_contact_id_contacts"),
        engine.begin() as conn,
    ):
        conn.execute(orphan)


def test_a_re_import_in_bulk_merges_as_usual(engine: Engine, tmp_path: Path) -> None:
    path = tmp_path / "list.csv"
    generate(path, 500)
    import_file(engine, path, ImportOptions("A", create_campaign=True, bulk=True))
    again = import_file(engine, path, ImportOptions("A", bulk=True))
    assert (again.contacts_created, again.contacts_merged, again.phones_valid) == (0, 500, 0)
    _assert_schema_whole(engine)


def test_failure_and_dry_run_put_everything_back(engine: Engine, tmp_path: Path) -> None:
    path = tmp_path / "late.csv"
    good = "".join(f"Nom{i};06{i:08d};{'x' * 200}\n" for i in range(6_000))
    path.write_bytes(("Nom;Tel;Note\n" + good).encode() + b"Caf\xe9;0612345678;\n")
    with pytest.raises(ListFileError, match="line 6002"):
        import_file(engine, path, ImportOptions("A", create_campaign=True, bulk=True))
    _assert_schema_whole(engine)
    fine = tmp_path / "fine.csv"
    generate(fine, 200)
    summary = import_file(
        engine, fine, ImportOptions("A", create_campaign=True, bulk=True, dry_run=True)
    )
    assert summary.contacts_created == 200
    assert _state(engine, "A") == []
    _assert_schema_whole(engine)


def test_refused_while_a_dialer_runs(engine: Engine, tmp_path: Path) -> None:
    now = datetime.now(UTC)
    with engine.begin() as conn:
        conn.execute(
            insert(DialerEngine).values(
                engine_id="e1", hostname="box", pid=4242, started_at=now, heartbeat_at=now
            )
        )
    path = tmp_path / "list.csv"
    generate(path, 10)
    with pytest.raises(BulkImportRefused, match=r"a dialer is running \(process 4242 on box\)"):
        import_file(engine, path, ImportOptions("A", create_campaign=True, bulk=True))
    assert _state(engine, "A") == []
    # Without --bulk the import runs beside the dialer.
    assert import_file(engine, path, ImportOptions("A", create_campaign=True)).rows == 10


def test_refused_when_another_transaction_holds_the_contacts(
    engine: Engine, fresh_database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(bulk, "LOCK_TIMEOUT", "300ms")
    path = tmp_path / "list.csv"
    generate(path, 10)
    url = engine.url.set(drivername="postgresql")
    with psycopg.connect(url.render_as_string(hide_password=False)) as reader:
        reader.execute("SELECT count(*) FROM contacts")  # holds its lock until it ends
        with pytest.raises(BulkImportRefused, match="another transaction holds the contacts"):
            import_file(engine, path, ImportOptions("A", create_campaign=True, bulk=True))
        reader.rollback()
    _assert_schema_whole(engine)
    assert _state(engine, "A") == []


def test_refused_on_sqlite(sqlite_url: str, tmp_path: Path) -> None:
    upgrade(sqlite_url)
    engine = make_engine(sqlite_url)
    path = tmp_path / "list.csv"
    generate(path, 10)
    try:
        with pytest.raises(BulkImportRefused, match="--bulk is for PostgreSQL"):
            import_file(engine, path, ImportOptions("A", create_campaign=True, bulk=True))
    finally:
        engine.dispose()


def test_the_campaigns_stay_readable_during_a_bulk_import(
    engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # What another session can read while a bulk import holds its locks: the campaigns
    # (every page reads them), not the contacts.
    url = engine.url.set(drivername="postgresql").render_as_string(hide_password=False)
    seen: dict[str, bool] = {}
    restore = bulk.restore

    def probe(conn: Connection) -> None:
        with psycopg.connect(url, autocommit=True) as other:
            other.execute("SET lock_timeout = '200ms'")
            for table in ("campaigns", "contacts", "phone_numbers"):
                try:
                    other.execute(f"SELECT count(*) FROM {table}")  # noqa: S608
                    seen[table] = True
                except psycopg.errors.LockNotAvailable:
                    seen[table] = False
        restore(conn)

    monkeypatch.setattr(bulk, "restore", probe)
    path = tmp_path / "list.csv"
    generate(path, 50)
    import_file(engine, path, ImportOptions("A", create_campaign=True, bulk=True))
    assert seen == {"campaigns": True, "contacts": False, "phone_numbers": False}


def test_the_models_are_left_as_they_were(engine: Engine, tmp_path: Path) -> None:
    # A table created after a bulk import, in the same process, still has the key.
    path = tmp_path / "list.csv"
    generate(path, 10)
    import_file(engine, path, ImportOptions("A", create_campaign=True, bulk=True))
    created = str(CreateTable(PhoneNumber.__table__).compile(dialect=engine.dialect))  # type: ignore[arg-type]
    assert "FOREIGN KEY(contact_id) REFERENCES contacts (id) ON DELETE CASCADE" in created
