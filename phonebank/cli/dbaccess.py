"""Opening the database for a command: checked URL, up-to-date schema, clear errors."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from phonebank.cli.db import database_errors
from phonebank.cli.errors import CommandError
from phonebank.config import Config
from phonebank.db import migrate
from phonebank.db.engine import DatabaseURLError, make_engine, session_factory


def shown_url(config: Config) -> str:
    """The database URL for messages (password masked), or a CommandError if unusable."""
    try:
        return migrate.describe(config.database_url)
    except DatabaseURLError as exc:
        raise CommandError(str(exc)) from None


def require_schema(url: str, shown: str) -> None:
    at = migrate.current(url)
    if at not in migrate.heads():
        raise CommandError(
            f"the database {shown} is at {at or 'no revision (empty)'}, not the newest schema: "
            "run `phonebank db upgrade` first"
        )


@contextlib.contextmanager
def checked_engine(config: Config, *, need_schema: bool = True) -> Iterator[tuple[Engine, str]]:
    """An engine on the configured database (up to date unless told otherwise), and its
    URL for messages; driver errors become one-line CommandErrors naming the database."""
    shown = shown_url(config)
    with database_errors(shown):
        if need_schema:
            require_schema(config.database_url, shown)
        engine = make_engine(config.database_url)
        try:
            yield engine, shown
        finally:
            engine.dispose()


@contextlib.contextmanager
def database_session(config: Config, *, write: bool) -> Iterator[tuple[Session, str]]:
    """A session on an up-to-date database (committed at the end when `write`)."""
    with checked_engine(config) as (engine, shown):
        factory = session_factory(engine)
        with factory.begin() if write else factory() as session:
            yield session, shown
