"""`phonebank user add|list`: accounts for volunteers, supervisors and admins."""

from __future__ import annotations

import argparse
import getpass
import sys
from typing import Any

from phonebank.cli import codes
from phonebank.cli.dbaccess import database_session
from phonebank.cli.errors import CommandError
from phonebank.config import Config
from phonebank.db.enums import Language, Role
from phonebank.db.users import UserError, create_user, list_users

MIN_PASSWORD_LENGTH = 8


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "user",
        help="add and list user accounts",
        description="Manage the accounts that log in to the web screens.",
    )
    actions = parser.add_subparsers(dest="user_command", metavar="ACTION")
    actions.required = True

    add = actions.add_parser(
        "add",
        help="create an account (asks for the password twice)",
        description="Create an account. The password is asked twice on the terminal, "
        "or read from the first line of standard input with --password-stdin.",
    )
    add.add_argument("username")
    add.add_argument("--role", required=True, choices=[r.value for r in Role])
    add.add_argument("--display-name", default="", help="name shown on screens (default: username)")
    add.add_argument("--language", default=Language.FR.value, choices=[x.value for x in Language])
    add.add_argument(
        "--password-stdin", action="store_true", help="read the password from standard input"
    )
    add.set_defaults(handler=run_add)

    lst = actions.add_parser("list", help="list the accounts", description="List the accounts.")
    lst.set_defaults(handler=run_list)
    codes.register(actions)


def _read_password(args: argparse.Namespace) -> str:
    if args.password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = getpass.getpass(f"Password for {args.username}: ")
        again = getpass.getpass("Same password again: ")
        if password != again:
            raise CommandError("the two passwords differ; nothing was created")
    if len(password) < MIN_PASSWORD_LENGTH:
        raise CommandError(
            f"the password is shorter than {MIN_PASSWORD_LENGTH} characters; nothing was created"
        )
    return password


def run_add(args: argparse.Namespace, config: Config) -> int:
    # Check the database before asking for a password that would then be wasted.
    with database_session(config, write=False) as (_session, shown):
        pass
    password = _read_password(args)
    try:
        with database_session(config, write=True) as (session, shown):
            user = create_user(
                session,
                args.username,
                password,
                Role(args.role),
                display_name=args.display_name,
                language=Language(args.language),
            )
            summary = f"created user {user.username!r} (role {user.role}, language {user.language})"
    except UserError as exc:
        raise CommandError(f"{exc}; nothing was created") from None
    print(f"database: {shown}")
    print(summary)
    return 0


def run_list(args: argparse.Namespace, config: Config) -> int:
    with database_session(config, write=False) as (session, shown):
        users = list_users(session)
    print(f"database: {shown}")
    if not users:
        print("no users yet: add one with `phonebank user add NAME --role admin`")
        return 0
    rows = [("USERNAME", "ROLE", "LANG", "ACTIVE", "NAME")]
    rows += [
        (u.username, u.role, u.language, "yes" if u.active else "no", u.display_name) for u in users
    ]
    widths = [max(len(str(row[i])) for row in rows) for i in range(4)]
    for row in rows:
        cells = [str(cell).ljust(width) for cell, width in zip(row[:4], widths, strict=True)]
        print("  ".join([*cells, str(row[4])]))
    return 0
