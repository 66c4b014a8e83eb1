"""`phonebank user code create|list|revoke`: the daily access codes for volunteers."""

from __future__ import annotations

import argparse
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select

from phonebank.accounts.codes import (
    CodeWindow,
    code_usable,
    format_code,
    generate_code,
    normalize_code,
    validity,
)
from phonebank.cli.dbaccess import database_session
from phonebank.cli.errors import CommandError
from phonebank.config import Config
from phonebank.db.enums import Role
from phonebank.db.models import AccessCode, Campaign


def register(actions: Any) -> None:
    code = actions.add_parser(
        "code",
        help="daily access codes for volunteers without an account",
        description="A supervisor hands out a code of the day; volunteers log in with it "
        "and their first name. Each (code, name) gets its own account, so their calls "
        "stay theirs.",
    )
    sub = code.add_subparsers(dest="code_command", metavar="ACTION")
    sub.required = True
    create = sub.add_parser(
        "create",
        help="make a new code",
        description="Make a code valid from now for --hours hours (default 14: one long day).",
    )
    create.add_argument("--hours", type=float, default=14.0, help="how long it is valid")
    create.add_argument("--role", default=Role.VOLUNTEER.value, choices=[r.value for r in Role])
    create.add_argument("--campaign", help="limit the code to this campaign")
    create.set_defaults(handler=run_create)
    lst = sub.add_parser("list", help="list the codes still valid", description="List codes.")
    lst.add_argument("--all", action="store_true", help="include expired and revoked codes")
    lst.set_defaults(handler=run_list)
    revoke = sub.add_parser(
        "revoke", help="stop a code now", description="Stop a code: it no longer logs anyone in."
    )
    revoke.add_argument("code")
    revoke.set_defaults(handler=run_revoke)


def run_create(args: argparse.Namespace, config: Config) -> int:
    now = datetime.now(UTC)
    try:
        valid_from, valid_until = validity(now, args.hours)
    except ValueError as exc:
        raise CommandError(str(exc)) from None
    with database_session(config, write=True) as (session, shown):
        campaign_id = None
        if args.campaign:
            campaign = session.scalars(
                select(Campaign).where(Campaign.name == args.campaign)
            ).first()
            if campaign is None:
                raise CommandError(f"no campaign named {args.campaign!r}; nothing was created")
            campaign_id = campaign.id
        code = generate_code()
        session.add(
            AccessCode(
                code=code,
                role=Role(args.role),
                campaign_id=campaign_id,
                valid_from=valid_from,
                valid_until=valid_until,
            )
        )
    print(f"database: {shown}")
    print(f"code {format_code(code)} ({args.role}) valid until {valid_until:%Y-%m-%d %H:%M} UTC")
    return 0


def run_list(args: argparse.Namespace, config: Config) -> int:
    now = datetime.now(UTC)
    with database_session(config, write=False) as (session, shown):
        rows = session.scalars(select(AccessCode).order_by(AccessCode.valid_until.desc())).all()
        lines = []
        for row in rows:
            usable = code_usable(CodeWindow(row.valid_from, row.valid_until, row.revoked_at), now)
            if usable or args.all:
                state = "valid" if usable else ("revoked" if row.revoked_at else "expired")
                lines.append(
                    f"{format_code(row.code)}  {row.role.value:<10} {state:<8} "
                    f"until {row.valid_until:%Y-%m-%d %H:%M} UTC"
                )
    print(f"database: {shown}")
    print("\n".join(lines) if lines else "no codes (create one with `phonebank user code create`)")
    return 0


def run_revoke(args: argparse.Namespace, config: Config) -> int:
    code = normalize_code(args.code)
    with database_session(config, write=True) as (session, shown):
        row = session.scalars(select(AccessCode).where(AccessCode.code == code)).one_or_none()
        if row is None:
            raise CommandError(f"no code {args.code!r}")
        row.revoked_at = row.revoked_at or datetime.now(UTC)
    print(f"database: {shown}")
    print(f"code {format_code(code)} revoked")
    return 0
