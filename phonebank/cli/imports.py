"""`phonebank import FILE --campaign NAME`: load a voter or contact list."""

from __future__ import annotations

import argparse
import getpass
import json
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import phonenumbers
from sqlalchemy import Engine

from phonebank.cli.dbaccess import checked_engine
from phonebank.cli.errors import CommandError
from phonebank.config import Config
from phonebank.lists.errors import ListError
from phonebank.lists.headers import parse_overrides
from phonebank.lists.rejects import CsvRejects, default_rejects_path
from phonebank.lists.service import ImportOptions, ImportSummary, import_file


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "import",
        help="import a voter or contact list (CSV or XLSX) into a campaign",
        description="Import a CSV (any common encoding and delimiter) or XLSX list into a "
        "campaign: numbers normalised, duplicates merged, do-not-call numbers kept but never "
        "callable. Rejected rows go to a reject CSV beside the file. See docs/lists.md.",
    )
    parser.add_argument("file", type=Path)
    parser.add_argument("--campaign", required=True, help="campaign name")
    parser.add_argument("--create-campaign", action="store_true", help="create it if missing")
    parser.add_argument("--list", dest="list_name", help="also put the contacts on this call list")
    parser.add_argument(
        "--map",
        action="append",
        default=[],
        metavar="COLUMN=FIELD",
        help="say what a column holds (phone, last_name, custom:NAME, ignore, ...); repeatable",
    )
    parser.add_argument("--region", default="FR", help="region of national numbers (default FR)")
    parser.add_argument("--rejects", type=Path, help="reject CSV (default: FILE.rejects.csv)")
    parser.add_argument("--dry-run", action="store_true", help="check and count; write nothing")
    parser.add_argument(
        "--bulk",
        action="store_true",
        help="PostgreSQL, first load of a big list: faster, but the contacts are locked "
        "until it ends (refused while a dialer runs)",
    )
    parser.add_argument("--json", action="store_true", help="print the summary as JSON")
    parser.set_defaults(handler=run)


def cli_actor() -> str:
    """Who runs the command, for the audit log."""
    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):
        return "cli:unknown"


@contextmanager
def database(config: Config) -> Iterator[Engine]:
    """An engine on the configured database, whose schema must be up to date."""
    with checked_engine(config) as (engine, _shown):
        try:
            yield engine
        except ListError as exc:
            raise CommandError(str(exc)) from None


class _Progress:
    """A one-line progress bar on stderr, only when it is a terminal."""

    def __init__(self) -> None:
        self.enabled = sys.stderr.isatty()
        self.started = time.monotonic()

    def __call__(self, rows: int, fraction: float) -> None:
        if not self.enabled:
            return
        width = 30
        filled = int(width * fraction)
        rate = rows / max(time.monotonic() - self.started, 1e-6)
        sys.stderr.write(
            f"\r[{'#' * filled}{'.' * (width - filled)}] {fraction:4.0%} {rows} rows "
            f"({rate:,.0f}/s)"
        )
        sys.stderr.flush()

    def done(self) -> None:
        if self.enabled:
            sys.stderr.write("\n")


def _print_summary(summary: ImportSummary, rejects: CsvRejects) -> None:
    verb = "would import" if summary.dry_run else "imported"
    print(
        f"{summary.file}: {summary.rows} rows ({summary.encoding or 'xlsx'}) {verb} into "
        f"campaign {summary.campaign!r}"
        + (f", list {summary.call_list!r}" if summary.call_list else "")
    )
    print(f"  contacts created: {summary.contacts_created}, merged: {summary.contacts_merged}")
    print(
        f"  phones: {summary.phones_valid} new, {summary.phones_invalid} invalid, "
        f"{summary.duplicates} duplicates, {summary.dnc} on the do-not-call list"
    )
    if summary.call_list:
        print(f"  call list entries added: {summary.list_entries_added}")
    print(f"  rejected rows: {len(summary.rejected)}", end="")
    print(f" (see {rejects.path})" if rejects.count else "")
    for item in summary.rejected[:10]:
        print(f"    line {item['line']}: {item['reason']}")
    if len(summary.rejected) > 10:
        print(f"    ... {len(summary.rejected) - 10} more")
    if summary.warnings:
        print(f"  warnings: {len(summary.warnings)} (use --json to see them all)")


def run(args: argparse.Namespace, config: Config) -> int:
    try:
        overrides = parse_overrides(args.map)
    except ListError as exc:
        raise CommandError(str(exc)) from None
    if args.region.upper() not in phonenumbers.SUPPORTED_REGIONS:
        raise CommandError(f"--region {args.region}: not a region phonenumbers knows (FR, US, ...)")
    options = ImportOptions(
        campaign=args.campaign,
        list_name=args.list_name,
        overrides=overrides,
        region=args.region.upper(),
        dry_run=args.dry_run,
        create_campaign=args.create_campaign,
        bulk=args.bulk,
    )
    progress = _Progress()
    with (
        database(config) as engine,
        CsvRejects(args.rejects or default_rejects_path(args.file)) as rejects,
    ):
        try:
            summary = import_file(engine, args.file, options, rejects, progress)
        except BaseException:
            # Nothing was imported: a reject file would describe an import that did not happen.
            rejects.close()
            if rejects.count:
                rejects.path.unlink(missing_ok=True)
            raise
        finally:
            progress.done()
    if args.json:
        print(json.dumps(summary.to_json(), ensure_ascii=False, default=str))
    else:
        _print_summary(summary, rejects)
    return 0
