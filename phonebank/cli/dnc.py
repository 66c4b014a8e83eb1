"""`phonebank dnc import|add|list`: the global do-not-call list."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from phonebank.cli.errors import CommandError
from phonebank.cli.imports import cli_actor, database
from phonebank.config import Config
from phonebank.lists import dnc
from phonebank.lists.errors import ListError
from phonebank.lists.headers import parse_overrides


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "dnc",
        help="the do-not-call list (numbers never dialled, in any campaign)",
        description="Numbers on the do-not-call list stay in the contact lists but are "
        "never callable, in every campaign.",
    )
    actions = parser.add_subparsers(dest="dnc_command", metavar="ACTION")
    actions.required = True

    imp = actions.add_parser("import", help="add every number of a CSV/XLSX file")
    imp.add_argument("file", type=Path)
    imp.add_argument("--map", action="append", default=[], metavar="COLUMN=FIELD")
    imp.add_argument("--region", default="FR")
    imp.add_argument("--reason", default="", help="why (kept with each entry)")
    imp.add_argument("--json", action="store_true")
    imp.set_defaults(handler=run_import)

    add = actions.add_parser("add", help="add one or more numbers")
    add.add_argument("numbers", nargs="+", metavar="NUMBER")
    add.add_argument("--region", default="FR")
    add.add_argument("--reason", default="")
    add.add_argument("--json", action="store_true")
    add.set_defaults(handler=run_add)

    lst = actions.add_parser("list", help="show the list")
    lst.add_argument("--limit", type=int, help="at most this many entries")
    lst.add_argument("--json", action="store_true")
    lst.set_defaults(handler=run_list)


def _report(result: dnc.DncResult, as_json: bool) -> int:
    if as_json:
        print(json.dumps(result.to_json(), ensure_ascii=False))
    else:
        print(
            f"do-not-call: {result.added} added, {result.already} already listed, "
            f"{result.phones_marked} phone(s) made uncallable, {len(result.rejected)} rejected"
        )
        for item in result.rejected[:20]:
            print(f"  line {item['line']}: {item['reason']}")
    return 1 if result.rejected and not (result.added or result.already) else 0


def run_import(args: argparse.Namespace, config: Config) -> int:
    with database(config) as engine:
        try:
            numbers = dnc.file_numbers(args.file, parse_overrides(args.map))
            result = dnc.add_numbers(
                engine,
                numbers,
                source="import",
                reason=args.reason or f"{args.file.name} ({cli_actor()})",
                region=args.region.upper(),
            )
        except ListError as exc:
            raise CommandError(str(exc)) from None
    return _report(result, args.json)


def run_add(args: argparse.Namespace, config: Config) -> int:
    with database(config) as engine:
        result = dnc.add_numbers(
            engine,
            ((i, n) for i, n in enumerate(args.numbers, start=1)),
            source="manual",
            reason=args.reason or cli_actor(),
            region=args.region.upper(),
        )
    return _report(result, args.json)


def run_list(args: argparse.Namespace, config: Config) -> int:
    with database(config) as engine:
        entries = dnc.list_entries(engine, args.limit)
    rows = [
        {
            "e164": e.e164,
            "source": e.source,
            "reason": e.reason,
            "added_at": e.added_at.isoformat(),
        }
        for e in entries
    ]
    if args.json:
        print(json.dumps(rows, ensure_ascii=False))
    else:
        for row in rows:
            print(f"{row['e164']:<16} {row['added_at'][:19]}  {row['source']:<10} {row['reason']}")
        print(f"{len(rows)} number(s)")
    return 0
