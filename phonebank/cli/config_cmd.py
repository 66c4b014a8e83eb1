"""`phonebank config`: print the effective settings."""

from __future__ import annotations

import argparse
import json
from typing import Any

from phonebank.config import Config, describe


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "config",
        help="show the effective settings",
        description="Print the settings after defaults, the TOML file and PHONEBANK_* "
        "variables are applied (secrets masked).",
    )
    parser.add_argument("--json", action="store_true", help="print JSON instead of TOML-like text")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace, config: Config) -> int:
    settings = describe(config)
    if args.json:
        print(json.dumps(settings, indent=2, sort_keys=True))
        return 0
    print(f"# database in use: {config.database_url}")
    for section, values in settings.items():
        print(f"[{section}]")
        for key, value in values.items():
            print(f"{key} = {json.dumps(value)}")
        print()
    return 0
