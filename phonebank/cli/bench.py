"""`phonebank bench ...`: benchmarks that print figures beside their baseline.

Each benchmark lives in its own module with `register(subparsers)`, like the
top-level commands; list it here.
"""

from __future__ import annotations

import importlib
from typing import Any

_BENCH_MODULES: tuple[str, ...] = (
    "phonebank.cli.bench_pacing",
    "phonebank.cli.bench_import",
    "phonebank.cli.bench_followup",
    "phonebank.cli.bench_pop",
    "phonebank.cli.bench_telephony",
    "phonebank.cli.bench_wallboard",
)


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "bench",
        help="run a benchmark (figures side by side with their baseline)",
        description="Benchmarks measure speed and quality against a baseline run in the "
        "same process, and print a table (or JSON with --json). They are never part of "
        "the tests: machines are shared and noisy.",
    )
    sub = parser.add_subparsers(dest="bench_command", metavar="BENCHMARK")
    sub.required = True
    for name in _BENCH_MODULES:
        importlib.import_module(name).register(sub)
