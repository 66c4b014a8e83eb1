"""`phonebank db upgrade|downgrade|current|history`: the database schema."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from alembic.util.exc import CommandError as AlembicCommandError
from sqlalchemy.exc import SQLAlchemyError

from phonebank.cli.errors import CommandError
from phonebank.config import Config
from phonebank.db import migrate
from phonebank.db.engine import DatabaseURLError


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "db",
        help="create or update the database schema",
        description="Apply, undo and inspect schema migrations on the configured database "
        "(database.url, PHONEBANK_DATABASE_URL; default: a SQLite file in the data folder).",
    )
    actions = parser.add_subparsers(dest="db_command", metavar="ACTION")
    actions.required = True

    up = actions.add_parser("upgrade", help="bring the schema up to date (or to REVISION)")
    up.add_argument("revision", nargs="?", default="head", help="target revision (default: head)")
    up.set_defaults(handler=run_upgrade)

    down = actions.add_parser(
        "downgrade",
        help="undo migrations down to REVISION (base = drop every table)",
        description="Undo migrations down to REVISION. This deletes data: 'base' drops "
        "every table.",
    )
    down.add_argument("revision", help="target revision, or 'base'")
    down.add_argument("--yes", action="store_true", help="do not ask for confirmation")
    down.set_defaults(handler=run_downgrade)

    cur = actions.add_parser("current", help="show the revision the database is at")
    cur.set_defaults(handler=run_current)

    hist = actions.add_parser("history", help="list the migrations this version carries")
    hist.set_defaults(handler=run_history)


@contextmanager
def database_errors(shown_url: str) -> Iterator[None]:
    """Turn driver and Alembic failures into one-line messages naming the database."""
    try:
        yield
    except DatabaseURLError as exc:
        raise CommandError(str(exc)) from None
    except AlembicCommandError as exc:
        raise CommandError(f"{shown_url}: {exc}") from None
    except SQLAlchemyError as exc:
        detail = str(getattr(exc, "orig", None) or exc).strip().splitlines()
        first = detail[0] if detail else type(exc).__name__
        raise CommandError(f"database {shown_url}: {first}") from None


def _label(revision: str | None) -> str:
    return revision if revision is not None else "(empty: no migration applied)"


def _shown(config: Config) -> str:
    try:
        return migrate.describe(config.database_url)
    except DatabaseURLError as exc:
        raise CommandError(str(exc)) from None


def run_upgrade(args: argparse.Namespace, config: Config) -> int:
    url, shown = config.database_url, _shown(config)
    with database_errors(shown):
        before = migrate.current(url)
        migrate.upgrade(url, args.revision)
        after = migrate.current(url)
    print(f"database: {shown}")
    if before == after:
        print(f"already at {_label(after)}; nothing to do")
    else:
        print(f"upgraded: {_label(before)} -> {_label(after)}")
    return 0


def _confirm(question: str, ask: Callable[[str], str] = input) -> bool:
    if not sys.stdin.isatty():
        return False
    return ask(f"{question} Type 'yes' to go on: ").strip().lower() == "yes"


def run_downgrade(args: argparse.Namespace, config: Config) -> int:
    url, shown = config.database_url, _shown(config)
    with database_errors(shown):
        before = migrate.current(url)
        if not args.yes and not _confirm(
            f"Downgrading {shown} from {_label(before)} to {args.revision} deletes data."
        ):
            raise CommandError("downgrade not confirmed; add --yes to run it without a question")
        migrate.downgrade(url, args.revision)
        after = migrate.current(url)
    print(f"database: {shown}")
    if before == after:
        print(f"already at {_label(after)}; nothing to do")
    else:
        print(f"downgraded: {_label(before)} -> {_label(after)}")
    return 0


def run_current(args: argparse.Namespace, config: Config) -> int:
    url, shown = config.database_url, _shown(config)
    with database_errors(shown):
        revision = migrate.current(url)
    heads = migrate.heads()
    print(f"database: {shown}")
    if revision in heads:
        state = "(head: up to date)"
    elif revision is None:
        state = "- run `phonebank db upgrade`"
    else:
        state = f"(behind head {', '.join(heads)}: run `phonebank db upgrade`)"
    print(f"revision: {_label(revision)} {state}")
    return 0


def run_history(args: argparse.Namespace, config: Config) -> int:
    url, shown = config.database_url, _shown(config)
    try:
        with database_errors(shown):
            at: str | None = migrate.current(url)
        where = f"database: {shown}"
    except CommandError as exc:
        # History comes from the package; the database only marks where it stands.
        at, where = None, f"database: {shown} (not readable: {exc})"
    print(where)
    for info in migrate.history():
        marks = [m for m, on in (("head", info.is_head), ("current", info.revision == at)) if on]
        suffix = f" ({', '.join(marks)})" if marks else ""
        print(f"{info.revision} <- {info.down_revision or 'base'}: {info.message}{suffix}")
    return 0
