"""Entry point of the `phonebank` command.

Each subcommand lives in its own module with a `register(subparsers)` function
that adds its parser and sets `handler(args, config) -> exit code`.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import sys
from collections.abc import Sequence
from pathlib import Path

from phonebank import __version__
from phonebank.cli.errors import CommandError
from phonebank.config import CONFIG_ENV, ConfigError, load_config

# Order is the order shown in `phonebank --help`.
_COMMAND_MODULES = (
    "phonebank.cli.up",
    "phonebank.cli.db",
    "phonebank.cli.user",
    "phonebank.cli.asterisk",
    "phonebank.cli.config_cmd",
    "phonebank.cli.bench",
    "phonebank.cli.hardware",
    "phonebank.cli.imports",
    "phonebank.cli.dnc",
    "phonebank.cli.export",
    "phonebank.cli.lists",
    "phonebank.cli.sms",
    "phonebank.cli.email",
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="phonebank",
        description="Self-hosted phone bank for political campaigns, on Asterisk.",
    )
    parser.add_argument("--version", action="version", version=f"phonebank {__version__}")
    parser.add_argument(
        "--config",
        type=Path,
        metavar="FILE",
        help=f"TOML configuration file (default: ${CONFIG_ENV}, then built-in defaults)",
    )
    parser.add_argument("-v", "--verbose", action="count", default=0, help="more log output")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    subparsers.required = True
    for name in _COMMAND_MODULES:
        importlib.import_module(name).register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG
        if args.verbose > 1
        else logging.INFO
        if args.verbose
        else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    try:
        config = load_config(args.config)
    except ConfigError as exc:
        print(f"phonebank: configuration error: {exc}", file=sys.stderr)
        return 2
    try:
        code: int = args.handler(args, config)
    except KeyboardInterrupt:
        return 130
    except CommandError as exc:
        print(f"phonebank: {exc}", file=sys.stderr)
        return exc.exit_code
    return code
