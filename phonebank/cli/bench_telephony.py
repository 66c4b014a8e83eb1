"""`phonebank bench telephony`: real calls on a throwaway sandbox Asterisk, and an AMI load run."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from typing import Any

from phonebank.asterisk.errors import AsteriskError
from phonebank.cli.errors import CommandError
from phonebank.config import Config

QUICK_LOAD_SECONDS = 3.0
FULL_LOAD_SECONDS = 10.0


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "telephony",
        help="the dialer placing real calls on a sandbox Asterisk, and an AMI load run",
        description="Starts a sandbox Asterisk of its own (removed afterwards), lifts 15 "
        "simulated handsets and lets the dialer engine call simulated voters through the "
        "AMI adapter: connect latency from the AMD verdict to the voter in the station's "
        "bridge, AMD verdicts checked against the voters, abandoned calls, double dials and "
        "calls without an outcome. Then an AMI load run: events per second handled and the "
        "processing lag, beside panoramisk alone. Needs root (the sandbox) and about a "
        "minute with --quick.",
    )
    parser.add_argument("--quick", action="store_true", help="45 calls and a 3 s load run")
    parser.add_argument("--calls", type=int, help="how many calls (default 45 quick, 300 full)")
    parser.add_argument("--rate", type=int, default=2000, help="AMI load: events per second")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace, config: Config) -> int:
    from phonebank.telephony import bench, bench_load

    plan = bench.QUICK if args.quick else bench.FULL
    if args.calls is not None:
        if args.calls < 1:
            raise CommandError(f"--calls must be at least 1, got {args.calls}")
        plan = bench.FloorPlan(calls=args.calls, within=max(120.0, args.calls * 3.0))
    if args.rate < 1:
        raise CommandError(f"--rate must be at least 1, got {args.rate}")
    seconds = QUICK_LOAD_SECONDS if args.quick else FULL_LOAD_SECONDS

    def progress(message: str) -> None:
        print(message, file=sys.stderr, flush=True)

    async def measure(info: Any) -> dict[str, Any]:
        floor = await bench.run_floor(info, plan, progress)
        load = await bench_load.run_load(info, rate=args.rate, seconds=seconds, progress=progress)
        return {**floor, "ami_load": load}

    try:
        with bench.throwaway_sandbox(config, progress) as info:
            report = asyncio.run(measure(info))
    except AsteriskError as exc:
        raise CommandError(str(exc)) from exc
    print(json.dumps(report, indent=2) if args.json else format_report(report))
    return 0


def format_report(report: dict[str, Any]) -> str:
    latency, amd, load = report["connect_latency_ms"], report["amd"], report["ami_load"]
    lines = [
        f"calls {report['calls']} in {report['seconds']} s: {report['outcomes']}",
        f"  connect latency (AMD human -> voter in the station's bridge): "
        f"p50 {latency['p50']} ms, p99 {latency['p99']} ms, max {latency['max']} ms "
        f"({latency['samples']} people)   target p99 <= 150 ms",
        f"  AMD right {amd['correct']}/{amd['total']}",
        f"  abandoned {report['abandoned']}, double dials {report['double_dials']}, "
        f"calls without an outcome {report['lost_outcomes']}",
        f"AMI load at {load['rate']} events/s for {load['seconds']:.0f} s:",
    ]
    for name in ("baseline_panoramisk", "phonebank"):
        part = load[name]
        lines.append(
            f"  {name:<20} {part['events_per_s']:>6} events/s handled, lag p50 "
            f"{part['lag_ms']['p50']} ms, p99 {part['lag_ms']['p99']} ms, "
            f"max {part['lag_ms']['max']} ms ({part['events']} events)"
        )
    lines.append("  target: lag p99 <= 50 ms at 2,000 events/s")
    return "\n".join(lines)
