"""`phonebank sms ...`: send a text, check the modem, read replies, requeue an uncertain send."""

from __future__ import annotations

import argparse
import os
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from phonebank.cli import followup_cmd
from phonebank.cli.dbaccess import checked_engine
from phonebank.cli.errors import CommandError
from phonebank.config import Config
from phonebank.db.engine import session_factory
from phonebank.db.enums import FollowUpChannel
from phonebank.db.models.followup import FollowUpMessage, MessageState
from phonebank.followup import repo
from phonebank.followup.errors import FollowUpError
from phonebank.followup.modem import REGISTRATION, GsmModem
from phonebank.followup.numbers import to_e164
from phonebank.followup.policy import RateLimit
from phonebank.followup.service import SmsWorker, enqueue_sms

DEVICE_ENV = "PHONEBANK_SMS_DEVICE"


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("sms", help="follow-up by SMS through the GSM modem")
    sub = parser.add_subparsers(dest="sms_command", metavar="ACTION")
    sub.required = True

    def device(p: argparse.ArgumentParser) -> None:
        p.add_argument(
            "--device",
            metavar="PATH",
            help=f"modem serial device (default: [sms] device, or ${DEVICE_ENV})",
        )

    send = sub.add_parser("send", help="send one text now (through the queue)")
    send.add_argument("--to", required=True, metavar="NUMBER", help="the number, as written")
    send.add_argument("--text", required=True)
    send.add_argument(
        "--key", help="idempotency key: the same key never sends twice (default: new one)"
    )
    device(send)
    send.set_defaults(handler=run_send)

    status = sub.add_parser("status", help="modem, SIM, network registration, signal, queue")
    device(status)
    status.set_defaults(handler=run_status)

    inbox = sub.add_parser("inbox", help="read the modem's messages (STOP handled), list replies")
    inbox.add_argument("--limit", type=int, default=20)
    device(inbox)
    inbox.set_defaults(handler=run_inbox)

    requeue = sub.add_parser("requeue", help="send again an 'uncertain' or 'failed' message")
    requeue.add_argument("id", type=int)
    requeue.set_defaults(handler=run_requeue)

    followup_cmd.add_commands(sub, FollowUpChannel.SMS)


@contextmanager
def followup_sessions(config: Config) -> Iterator[sessionmaker[Session]]:
    """Sessions on the configured database, which must be at the newest schema."""
    with checked_engine(config) as (engine, _shown):
        yield session_factory(engine)


def _device(args: argparse.Namespace, config: Config) -> str:
    # --device wins, then the config (whose env layer already read PHONEBANK_SMS_DEVICE).
    chosen = args.device or config.sms.device or os.environ.get(DEVICE_ENV, "")
    if not chosen:
        raise CommandError(
            f"no modem device: pass --device PATH, set [sms] device, or ${DEVICE_ENV}"
        )
    return str(chosen)


def _open(args: argparse.Namespace, config: Config) -> GsmModem:
    try:
        modem = GsmModem.open(
            _device(args, config), config.sms.baudrate, send_timeout=config.sms.send_timeout
        )
        modem.initialise(config.sms.pin)
    except FollowUpError as exc:
        raise CommandError(str(exc)) from None
    return modem


def run_send(args: argparse.Namespace, config: Config) -> int:
    try:
        number = to_e164(args.to, config.sms.region)
    except FollowUpError as exc:
        raise CommandError(str(exc)) from None
    key = args.key or f"cli:{uuid.uuid4()}"
    with followup_sessions(config) as sessions:
        with sessions() as session:
            try:
                message, created = enqueue_sms(
                    session, to=number, text=args.text, key=key, now=datetime.now(UTC)
                )
            except FollowUpError as exc:
                raise CommandError(str(exc)) from None
        if not created:
            print(f"key {key!r} already used by message {message.id} ({message.state}); not sent")
            return 0
        modem = _open(args, config)
        worker = SmsWorker(
            modem,
            sessions,
            name=f"cli-{os.getpid()}",
            rate=RateLimit(config.sms.rate_per_minute),
            validity_minutes=config.sms.validity_hours * 60,
            status_reports=config.sms.delivery_reports,
        )
        try:
            while True:
                with sessions() as session:
                    current = session.get(FollowUpMessage, message.id)
                    assert current is not None
                if current.state is not MessageState.QUEUED or current.attempts > 0:
                    break
                if worker.step(datetime.now(UTC)) is None:
                    time.sleep(1.0)  # rate limit, or older messages first
        finally:
            modem.close()
    print(
        f"message {current.id} to {number}: {current.state} "
        f"({current.parts} part(s), references {current.references})"
    )
    if current.last_error:
        print(f"  {current.last_error}")
    return 0 if current.state in (MessageState.SENT, MessageState.QUEUED) else 1


def run_status(args: argparse.Namespace, config: Config) -> int:
    modem = _open(args, config)
    try:
        status = modem.status()
    except FollowUpError as exc:
        raise CommandError(str(exc)) from None
    finally:
        modem.close()
    dbm = f"{status.signal_dbm} dBm" if status.signal_dbm is not None else "unknown"
    print(f"modem:        {status.manufacturer} {status.model} on {modem.name}")
    print(f"SIM:          {status.sim}")
    print(f"network:      {REGISTRATION.get(status.registration, status.registration)}")
    print(f"signal:       {status.signal}/31 ({dbm})")
    with followup_sessions(config) as sessions, sessions() as session:
        counts = repo.counts(session, FollowUpChannel.SMS)
    print("queue:        " + (", ".join(f"{k} {v}" for k, v in sorted(counts.items())) or "empty"))
    if counts.get(MessageState.UNCERTAIN.value):
        print("  uncertain messages need a decision: `phonebank sms requeue ID` to send again")
    return 0 if status.registered and status.sim == "READY" else 1


def run_inbox(args: argparse.Namespace, config: Config) -> int:
    with followup_sessions(config) as sessions:
        modem = _open(args, config)
        try:
            worker = SmsWorker(modem, sessions, name=f"cli-{os.getpid()}")
            handled = worker.sweep_inbox(datetime.now(UTC))
        except FollowUpError as exc:
            raise CommandError(str(exc)) from None
        finally:
            modem.close()
        print(f"read {len(handled)} new message(s) from the modem")
        with sessions() as session:
            rows = repo.inbox(session, args.limit)
        for row in rows:
            flag = " STOP" if row.is_stop else ""
            who = f" contact {row.contact_id}" if row.contact_id else ""
            print(f"{row.received_at:%Y-%m-%d %H:%M} {row.sender}{who}{flag}: {row.body}")
    return 0


def run_requeue(args: argparse.Namespace, config: Config) -> int:
    with followup_sessions(config) as sessions, sessions() as session:
        if not repo.requeue(session, args.id, datetime.now(UTC)):
            raise CommandError(f"message {args.id} is not uncertain or failed; nothing changed")
    print(f"message {args.id} queued again (parts already accepted are not resent)")
    return 0
