"""`phonebank bench followup`: SMS and e-mail throughput against the configured rate limits."""

from __future__ import annotations

import argparse
import json
import socket
from typing import Any

from phonebank.config import Config
from phonebank.followup import bench


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "followup",
        help="SMS (modem emulator) and e-mail (local SMTP) throughput vs the rate limits",
        description="Sends through the SMS worker to the pseudo-terminal modem emulator and "
        "through the e-mail worker to an aiosmtpd on loopback, once at the configured "
        "[sms]/[email] rate_per_minute (the limiter's waits skipped on a simulated clock) "
        "and once unthrottled, as the baseline ceiling.",
    )
    parser.add_argument("--quick", action="store_true", help="fewer messages")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.set_defaults(handler=run)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def run(args: argparse.Namespace, config: Config) -> int:
    report = bench.run(
        quick=args.quick,
        sms_limit=config.sms.rate_per_minute,
        email_limit=config.email.rate_per_minute,
        smtp_port=_free_port(),
    )
    if args.json:
        print(json.dumps(report))
        return 0
    print(
        f"{'channel':<8}{'limit/min':>10}{'achieved/min':>14}{'max in 1 min':>14}"
        f"{'ceiling/min':>13}"
    )
    for name in ("sms", "email"):
        entry = report[name]
        throttled = entry["throttled"] or {}
        print(
            f"{name:<8}{entry['configured_per_minute'] or 'none':>10}"
            f"{throttled.get('per_minute', '-'):>14}{throttled.get('max_in_any_minute', '-'):>14}"
            f"{entry['unthrottled']['per_minute']:>13}"
        )
    return 0
