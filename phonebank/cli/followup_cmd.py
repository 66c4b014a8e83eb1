"""`phonebank sms|email segment / sends / cancel / rules`: sends to a segment and the rules.

The same commands on both channels; `sms segment` takes `--text`, `email
segment` takes `--template`. Messages are only queued here: the running
service's workers send them (`phonebank up`), so the modem stays in one hand.
"""

from __future__ import annotations

import argparse
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from phonebank.cli.dbaccess import checked_engine
from phonebank.cli.errors import CommandError
from phonebank.config import Config
from phonebank.db.engine import session_factory
from phonebank.db.enums import FollowUpChannel
from phonebank.followup import sends
from phonebank.followup.errors import FollowUpError
from phonebank.followup.policy_store import campaign_named, rules_json, save_rules
from phonebank.followup.rules import parse_local, parse_rules
from phonebank.followup.segments import SEGMENT_KEYS
from phonebank.followup.workers import composer_for
from phonebank.lists.targeting import KEYS as TARGET_KEYS


def add_commands(sub: Any, channel: FollowUpChannel) -> None:
    segment = sub.add_parser(
        "segment",
        help="send to a segment of a campaign, now or at a set time",
        description="Queues one message per contact the conditions select (built like a "
        "call list), leaving out opt-outs, refusals and, where the campaign requires it, "
        "contacts without recorded consent. Running it twice queues nobody twice.",
    )
    segment.add_argument("--campaign", required=True)
    segment.add_argument(
        "--where",
        action="append",
        default=[],
        metavar="CONDITION",
        help="KEY=VALUE (all must hold; VALUE may be a comma list); keys: "
        + ", ".join((*TARGET_KEYS, *SEGMENT_KEYS)),
    )
    if channel is FollowUpChannel.SMS:
        segment.add_argument(
            "--text", required=True, help="the text; merge fields like {first_name}, {precinct}"
        )
    else:
        segment.add_argument("--template", required=True, metavar="NAME", help="e.g. thanks")
    segment.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="FIELD=VALUE",
        help="a constant merge field for every recipient (repeat)",
    )
    segment.add_argument(
        "--at",
        metavar="'YYYY-MM-DD HH:MM'",
        help="when, in the campaign's time zone (default: now)",
    )
    segment.add_argument("--key", help="name of this send (default: a hash of its definition)")
    segment.add_argument("--dry-run", action="store_true", help="counts and a sample; no queueing")
    segment.add_argument("--json", action="store_true")
    segment.set_defaults(handler=lambda a, c: run_segment(a, c, channel))

    listing = sub.add_parser("sends", help="list sends to segments (scheduled and past)")
    listing.add_argument("--scheduled", action="store_true", help="only those still to come")
    listing.add_argument("--json", action="store_true")
    listing.set_defaults(handler=lambda a, c: run_list(a, c, channel))

    cancel = sub.add_parser("cancel", help="cancel a send to a segment and its unsent messages")
    cancel.add_argument("id", type=int)
    cancel.set_defaults(handler=run_cancel)

    rules = sub.add_parser(
        "rules",
        help="show or set a campaign's follow-up rules (consent, triggers)",
        description="Without --file, prints the rules as JSON. With --file, checks and stores "
        "them (docs/followup.md, 'Rules and triggers').",
    )
    rules.add_argument("--campaign", required=True)
    rules.add_argument("--file", type=Path, metavar="RULES.json")
    rules.set_defaults(handler=run_rules)


def _constants(pairs: list[str]) -> dict[str, str]:
    out = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not name.strip().isidentifier():
            raise CommandError(f"--set {pair!r}: expected FIELD=VALUE")
        out[name.strip()] = value
    return out


