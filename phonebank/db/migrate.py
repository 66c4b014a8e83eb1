"""Schema migrations (Alembic), run from code: no alembic.ini at run time.

The migrations live in the package (`phonebank/db/migrations/`), so an
installed wheel carries them. Every function takes the database URL and opens
and closes its own engine.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from alembic import command
from alembic.config import Config as AlembicConfig
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection
from sqlalchemy.engine import URL

from phonebank.db.engine import make_engine, mask_url, normalize_url

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"


@dataclass(frozen=True)
class RevisionInfo:
    revision: str
    down_revision: str | None
    message: str
    is_head: bool


def alembic_config(
    url: str | URL | None = None, connection: Connection | None = None
) -> AlembicConfig:
    """An Alembic configuration pointing at the packaged migrations."""
    cfg = AlembicConfig()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    if url is not None:
        # ConfigParser treats % as interpolation: a password may hold one.
        rendered = normalize_url(url).render_as_string(hide_password=False)
        cfg.set_main_option("sqlalchemy.url", rendered.replace("%", "%%"))
    if connection is not None:
        cfg.attributes["connection"] = connection
    return cfg


@contextmanager
def _connection(url: str | URL) -> Iterator[Connection]:
    engine = make_engine(url)
    try:
        # One transaction for the whole command: on PostgreSQL a failed
        # migration leaves nothing half done.
        with engine.begin() as connection:
            yield connection
    finally:
        engine.dispose()


def upgrade(url: str | URL, revision: str = "head") -> None:
    """Bring the schema up to `revision` (default: the newest)."""
    with _connection(url) as connection:
        command.upgrade(alembic_config(url, connection), revision)


def downgrade(url: str | URL, revision: str) -> None:
    """Take the schema down to `revision` ("base" removes every table)."""
    with _connection(url) as connection:
        command.downgrade(alembic_config(url, connection), revision)


def current(url: str | URL) -> str | None:
    """The revision the database is at, or None when no migration was applied."""
    with _connection(url) as connection:
        return MigrationContext.configure(connection).get_current_revision()


def heads() -> list[str]:
    """The newest revision(s) of the packaged migrations."""
    return list(ScriptDirectory.from_config(alembic_config()).get_heads())


def history() -> list[RevisionInfo]:
    """Every packaged revision, newest first."""
    script = ScriptDirectory.from_config(alembic_config())
    head_set = set(script.get_heads())
    out = []
    for rev in script.walk_revisions():
        down = rev.down_revision
        # A merge revision has several parents.
        down_text = down if isinstance(down, str) or down is None else ",".join(down)
        out.append(RevisionInfo(rev.revision, down_text, rev.doc or "", rev.revision in head_set))
    return out


def is_up_to_date(url: str | URL) -> bool:
    return current(url) in heads()


def describe(url: str | URL) -> str:
    """The database URL as shown to people (password masked)."""
    return mask_url(normalize_url(url))


def make_revision(url: str | URL, message: str, rev_id: str | None = None) -> None:
    """Autogenerate a new migration by comparing the models with the database at `url`.

    For developers in a source checkout: the file is written into
    `phonebank/db/migrations/versions/`; read it and clean it before committing.
    """
    command.revision(alembic_config(url), message=message, autogenerate=True, rev_id=rev_id)
