"""Migrations up and down on PostgreSQL and SQLite, no drift from the models, the CLI."""

from __future__ import annotations

import io
import os
from datetime import UTC, datetime
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import IntegrityError

import phonebank.db.models  # noqa: F401  (every table on the metadata)
from phonebank.cli.main import main
from phonebank.db import Base, current, downgrade, heads, make_engine, session_factory, upgrade
from phonebank.db.enums import LeadStatus, Role
from phonebank.db.models import CallList, CallListEntry, Campaign, Contact, PhoneNumber, User
from phonebank.db.users import get_user
from phonebank.security.passwords import verify_password
from tests.fixtures.postgres import TEST_URL_ENV

# The newest revision: every test runs the whole chain of migrations.
HEAD = heads()[-1]

MODEL_TABLES = set(Base.metadata.tables)


def _tables(url: str) -> set[str]:
    engine = make_engine(url)
    try:
        return set(inspect(engine).get_table_names())
    finally:
        engine.dispose()


def _drift(url: str) -> list[object]:
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            context = MigrationContext.configure(
                connection, opts={"compare_type": True, "compare_server_default": True}
            )
            return list(compare_metadata(context, Base.metadata))
    finally:
        engine.dispose()


def test_upgrade_downgrade_upgrade(any_database_url: str) -> None:
    assert current(any_database_url) is None
    upgrade(any_database_url)
    assert heads() == [HEAD]  # one line of history: parallel revisions must be chained
    assert current(any_database_url) == HEAD
    assert _tables(any_database_url) == MODEL_TABLES | {"alembic_version"}

    downgrade(any_database_url, "base")
    assert current(any_database_url) is None
    assert _tables(any_database_url) <= {"alembic_version"}

    upgrade(any_database_url, HEAD)
    assert current(any_database_url) == HEAD
    assert _tables(any_database_url) == MODEL_TABLES | {"alembic_version"}


def test_models_and_migrations_do_not_drift(any_database_url: str) -> None:
    upgrade(any_database_url)
    assert _drift(any_database_url) == []


def test_upgrade_twice_is_harmless(any_database_url: str) -> None:
    upgrade(any_database_url)
    upgrade(any_database_url)
    assert current(any_database_url) == HEAD


@pytest.mark.postgres
def test_postgres_schema_in_use(fresh_database_url: str) -> None:
    """JSONB tags, aware times, unique numbers and SKIP LOCKED claiming on the real server."""
    upgrade(fresh_database_url)
    engine = make_engine(fresh_database_url)
    sessions = session_factory(engine)
    try:
        with sessions.begin() as session:
            campaign = Campaign(name="Régionales")
            call_list = CallList(campaign=campaign, name="Indécis")
            for n in range(4):
                contact = Contact(campaign=campaign, last_name=f"N{n}", tags=["nord"] if n else [])
                contact.phones.append(PhoneNumber(e164=f"+3361234567{n}"))
                session.add(CallListEntry(call_list=call_list, contact=contact))
            session.add(campaign)
        with sessions() as session:
            tagged = session.scalars(
                select(Contact).where(Contact.tags.op("@>")(text("""'["nord"]'::jsonb""")))
            ).all()
            assert len(tagged) == 3
            contact = tagged[0]
            session.add(PhoneNumber(contact_id=contact.id, e164=contact.phones[0].e164))
            with pytest.raises(IntegrityError, match="uq_phone_numbers_contact_id_e164"):
                session.flush()

        claim = (
            select(CallListEntry)
            .where(CallListEntry.status == LeadStatus.PENDING)
            .order_by(CallListEntry.id)
            .limit(2)
            .with_for_update(skip_locked=True)
        )
        now = datetime.now(UTC)
        with sessions() as first, sessions() as second:
            mine = first.scalars(claim).all()
            theirs = second.scalars(claim).all()
            assert len(mine) == len(theirs) == 2
            assert not {e.id for e in mine} & {e.id for e in theirs}
            for entry in mine:
                entry.status, entry.claimed_by, entry.claimed_at = LeadStatus.CLAIMED, "a", now
            first.commit()
            second.rollback()
        with sessions() as session:
            claimed = session.scalars(select(CallListEntry).where(CallListEntry.claimed_by == "a"))
            assert {e.claimed_at for e in claimed} == {now}
    finally:
        engine.dispose()


