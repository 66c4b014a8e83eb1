"""The follow-up workers: the modem emulator on a pty, aiosmtpd on loopback, real databases."""

from __future__ import annotations

import asyncio
import dataclasses
import email
import email.policy
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import Engine, select

from phonebank.config import Config, EmailConfig, PathsConfig, SmsConfig, WebConfig
from phonebank.db.enums import FollowUpChannel
from phonebank.db.models.followup import FollowUpMessage, MessageState, Suppression
from phonebank.devtools.modem_emulator import ModemEmulator
from phonebank.followup import sends
from phonebank.followup.service import STOP_ACK_TEXT
from phonebank.followup.workers import composer_for, followup_workers
from tests.fixtures.followup_world import World, build_world
from tests.fixtures.ports import free_port


class Inbox:
    def __init__(self) -> None:
        self.received: list[EmailMessage] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        assert isinstance(message, EmailMessage)
        self.received.append(message)
        return "250 Message accepted"


@pytest.fixture
def emulator() -> Iterator[ModemEmulator]:
    emu = ModemEmulator()
    try:
        yield emu
    finally:
        emu.close()


@pytest.fixture
def smtp() -> Iterator[tuple[Inbox, int]]:
    inbox = Inbox()
    port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield inbox, port
    finally:
        controller.stop()


def _config(tmp_path: Path, device: str, smtp_port: int) -> Config:
    return dataclasses.replace(
        Config(),
        paths=PathsConfig(data_dir=tmp_path, cache_dir=tmp_path / "cache"),
        web=WebConfig(secret_key="k" * 40),
        sms=SmsConfig(device=device, rate_per_minute=0, send_timeout=2.0),
        email=EmailConfig(
            smtp_port=smtp_port,
            from_address="Campagne <contact@example.org>",
            rate_per_minute=0,
            unsubscribe_base_url="https://pb.example.org/unsubscribe",
        ),
    )


async def _until(check: Callable[[], bool], what: str, within: float = 30.0) -> None:
    # Bounded wait for the workers' threads and tasks; the bound only stops a broken run.
    deadline = time.monotonic() + within
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"still waiting for {what}")
        await asyncio.sleep(0.05)


async def test_segment_sends_go_out_through_modem_and_smtp_then_stop_cleanly(
    migrated_engine: Engine,
    emulator: ModemEmulator,
    smtp: tuple[Inbox, int],
    tmp_path: Path,
) -> None:
    world: World = build_world(migrated_engine)
    inbox, port = smtp
    config = _config(tmp_path, emulator.device, port)
    composer = composer_for(config)
    now = datetime.now(UTC)
    with world.sessions() as session:
        for spec in (
            sends.SendSpec(
                "Municipales",
                FollowUpChannel.SMS,
                ("support=undecided", "city=Paris"),
                "Bonjour {first_name}, meeting ce soir 20h30 !",
            ),
            sends.SendSpec("Municipales", FollowUpChannel.EMAIL, ("city=Paris",), "thanks"),
        ):
            sends.create(session, spec, composer, now)

    async with followup_workers(config, migrated_engine, time.time, scheduler_interval=0.1) as on:
        assert on.email is not None and on.sms_device == emulator.device
        await _until(lambda: len(emulator.messages) == 3, "three texts through the modem")
        await _until(lambda: len(inbox.received) == 3, "three e-mails through SMTP")
        # A STOP coming back while the worker runs opts the number out.
        emulator.inject_incoming("+33611111111", "Stop")
        await _until(lambda: _stopped(world, "+33611111111"), "the STOP to be recorded")
        await _until(lambda: len(emulator.messages) == 4, "the STOP to be acknowledged")

    assert emulator.errors == []
    assert sorted(emulator.messages) == [
        ("+33611111111", "Bonjour Alice, meeting ce soir 20h30 !"),
        ("+33611111111", STOP_ACK_TEXT),
        ("+33644444444", "Bonjour Denis, meeting ce soir 20h30 !"),
        ("+33655555555", "Bonjour Emma, meeting ce soir 20h30 !"),
    ]
    assert sorted(str(m["To"]) for m in inbox.received) == [
        "alice@ex.org",
        "b@ex.org",
        "emma@ex.org",
    ]
    assert all(m["List-Unsubscribe"].startswith("<https://pb.example.org/") for m in inbox.received)
    with world.sessions() as session:
        states = {
            (m.channel, m.state)
            for m in session.scalars(
                select(FollowUpMessage).where(FollowUpMessage.kind == "segment")
            )
        }
    assert states <= {
        (FollowUpChannel.SMS, MessageState.SENT),
        (FollowUpChannel.SMS, MessageState.DELIVERED),
        (FollowUpChannel.EMAIL, MessageState.SENT),
    }
    assert len(states) >= 2
    # Leaving the block waited for the SMS thread: the modem hears nothing more.
    heard = len(emulator.commands)
    await asyncio.sleep(1.5)  # longer than the worker's 1 s poll of the modem
    assert len(emulator.commands) == heard


def _stopped(world: World, number: str) -> bool:
    with world.sessions() as session:
        return (
            session.scalar(
                select(Suppression.id).where(
                    Suppression.channel == FollowUpChannel.SMS, Suppression.recipient == number
                )
            )
            is not None
        )


async def test_a_missing_modem_leaves_the_rest_running(
    migrated_engine: Engine, smtp: tuple[Inbox, int], tmp_path: Path
) -> None:
    _inbox, port = smtp
    config = _config(tmp_path, str(tmp_path / "no-such-modem"), port)
    async with followup_workers(config, migrated_engine, time.time, scheduler_interval=0.1) as on:
        await _until(lambda: bool(on.modem_errors), "the modem error to be noted")
        assert "cannot open modem" in on.modem_errors[0]
        assert on.scheduler.step().errors == []
    off = dataclasses.replace(config, sms=SmsConfig(), email=EmailConfig())
    async with followup_workers(off, migrated_engine, time.time) as on:
        assert (on.sms, on.email, on.sms_device) == (None, None, "")
