"""SIPp on the carrier's side of the real Asterisk: a voter calling back, the trunk."""

from __future__ import annotations

import asyncio
import socket
import uuid
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from phonebank.agi import FastAgiServer, default_registry
from phonebank.agi.optout import register_optout
from phonebank.ami import AmiClient
from phonebank.db.engine import make_engine, session_factory
from phonebank.db.migrate import upgrade
from phonebank.db.models import DoNotCallEntry
from phonebank.telephony.dnc import SqlDncWriter
from tests.fixtures.asterisk import RunningSandbox
from tests.fixtures.ports import free_port
from tests.fixtures.sipp import SIPP_DIR, run_sipp
from tests.fixtures.telephony import user_event, wait_for

pytestmark = pytest.mark.asterisk

CALLER = "0612345678"


async def test_a_voter_calling_back_presses_1_and_lands_on_the_do_not_call_list(
    ami: AmiClient,
    asterisk_sandbox: RunningSandbox,
    asterisk_config: Any,
    sqlite_url: str,
    tmp_path: Path,
) -> None:
    upgrade(sqlite_url)
    engine = make_engine(sqlite_url)
    registry = default_registry()
    register_optout(registry, SqlDncWriter(engine))
    callers = tmp_path / "callers.csv"
    callers.write_text(f"SEQUENTIAL\n{CALLER}\n")
    events = ami.events()
    try:
        async with FastAgiServer(registry, port=asterisk_config.asterisk.agi_port):
            sipp = asyncio.create_task(
                run_sipp(
                    f"127.0.0.1:{asterisk_sandbox.info.sip_port}",
                    "-sf",
                    str(SIPP_DIR / "callback_press_1.xml"),
                    "-inf",
                    str(callers),
                    "-s",
                    "0199000000",
                    "-i",
                    "127.0.0.1",
                    "-p",
                    str(asterisk_config.asterisk.carrier_port),
                    "-mi",
                    "127.0.0.1",
                    "-mp",
                    str(free_port(socket.SOCK_DGRAM)),
                    within=40,
                )
            )
            inbound = await wait_for(events, user_event("PhonebankInbound", caller=CALLER))
            assert inbound.fields["called"] == "0199000000"
            optout = await wait_for(events, user_event("PhonebankOptOut", caller=CALLER))
            assert optout.fields["result"] == "ADDED", optout.fields
            assert optout.fields["status"] == "OK"
            code, out = await sipp
            assert code == 0, out  # Asterisk hung up after the confirmation
        with session_factory(engine)() as session:
            entry = session.scalars(select(DoNotCallEntry)).one()
        assert entry.e164 == "+33612345678" and entry.source == "ivr"
    finally:
        events.close()
        engine.dispose()


async def test_the_trunk_carries_the_campaigns_caller_id(
    ami: AmiClient, asterisk_sandbox: RunningSandbox, asterisk_config: Any, tmp_path: Path
) -> None:
    messages = tmp_path / "sipp-messages.log"
    attempt = f"t-{uuid.uuid4().hex[:10]}"
    events = ami.events()
    try:
        carrier = asyncio.create_task(
            run_sipp(
                "-sn",
                "uas",
                "-i",
                "127.0.0.1",
                "-p",
                str(asterisk_config.asterisk.carrier_port),
                "-trace_msg",
                "-message_file",
                str(messages),
                within=30,
            )
        )
        await asyncio.sleep(0.5)  # sipp binds its port
        result = await ami.originate(
            "Local/0612345678@phonebank-outbound/n",
            context="phonebank-answered",
            exten="s",
            variables={
                "PHONEBANK_ATTEMPT": attempt,
                "PHONEBANK_CALLERID": "0199000042",
                "PHONEBANK_CALLERID_NAME": "Campagne",
                "PHONEBANK_MACHINE": "hangup",
            },
            timeout_ms=10_000,
        )
        assert result.success, result
        amd = await wait_for(events, user_event("PhonebankAmd", attempt=attempt))
        # SIPp sends no audio: whatever AMD makes of silence, the call is settled.
        assert amd.fields["status"] in {"MACHINE", "NOTSURE", "HANGUP"}
        code, out = await carrier
        assert code == 0, out
    finally:
        events.close()
    invite = messages.read_text().split("INVITE sip:", 1)[1].split("\n\n", 1)[0]
    assert invite.startswith("0612345678@")
    from_header = next(line for line in invite.splitlines() if line.startswith("From:"))
    assert "0199000042" in from_header and "Campagne" in from_header
