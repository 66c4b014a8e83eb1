"""`phonebank bench pop`: call pop latency to real browsers, one per station."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from phonebank.cli.errors import CommandError
from phonebank.config import Config


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "pop",
        help="call pop latency, bus to browser, with one Chromium page per station",
        description="Publishes call pops on the live bus of an in-process phone bank and "
        "measures when each station's page (Debian's Chromium, driven by Playwright) shows "
        "the contact. Each round first publishes the calls' CallAnswered (AMD said human), "
        "then the pops GAP seconds later, so the contacts are read ahead; every other round "
        "skips the CallAnswered (the contact is read at the pop), as the baseline. Prints "
        "p50/p90/p99 end to end, beside the server's own part, for both. "
        "Needs /usr/bin/chromium and the playwright package (the dev extras).",
    )
    parser.add_argument("--stations", type=int, default=15, help="screens (default 15)")
    parser.add_argument("--rounds", type=int, default=20, help="pops per station (default 20)")
    parser.add_argument(
        "--stagger",
        type=float,
        default=0.0,
        metavar="SECONDS",
        help="spread each round's pops over up to this gap each (default: all at once)",
    )
    parser.add_argument(
        "--gap",
        type=float,
        default=0.2,
        metavar="SECONDS",
        help="from CallAnswered to CallPop, AMD's verdict to the bridge (default 0.2)",
    )
    parser.add_argument(
        "--postgres",
        action="store_true",
        help="use a throwaway PostgreSQL cluster instead of a SQLite file",
    )
    parser.add_argument("--quick", action="store_true", help="5 rounds")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace, config: Config) -> int:
    try:
        from phonebank.volunteer import bench
    except ImportError as exc:  # playwright is a dev dependency
        raise CommandError(f"{exc}: install the dev extras (pip install -e '.[dev]')") from exc
    if args.stations < 1 or args.rounds < 1:
        raise CommandError("--stations and --rounds must be at least 1")
    if args.gap < 0:
        raise CommandError("--gap cannot be negative")

    def progress(message: str) -> None:
        print(message, file=sys.stderr, flush=True)

    rounds = 5 if args.quick else args.rounds
    if args.postgres:
        from phonebank.devtools.pgcluster import PgCluster, admin_execute

        cluster = PgCluster()
        cluster.start()
        try:
            admin_execute(cluster.url(), 'CREATE DATABASE "phonebank_bench"')
            url = cluster.url("phonebank_bench").render_as_string(hide_password=False)
            report = bench.run(
                stations=args.stations,
                rounds=rounds,
                stagger=args.stagger,
                gap=args.gap,
                database_url=url,
                progress=progress,
            )
        finally:
            cluster.stop()
    else:
        report = bench.run(
            stations=args.stations,
            rounds=rounds,
            stagger=args.stagger,
            gap=args.gap,
            progress=progress,
        )
    if args.json:
        print(json.dumps(report))
        return 0
    print(
        f"call pop, {report['stations']} stations × {report['rounds']} rounds each way, "
        f"{report['pops']}, {report['database']}"
    )
    print(
        f"prefetch: CallAnswered {report['gap_ms']} ms before the pop "
        f"(found ahead: {report['prefetch_hits']} pops)"
    )
    print(f"{'':<36}{'p50':>8}{'p90':>8}{'p99':>8}{'max':>8}  (ms)")
    without = report["without_prefetch"]
    rows = (
        ("bus → browser shown, prefetched", report["end_to_end_ms"]),
        ("bus → browser shown, read at pop", without["end_to_end_ms"]),
        ("bus → card sent, prefetched", report["server_ms"]),
        ("bus → card sent, read at pop", without["server_ms"]),
    )
    for label, row in rows:
        print(f"{label:<36}{row['p50']:>8}{row['p90']:>8}{row['p99']:>8}{row['max']:>8}")
    cold = report["first_round_ms"]
    print(f"{'first round (cold), prefetched':<36}{cold['p50']:>8}{'':>8}{'':>8}{cold['max']:>8}")
    verdict = "met" if report["met"] else "NOT met"
    print(f"target p99 ≤ {report['target_p99_ms']:.0f} ms: {verdict}")
    return 0
