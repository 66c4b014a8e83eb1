"""`phonebank export contacts|results --campaign NAME --format csv [--out FILE]`."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from phonebank.cli.errors import CommandError
from phonebank.cli.imports import cli_actor, database
from phonebank.config import Config
from phonebank.lists.export import export_csv


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "export",
        help="export a campaign's contacts or results (CSV); written to the audit log",
        description="Export personal data of a campaign. Every export is recorded in the "
        "audit log (who, what, how many rows, when).",
    )
    kinds = parser.add_subparsers(dest="export_kind", metavar="WHAT")
    kinds.required = True
    for kind, text in (
        ("contacts", "one row per phone number, with the contact's fields"),
        ("results", "call attempts, dispositions and survey answers"),
    ):
        sub = kinds.add_parser(kind, help=text)
        sub.add_argument("--campaign", required=True)
        sub.add_argument("--format", default="csv", choices=["csv"])
        sub.add_argument("--out", type=Path, help="file to write (default: standard output)")
        sub.set_defaults(handler=run)


def run(args: argparse.Namespace, config: Config) -> int:
    with database(config) as engine:
        if args.out is None:
            rows = export_csv(
                engine, args.export_kind, args.campaign, sys.stdout, cli_actor(), "stdout"
            )
        else:
            try:
                args.out.parent.mkdir(parents=True, exist_ok=True)
                with args.out.open("w", encoding="utf-8", newline="") as out:
                    rows = export_csv(
                        engine, args.export_kind, args.campaign, out, cli_actor(), str(args.out)
                    )
            except OSError as exc:
                raise CommandError(f"{args.out}: cannot write ({exc.strerror})") from None
    print(f"exported {rows} row(s) of {args.export_kind} ({args.campaign})", file=sys.stderr)
    return 0
