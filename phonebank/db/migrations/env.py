"""Alembic environment: run by phonebank.db.migrate (no alembic.ini needed).

`phonebank.db.migrate` passes an open connection in `config.attributes`;
the `sqlalchemy.url` option is the fallback (and the offline `--sql` mode's source).
"""

from __future__ import annotations

from typing import Any, Literal

from alembic import context
from alembic.autogenerate.api import AutogenContext
from sqlalchemy.engine import Connection

import phonebank.db.models  # noqa: F401  (registers every table on the metadata)
from phonebank.db.base import Base
from phonebank.db.engine import make_engine, normalize_url
from phonebank.db.types import UTCDateTime

config = context.config
target_metadata = Base.metadata


def render_item(type_: str, obj: Any, autogen_context: AutogenContext) -> str | Literal[False]:
    # Migrations stay free of phonebank imports: our UTC type is a plain
    # timezone-aware DateTime in the database.
    if type_ == "type" and isinstance(obj, UTCDateTime):
        return "sa.DateTime(timezone=True)"
    return False


def _configure(**kwargs: Any) -> None:
    context.configure(
        target_metadata=target_metadata,
        # SQLite cannot ALTER most things: batch mode rebuilds the table there,
        # and is a plain ALTER on PostgreSQL, so one migration serves both.
        render_as_batch=True,
        compare_type=True,
        render_item=render_item,
        **kwargs,
    )


def _run(connection: Connection) -> None:
    _configure(connection=connection)
    with context.begin_transaction():
        context.run_migrations()


def main() -> None:
    if context.is_offline_mode():
        _configure(
            url=normalize_url(config.get_main_option("sqlalchemy.url") or ""), literal_binds=True
        )
        with context.begin_transaction():
            context.run_migrations()
        return
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    engine = make_engine(config.get_main_option("sqlalchemy.url") or "")
    try:
        with engine.begin() as conn:
            _run(conn)
    finally:
        engine.dispose()


main()