@pytest.fixture
def cli_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> pytest.MonkeyPatch:
    monkeypatch.delenv("PHONEBANK_CONFIG", raising=False)
    monkeypatch.delenv("PHONEBANK_DATABASE_URL", raising=False)
    monkeypatch.setenv("PHONEBANK_PATHS_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("PHONEBANK_PATHS_CACHE_DIR", str(tmp_path / "cache"))
    return monkeypatch


def _with_visible_secret(url: str) -> tuple[str, str | None]:
    """Give our throwaway server's URL a password, to see that output masks it."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "postgresql" and parsed.password is None:
        if os.environ.get(TEST_URL_ENV):
            return url, None
        # The throwaway cluster trusts loopback: the password is sent but not needed.
        parsed = parsed.set(password="pw-must-never-show")
    secret = parsed.password if isinstance(parsed.password, str) else None
    return parsed.render_as_string(hide_password=False), secret


def test_cli_db_and_user_commands(
    any_database_url: str, cli_env: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    url, secret = _with_visible_secret(any_database_url)
    cli_env.setenv("PHONEBANK_DATABASE_URL", url)
    transcript: list[str] = []

    def run(*argv: str, stdin: str | None = None) -> tuple[int, str, str]:
        if stdin is not None:
            cli_env.setattr("sys.stdin", io.StringIO(stdin))
        code = main(list(argv))
        captured = capsys.readouterr()
        transcript.extend([captured.out, captured.err])
        return code, captured.out, captured.err

    code, _, err = run("user", "list")
    assert code == 1 and "run `phonebank db upgrade` first" in err

    code, out, _ = run("db", "upgrade")
    assert code == 0
    assert f"upgraded: (empty: no migration applied) -> {HEAD}" in out
    assert f"database: {make_url(url).render_as_string(hide_password=True)}" in out

    code, out, _ = run("db", "upgrade")
    assert code == 0 and f"already at {HEAD}; nothing to do" in out

    code, out, _ = run("db", "current")
    assert code == 0 and f"revision: {HEAD} (head: up to date)" in out

    code, out, _ = run("db", "history")
    assert code == 0 and "0001_initial <- base: Initial schema" in out
    assert "(head, current)" in out

    code, out, _ = run(
        "user", "add", "Marie", "--role", "supervisor", "--password-stdin", stdin="longenough-1\n"
    )
    assert code == 0 and "created user 'marie' (role supervisor" in out
    code, _, err = run(
        "user", "add", "marie", "--role", "admin", "--password-stdin", stdin="longenough-2\n"
    )
    assert code == 1 and "already exists" in err
    code, _, err = run(
        "user", "add", "paul", "--role", "admin", "--password-stdin", stdin="short\n"
    )
    assert code == 1 and "shorter than 8" in err

    code, out, _ = run("user", "list")
    assert code == 0
    assert "marie" in out and "supervisor" in out and "paul" not in out

    engine = make_engine(any_database_url)
    try:
        with session_factory(engine)() as session:
            user = get_user(session, "MARIE")
            assert isinstance(user, User) and user.role is Role.SUPERVISOR
            assert verify_password(user.password_hash, "longenough-1")
    finally:
        engine.dispose()

    code, _, err = run("db", "downgrade", "base")
    assert code == 1 and "add --yes" in err
    code, out, _ = run("db", "downgrade", "base", "--yes")
    assert code == 0 and f"downgraded: {HEAD} -> (empty: no migration applied)" in out
    assert _tables(any_database_url) <= {"alembic_version"}

    if secret is not None:
        assert secret not in "".join(transcript)


def test_cli_default_database_is_a_sqlite_file_in_the_data_folder(
    cli_env: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["db", "upgrade"]) == 0
    database = tmp_path / "data" / "phonebank.db"
    assert database.is_file()
    assert str(database) in capsys.readouterr().out
    assert current(f"sqlite:///{database}") == HEAD


def test_cli_unreachable_database_is_a_clean_error(
    cli_env: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    cli_env.setenv("PHONEBANK_DATABASE_URL", "postgresql://phonebank:hunter2@127.0.0.1:1/phonebank")
    assert main(["db", "upgrade"]) == 1
    err = capsys.readouterr().err
    assert "postgresql+psycopg://phonebank:***@127.0.0.1:1/phonebank" in err
    assert "hunter2" not in err
