"""`phonebank email send`: render a template, queue it, send it through SMTP now."""

from __future__ import annotations

import argparse
import asyncio
import os
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from phonebank.cli import followup_cmd
from phonebank.cli.errors import CommandError
from phonebank.cli.sms import followup_sessions
from phonebank.config import Config
from phonebank.db.enums import FollowUpChannel
from phonebank.db.models.followup import FollowUpMessage, MessageState
from phonebank.followup.email_service import EmailWorker, enqueue_email
from phonebank.followup.errors import FollowUpError
from phonebank.followup.mailer import Templates
from phonebank.followup.policy import RateLimit
from phonebank.followup.workers import mailer_for, unsubscribing_for


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("email", help="follow-up by e-mail (SMTP)")
    sub = parser.add_subparsers(dest="email_command", metavar="ACTION")
    sub.required = True
    send = sub.add_parser("send", help="send one templated e-mail now (through the queue)")
    send.add_argument("--to", required=True, metavar="ADDR")
    send.add_argument("--template", required=True, metavar="NAME", help="e.g. thanks")
    send.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="FIELD=VALUE",
        help="a merge field (repeat); e.g. --set first_name=Élodie",
    )
    send.add_argument("--key", help="idempotency key: the same key never sends twice")
    send.set_defaults(handler=run_send)

    followup_cmd.add_commands(sub, FollowUpChannel.EMAIL)


def _fields(pairs: list[str]) -> dict[str, str]:
    fields = {"language": "fr", "first_name": "", "campaign": "", "election_date": ""}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not name:
            raise CommandError(f"--set {pair!r}: expected FIELD=VALUE")
        fields[name] = value
    return fields


def run_send(args: argparse.Namespace, config: Config) -> int:
    settings = config.email
    if not settings.from_address:
        raise CommandError("set [email] from_address (or PHONEBANK_EMAIL_FROM_ADDRESS) first")
    templates = Templates(Path(settings.templates_dir) if settings.templates_dir else None)
    unsub = unsubscribing_for(config)
    key = args.key or f"cli:{uuid.uuid4()}"
    now = datetime.now(UTC)
    with followup_sessions(config) as sessions:
        with sessions() as session:
            try:
                message, created = enqueue_email(
                    session,
                    to=args.to,
                    template=args.template,
                    context=_fields(args.set),
                    key=key,
                    now=now,
                    templates=templates,
                    unsubscribing=unsub,
                )
            except FollowUpError as exc:
                raise CommandError(str(exc)) from None
        if not created:
            print(f"key {key!r} already used by message {message.id} ({message.state}); not sent")
            return 0
        mailer = mailer_for(config)
        worker = EmailWorker(
            mailer,
            sessions,
            settings.from_address,
            unsub,
            name=f"cli-{os.getpid()}",
            rate=RateLimit(0),
        )
        # Older queued messages may go first; stop once ours has been tried.
        for _ in range(1000):
            with sessions() as session:
                current = session.get(FollowUpMessage, message.id)
                assert current is not None
            if current.attempts > 0 or asyncio.run(worker.step(datetime.now(UTC))) is None:
                break
        with sessions() as session:
            current = session.get(FollowUpMessage, message.id)
            assert current is not None
    print(f"message {current.id} to {current.recipient}: {current.state}")
    if current.last_error:
        print(f"  {current.last_error}")
    return 0 if current.state is MessageState.SENT else 1
