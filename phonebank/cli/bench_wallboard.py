"""`phonebank bench wallboard`: the supervisors' wallboard, fan-out and pages under load."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from phonebank.cli.errors import CommandError
from phonebank.config import Config


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "wallboard",
        help="wallboard fan-out to supervisors' WebSockets, and page latency under load",
        description="Serves the wallboard on loopback for a synthetic floor of stations "
        "(and a SQLite database with a day of calls), connects supervisors by WebSocket and "
        "measures the fan-out of each state to every one (p50/p99), then page latency while "
        "a bounded load generator sends requests at a fixed rate. Baselines beside: one "
        "supervisor, pages without load, the hub's own work per state.",
    )
    parser.add_argument("--stations", type=int, default=100, help="stations (default 100)")
    parser.add_argument(
        "--supervisors", type=int, default=10, help="WebSocket clients (default 10)"
    )
    parser.add_argument("--rate", type=float, default=200.0, help="requests/s (default 200)")
    parser.add_argument(
        "--seconds", type=float, default=20.0, help="length of each phase (default 20)"
    )
    parser.add_argument("--quick", action="store_true", help="2-second phases, fewer leads")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.set_defaults(handler=run)


def _row(label: str, figures: dict[str, float]) -> str:
    cells = "".join(f"{figures.get(k, '-'):>9}" for k in ("p50", "p99", "max", "n"))
    return f"{label:<38}{cells}"


def run(args: argparse.Namespace, config: Config) -> int:
    from phonebank.supervisor import bench

    if args.stations < 1 or args.supervisors < 1 or args.rate <= 0 or args.seconds <= 0:
        raise CommandError("--stations, --supervisors, --rate and --seconds must be positive")
    settings = bench.Settings(
        stations=args.stations,
        supervisors=args.supervisors,
        rate=args.rate,
        seconds=2.0 if args.quick else args.seconds,
        leads=2_000 if args.quick else 20_000,
    )

    def progress(message: str) -> None:
        print(message, file=sys.stderr, flush=True)

    report = bench.run(settings, progress)
    if args.json:
        print(json.dumps(report))
        return 0
    fan, page, load = report["fanout_ms"], report["page_ms"], report["load"]
    print(
        f"wallboard: {report['stations']} stations, {report['supervisors']} supervisors, "
        f"tick {report['tick_s']} s, {report['seconds_per_phase']:.0f} s per phase"
    )
    print(f"{'':<38}{'p50':>9}{'p99':>9}{'max':>9}{'n':>9}  (ms)")
    print(_row("fan-out, 1 supervisor (baseline)", fan["one_supervisor"]))
    print(_row(f"fan-out, {report['supervisors']} supervisors", fan["supervisors"]))
    print(
        _row(
            f"fan-out, {report['supervisors']} supervisors, under load",
            fan["supervisors_under_load"],
        )
    )
    print(_row("page, no load (baseline)", page["idle"]))
    print(_row(f"page, {load['target_rps']:.0f} requests/s", page["under_load"]))
    print(_row("state built once (compute + JSON)", report["state_build_ms"]))
    print(
        f"load: {load['achieved_rps']} requests/s achieved, {load['failed']} failed, "
        f"{load['skipped']} skipped (over {bench.Settings().max_in_flight} in flight)"
    )
    verdict = "met" if report["met"] else "NOT met"
    print(f"target p99 < {report['target_p99_ms']:.0f} ms (fan-out and pages): {verdict}")
    return 0
