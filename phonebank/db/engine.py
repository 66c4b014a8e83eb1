"""Engines and sessions for SQLite (the single-box default) and PostgreSQL."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import StaticPool

# Seconds a SQLite writer waits for another one before "database is locked".
SQLITE_BUSY_TIMEOUT_MS = 5000
SQLITE_BEGIN = "phonebank_sqlite_begin"


class DatabaseURLError(ValueError):
    """The database URL is not one phonebank can use; says why."""


def normalize_url(url: str | URL) -> URL:
    """Parse a URL and route PostgreSQL through psycopg 3.

    `postgresql://` and `postgres://` (as many hosting tools write it) become
    `postgresql+psycopg://`; an explicit driver is kept.
    """
    try:
        parsed = make_url(url) if isinstance(url, str) else url
    except Exception as exc:  # the argument error says little; name the URL
        raise DatabaseURLError(f"not a database URL: {mask_url(str(url))!r} ({exc})") from None
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    backend = parsed.get_backend_name()
    if backend not in ("sqlite", "postgresql"):
        raise DatabaseURLError(
            f"unsupported database {backend!r} in {mask_url(parsed)}: use sqlite:///PATH "
            "or postgresql://USER:PASSWORD@HOST/NAME"
        )
    return parsed


def mask_url(url: str | URL) -> str:
    """The URL as text with its password replaced by ***, for messages and logs."""
    if isinstance(url, URL):
        return url.render_as_string(hide_password=True)
    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:
        # Unparseable: show only the scheme so a password never leaks.
        return url.split("://", 1)[0] + "://..." if "://" in url else "(unparseable URL)"


def _is_memory(url: URL) -> bool:
    database = url.database or ""
    return database in ("", ":memory:") or database.startswith("file::memory:")


def _sqlite_engine(url: URL, echo: bool) -> Engine:
    kwargs: dict[str, Any] = {"echo": echo}
    memory = _is_memory(url)
    if memory:
        # One shared connection, so every session (and thread) sees the same tables.
        kwargs["poolclass"] = StaticPool
        kwargs["connect_args"] = {"check_same_thread": False}
    else:
        assert url.database is not None
        Path(url.database).expanduser().parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(url, **kwargs)

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # pysqlite opens transactions lazily and commits on its own around DDL;
        # taking over BEGIN (below) gives real transactions and working SAVEPOINTs.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute("PRAGMA foreign_keys = ON")
            cursor.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")
            if not memory:
                # Readers do not block the writer (the web app reads while the dialer writes).
                cursor.execute("PRAGMA journal_mode = WAL")
                cursor.execute("PRAGMA synchronous = NORMAL")
        finally:
            cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        # A transaction that reads then writes, started as a plain BEGIN beside another
        # such transaction, can fail at once with "database is locked" (SQLite cannot
        # wait its way out of that). Writers that read first ask for BEGIN IMMEDIATE.
        immediate = connection.get_execution_options().get(SQLITE_BEGIN) == "IMMEDIATE"
        connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

    return engine


def make_engine(url: str | URL, *, echo: bool = False) -> Engine:
    """An Engine for a `sqlite:///PATH` or `postgresql://...` URL.

    SQLite: foreign keys enforced, WAL journal, the file's folder created.
    PostgreSQL: psycopg 3, connections checked before use (survives a server restart).
    """
    parsed = normalize_url(url)
    if parsed.get_backend_name() == "sqlite":
        return _sqlite_engine(parsed, echo)
    return create_engine(parsed, echo=echo, pool_pre_ping=True)


def session_factory(engine: Engine) -> sessionmaker[Session]:
    """Sessions whose objects stay readable after commit (handy across asyncio.to_thread)."""
    return sessionmaker(bind=engine, expire_on_commit=False)


def writer_session_factory(engine: Engine) -> sessionmaker[Session]:
    """Sessions for read-then-write work that may run beside other writers.

    On SQLite they take the write lock when they begin (BEGIN IMMEDIATE), so two of
    them queue (busy timeout) instead of failing; PostgreSQL is unaffected.
    """
    return sessionmaker(
        bind=engine.execution_options(**{SQLITE_BEGIN: "IMMEDIATE"}), expire_on_commit=False
    )
