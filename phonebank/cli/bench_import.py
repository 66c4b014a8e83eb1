"""`phonebank bench import --rows N`: list import vs a raw COPY, on PostgreSQL."""

from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path
from typing import Any

from sqlalchemy.engine import make_url

from phonebank.cli.errors import CommandError
from phonebank.config import Config
from phonebank.devtools.pgcluster import PgClusterError
from phonebank.lists import bench


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "import",
        help="import a generated list into PostgreSQL, beside a raw COPY of the same file",
        description="Generates an N-row list (one or two phones per row), imports it into a "
        "fresh PostgreSQL database, again with --bulk into another, then COPYs the same file "
        "into a bare table; prints the rates, their ratios to COPY and the peak memory. "
        "Without --server-url it starts a throwaway PostgreSQL cluster (Debian's binaries).",
    )
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument(
        "--server-url", help="a PostgreSQL URL whose user may CREATE DATABASE (default: own)"
    )
    parser.add_argument("--workdir", type=Path, help="where to write the generated file")
    parser.add_argument("--json", action="store_true")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace, config: Config) -> int:
    if args.rows < 1:
        raise CommandError("--rows must be at least 1")
    server = (
        make_url(args.server_url).set(drivername="postgresql+psycopg") if args.server_url else None
    )
    with tempfile.TemporaryDirectory(prefix="phonebank-bench-", dir=args.workdir) as tmp:
        try:
            result = bench.run(args.rows, Path(tmp), server).to_json()
        except PgClusterError as exc:
            raise CommandError(str(exc)) from None
    if args.json:
        print(json.dumps(result))
        return 0
    print(f"rows {result['rows']:,} ({result['phones']:,} phones)")
    for label, prefix in (("import       ", ""), ("import --bulk", "bulk_")):
        print(
            f"  {label}: {result[prefix + 'import_seconds']:8.2f} s  "
            f"{result[prefix + 'import_rows_per_s']:>9,} rows/s  "
            f"(COPY x {result[prefix + 'import_to_copy_ratio']:.3f})"
        )
    copy = f"{result['copy_seconds']:8.2f} s  {result['copy_rows_per_s']:>9,} rows/s"
    print(f"  bare COPY    : {copy}")
    print("  target 30,000 rows/s")
    print(
        f"  peak RSS: {result['peak_rss_mb_before_import']:.0f} MB before import, "
        f"{result['peak_rss_mb_after_import']:.0f} MB after"
    )
    return 0
