"""`phonebank bench pacing`: the dialer's pacing policies on the call-floor simulator."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from phonebank.cli.errors import CommandError
from phonebank.config import Config
from phonebank.dialer.bench import format_table, run_benchmark
from phonebank.dialer.scenario import ScenarioError, default_scenarios, load_scenario

QUICK_SEEDS = 4
QUICK_HOURS = 1.0


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "pacing",
        help="pacing policies on the simulated call floor (docs/dialer.md)",
        description="Runs every pacing policy (phonebank, progressive, fixed_ratio, "
        "vicidial_adapt_hard_limit, vicidial_adapt_tapered, reference) on each scenario "
        "over the same seeds and prints occupancy and abandon rates.",
    )
    parser.add_argument("--quick", action="store_true", help="fewer seeds and 1 hour days")
    parser.add_argument(
        "--scenario",
        action="append",
        type=Path,
        default=[],
        metavar="FILE.json",
        help="a scenario file (repeatable); default: the built-in scenarios",
    )
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--seeds", type=int, help="seeds per scenario (default: the scenario's)")
    parser.add_argument("--workers", type=int, default=2, help="processes (at most 2)")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace, config: Config) -> int:
    try:
        scenarios = [load_scenario(path) for path in args.scenario] or default_scenarios()
    except ScenarioError as exc:
        raise CommandError(str(exc)) from exc
    seeds = args.seeds if args.seeds is not None else (QUICK_SEEDS if args.quick else None)
    if seeds is not None and seeds < 1:
        raise CommandError(f"--seeds must be at least 1, got {seeds}")
    report = run_benchmark(
        scenarios,
        seeds=seeds,
        hours=QUICK_HOURS if args.quick else None,
        workers=args.workers,
        progress=lambda msg: print(msg, file=sys.stderr, flush=True),
    )
    print(json.dumps(report, indent=2) if args.json else format_table(report))
    return 0
