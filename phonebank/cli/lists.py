"""`phonebank list build|refresh`: call lists from a saved target (see docs/lists.md)."""

from __future__ import annotations

import argparse
import json
from datetime import date
from pathlib import Path
from typing import Any

from phonebank.cli.errors import CommandError
from phonebank.cli.imports import database
from phonebank.config import Config
from phonebank.lists import calllists
from phonebank.lists.errors import ListError
from phonebank.lists.precincts import parse_results, rank
from phonebank.lists.reader import open_raw_csv
from phonebank.lists.targeting import KEYS, parse_where


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "list",
        help="build and refresh call lists from targeting conditions",
        description="Build a call list from a campaign's contacts (support level, city, "
        "postal code, precinct, age, tags, contact history); the conditions are saved so "
        "that `list refresh` can re-apply them.",
    )
    actions = parser.add_subparsers(dest="list_command", metavar="ACTION")
    actions.required = True
    build = actions.add_parser("build", help="create a list from conditions")
    build.add_argument("--campaign", required=True)
    build.add_argument("--name", required=True)
    build.add_argument(
        "--where",
        action="append",
        default=[],
        metavar="CONDITION",
        help=f"KEY=VALUE (all must hold; VALUE may be a comma list); keys: {', '.join(KEYS)}",
    )
    build.add_argument("--json", action="store_true")
    build.set_defaults(handler=run_build)
    refresh = actions.add_parser("refresh", help="re-apply a list's saved conditions")
    refresh.add_argument("--campaign", required=True)
    refresh.add_argument("--name", required=True)
    refresh.add_argument("--json", action="store_true")
    refresh.set_defaults(handler=run_refresh)
    ranked = actions.add_parser(
        "rank-precincts",
        help="order a list by how close the race was in each polling station",
        description="Read the Interior Ministry's results per polling station (CSV from "
        "data.gouv.fr), rank the stations by the margin between the two leading "
        "candidates, and give each entry of the list the priority of its contact's "
        "station (closest race first).",
    )
    ranked.add_argument("file", type=Path)
    ranked.add_argument("--campaign", required=True)
    ranked.add_argument("--name", required=True, help="the call list")
    ranked.add_argument(
        "--commune", help="INSEE code of the commune (station codes repeat across communes)"
    )
    ranked.add_argument("--json", action="store_true")
    ranked.set_defaults(handler=run_rank)


def _report(result: calllists.RefreshResult, as_json: bool) -> int:
    if as_json:
        print(json.dumps(result.to_json(), ensure_ascii=False))
    else:
        print(
            f"list {result.call_list!r}: {result.matched} contacts match; "
            f"{result.added} added, {result.excluded} dropped (excluded, history kept)"
        )
    return 0


def run_build(args: argparse.Namespace, config: Config) -> int:
    try:
        target = parse_where(args.where)
    except ListError as exc:
        raise CommandError(str(exc)) from None
    with database(config) as engine:
        result = calllists.build(engine, args.campaign, args.name, target, date.today())
    return _report(result, args.json)


def run_rank(args: argparse.Namespace, config: Config) -> int:
    try:
        with open_raw_csv(args.file) as (headers, rows):
            results = parse_results(headers, rows, source=str(args.file))
    except ListError as exc:
        raise CommandError(str(exc)) from None
    ranked = rank(results, args.commune)
    if not ranked:
        raise CommandError(
            f"{args.file}: no polling station"
            + (f" for commune {args.commune}" if args.commune else "")
        )
    with database(config) as engine:
        result = calllists.apply_precinct_priorities(engine, args.campaign, args.name, ranked)
    if args.json:
        print(json.dumps(result.to_json(), ensure_ascii=False))
    else:
        print(
            f"list {result.call_list!r}: {result.stations} stations ranked, "
            f"{result.entries_prioritised} entries given a priority; closest races:"
        )
        for item in result.closest:
            print(f"  {item['commune']} {item['station']}: margin {item['margin']:.1%}")
    return 0


def run_refresh(args: argparse.Namespace, config: Config) -> int:
    with database(config) as engine:
        result = calllists.refresh(engine, args.campaign, args.name, date.today())
    return _report(result, args.json)
