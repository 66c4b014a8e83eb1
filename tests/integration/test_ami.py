"""The AMI client against the real Asterisk sandbox: login, a call's events, restart."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest

from phonebank.ami import (
    ATTEMPT_VARIABLE,
    AmiAuthError,
    AmiClient,
    AmiEvent,
    ConnectionState,
    EventSubscription,
)
from phonebank.ami.events import Hangup, Newchannel, VarSet

pytestmark = pytest.mark.asterisk


def make_client(sandbox: Any, **options: Any) -> AmiClient:
    info = sandbox.info
    settings: dict[str, Any] = {
        "host": info.ami_host,
        "port": info.ami_port,
        "username": info.ami_username,
        "secret": info.ami_secret,
        "reconnect_min": 0.2,
        "reconnect_max": 2.0,
    }
    settings.update(options)
    return AmiClient(**settings)


@pytest.fixture
async def client(asterisk_sandbox: Any) -> AsyncIterator[AmiClient]:
    ami = make_client(asterisk_sandbox)
    await ami.connect()
    yield ami
    await ami.close()


async def call_events(
    events: EventSubscription, uniqueids: set[str], within: float = 20.0
) -> list[AmiEvent]:
    """This call's events, in arrival order, until every one of its channels hung up."""
    seen: list[AmiEvent] = []
    hung_up: set[str] = set()
    async with asyncio.timeout(within):
        async for event in events:
            mine = {c.uniqueid for c in event.channels()} & uniqueids
            if not mine:
                continue
            seen.append(event)
            if isinstance(event, Hangup):
                hung_up |= mine
                if hung_up == uniqueids:
                    return seen
    raise AssertionError(f"the event stream ended before the call did: {seen}")


async def place_echo_call(client: AmiClient) -> tuple[str, list[AmiEvent]]:
    attempt = f"it-{uuid.uuid4().hex[:12]}"
    first, second = f"{attempt}-1", f"{attempt}-2"
    events = client.events()
    try:
        result = await client.originate(
            "Local/echo@phonebank-test",
            context="phonebank-test",
            exten="hold",
            variables={ATTEMPT_VARIABLE: attempt},
            timeout_ms=10_000,
            action_id=f"originate-{attempt}",
            channel_id=first,
            other_channel_id=second,
        )
        assert result.success, result
        assert result.action_id == f"originate-{attempt}" and result.uniqueid == first
        return attempt, await call_events(events, {first, second})
    finally:
        events.close()


async def test_login_works_and_asterisk_filters_events(client: AmiClient) -> None:
    assert client.connected
    assert client.server_filters  # the AMI user may add per-session filters
    pong = await client.action({"Action": "Ping"})
    assert pong[0]["Response"] == "Success"


async def test_a_wrong_secret_is_refused(asterisk_sandbox: Any) -> None:
    ami = make_client(asterisk_sandbox, secret="not-the-secret")
    with pytest.raises(AmiAuthError, match="Authentication failed"):
        await ami.connect()
    await ami.close()


async def test_originated_call_events_carry_the_attempt_in_order(client: AmiClient) -> None:
    attempt, events = await place_echo_call(client)
    outbound = [e for e in events if any(c.uniqueid == f"{attempt}-1" for c in e.channels())]
    assert isinstance(outbound[0], Newchannel)
    assert isinstance(outbound[-1], Hangup)
    names = [e.name for e in outbound]
    assert names.index("Newchannel") < names.index("Newstate") < names.index("Hangup")
    # The attempt id is set by the Originate (VarSet), then reported on every later event.
    set_at = next(
        i
        for i, e in enumerate(outbound)
        if isinstance(e, VarSet) and e.variable == ATTEMPT_VARIABLE
    )
    assert outbound[set_at].attempt_id == attempt
    assert all(e.attempt_id == attempt for e in outbound[set_at:])
    # The far half (;2) is linked to the outbound channel from its first event.
    far = [e for e in events if any(c.uniqueid == f"{attempt}-2" for c in e.channels())]
    assert isinstance(far[0], Newchannel) and far[0].channel.linkedid == f"{attempt}-1"
    assert isinstance(far[-1], Hangup)


async def test_reconnects_by_itself_after_asterisk_restarts(
    asterisk_sandbox: Any, client: AmiClient
) -> None:
    states: list[ConnectionState] = []
    back = asyncio.Event()

    def note(state: ConnectionState) -> None:
        states.append(state)
        if state is ConnectionState.CONNECTED:
            back.set()

    client.add_state_listener(note)
    await asyncio.to_thread(asterisk_sandbox.sandbox.restart)
    async with asyncio.timeout(90):
        await back.wait()
    assert ConnectionState.DISCONNECTED in states
    assert client.connected and client.sessions >= 2
    attempt, events = await place_echo_call(client)
    assert any(e.attempt_id == attempt for e in events)  # events flow on the new session
