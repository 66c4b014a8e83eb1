"""The real Asterisk's dialplan calls phonebank's FastAGI server."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import pytest

from phonebank.agi import FastAgiServer, default_registry
from phonebank.ami import AmiClient
from phonebank.ami.events import UserEvent, VarSet

pytestmark = pytest.mark.asterisk


async def test_dialplan_agi_ping_sets_a_channel_variable(
    asterisk_sandbox: Any, asterisk_config: Any
) -> None:
    info = asterisk_sandbox.info
    client = AmiClient(
        host=info.ami_host, port=info.ami_port, username=info.ami_username, secret=info.ami_secret
    )
    await client.connect()
    agi_port = asterisk_config.asterisk.agi_port
    try:
        async with FastAgiServer(default_registry(), port=agi_port):
            channel_id = f"agi-{uuid.uuid4().hex[:12]}"
            events = client.events(names={"UserEvent", "VarSet"})
            result = await client.originate(
                "Local/ping@phonebank-test-agi",
                context="phonebank-test",
                exten="hold",
                timeout_ms=10_000,
                channel_id=channel_id,
                other_channel_id=f"{channel_id}-2",
            )
            assert result.success, result
            report: UserEvent | None = None
            set_by_agi: list[VarSet] = []
            async with asyncio.timeout(15):
                async for event in events:
                    if event.channels() and event.channels()[0].uniqueid != f"{channel_id}-2":
                        continue
                    if isinstance(event, VarSet) and event.variable == "PHONEBANK_AGI":
                        set_by_agi.append(event)
                    if isinstance(event, UserEvent) and event.user_event == "PhonebankAgiPing":
                        report = event
                        break
            events.close()
            assert report is not None
            assert report.fields["result"] == "pong"
            assert report.fields["status"] == "OK"
            assert report.fields["agistatus"] == "SUCCESS"
            assert [e.value for e in set_by_agi] == ["pong"]  # Asterisk saw the AGI's SET
    finally:
        await client.close()