def run_segment(args: argparse.Namespace, config: Config, channel: FollowUpChannel) -> int:
    if not args.where:
        raise CommandError("give at least one --where condition (e.g. --where city=Paris)")
    composer = composer_for(config)
    now = datetime.now(UTC)
    content = args.text if channel is FollowUpChannel.SMS else args.template
    with checked_engine(config) as (engine, _shown), session_factory(engine)() as session:
        try:
            campaign = campaign_named(session, args.campaign)
            at = parse_local(args.at, campaign.time_zone) if args.at else None
            spec = sends.SendSpec(
                campaign.name, channel, tuple(args.where), content, _constants(args.set), at
            )
            preview = sends.prepare(session, spec, composer, now)
            if args.dry_run:
                _print({"dry_run": True, **preview.to_json()}, args.json)
                return 0
            plan, created = sends.create(session, spec, composer, now, args.key)
            report: dict[str, Any] = {"send": plan.id, "created": created}
            if at is not None:
                report |= {"scheduled_at": at.isoformat(), **preview.to_json()}
            else:
                claimed = sends.claim_due(session, now, "cli")
                while claimed is not None and claimed.id != plan.id:
                    # An older send was due too: evaluate it as the scheduler would.
                    sends.expand(session, claimed, composer, now)
                    claimed = sends.claim_due(session, now, "cli")
                if claimed is not None:
                    report |= sends.expand(session, claimed, composer, now).to_json()
                else:
                    report["state"] = "already evaluated"
        except FollowUpError as exc:
            raise CommandError(str(exc)) from None
    _print(report, args.json)
    return 0


def _print(report: dict[str, Any], as_json: bool) -> None:
    if as_json:
        print(json.dumps(report, ensure_ascii=False, default=str))
        return
    for key, value in report.items():
        if key == "sample":
            for item in value:
                print(f"sample to {item['to']}:")
                print("  " + item["message"].replace("\n", "\n  "))
        else:
            print(f"{key.replace('_', ' ')}: {value}")
    if "queued" in report:
        print("the running service sends them (phonebank up); see `sends` for progress")


def run_list(args: argparse.Namespace, config: Config, channel: FollowUpChannel) -> int:
    with checked_engine(config) as (engine, _shown), session_factory(engine)() as session:
        infos = sends.listing(session, channel=channel, scheduled_only=args.scheduled)
        rows = [info.to_json() for info in infos]
    if args.json:
        print(json.dumps(rows, ensure_ascii=False, default=str))
        return 0
    if not rows:
        print("no sends to segments")
    for row in rows:
        print(
            f"#{row['id']} {row['state']:<10} {row['at'][:16]} {row['campaign']}: "
            f"{' '.join(row['where'])} → {row['content'][:40]!r} {row['messages'] or ''}"
        )
        if row["error"]:
            print(f"    {row['error']}")
    return 0


def run_cancel(args: argparse.Namespace, config: Config) -> int:
    with checked_engine(config) as (engine, _shown), session_factory(engine)() as session:
        try:
            withdrawn = sends.cancel(session, args.id, datetime.now(UTC), "cli")
        except FollowUpError as exc:
            raise CommandError(str(exc)) from None
    print(f"send {args.id} cancelled; {withdrawn} message(s) not sent yet withdrawn")
    return 0


def run_rules(args: argparse.Namespace, config: Config) -> int:
    composer = composer_for(config)
    with checked_engine(config) as (engine, _shown), session_factory(engine)() as session:
        try:
            campaign = campaign_named(session, args.campaign)
            if args.file is None:
                print(json.dumps(rules_json(campaign), indent=2, ensure_ascii=False))
                return 0
            try:
                data = json.loads(args.file.read_text(encoding="utf-8"))
            except (OSError, ValueError) as exc:
                raise CommandError(f"{args.file}: {exc}") from None
            rules = parse_rules(data)
            for trigger in rules.triggers:
                try:
                    composer.check(trigger.channel, trigger.content, trigger.fields)
                except FollowUpError as exc:
                    raise CommandError(f"trigger {trigger.id!r}: {exc}") from None
            save_rules(session, campaign, data, datetime.now(UTC))
        except FollowUpError as exc:
            raise CommandError(str(exc)) from None
    print(f"campaign {args.campaign!r}: {len(rules.triggers)} trigger(s) saved")
    return 0
