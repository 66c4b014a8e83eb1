"""AmiClient against a fake AMI server on loopback: login, reconnect, no re-sent Originate."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator

import pytest

from phonebank.ami import (
    AmiActionError,
    AmiAuthError,
    AmiClient,
    AmiConnectError,
    AmiDisconnected,
    AmiNotConnected,
    ConnectionState,
)
from phonebank.ami.events import Hangup, Newchannel
from phonebank.config import AsteriskConfig
from tests.fixtures.ami.fake_server import FakeAmi


@pytest.fixture
async def ami() -> AsyncIterator[FakeAmi]:
    async with FakeAmi() as server:
        yield server


def make_client(server: FakeAmi, **options: object) -> AmiClient:
    settings: dict[str, object] = {
        "host": "127.0.0.1",
        "port": server.port,
        "username": "phonebank",
        "secret": "s3cret",
        "reconnect_min": 0.01,
        "reconnect_max": 0.05,
        "random": lambda: 0.5,
    }
    settings.update(options)
    return AmiClient(**settings)  # type: ignore[arg-type]


async def wait_state(client: AmiClient, state: ConnectionState, within: float = 5.0) -> None:
    reached = asyncio.Event()
    remove = client.add_state_listener(lambda new: reached.set() if new is state else None)
    try:
        if client.state is not state:
            async with asyncio.timeout(within):
                await reached.wait()
    finally:
        remove()


def newchannel(uniqueid: str, attempt: str) -> dict[str, str | list[str]]:
    return {
        "Event": "Newchannel",
        "Channel": f"Local/echo@phonebank-test-{uniqueid};1",
        "ChannelState": "0",
        "ChannelStateDesc": "Down",
        "Uniqueid": uniqueid,
        "Linkedid": uniqueid,
        "ChanVariable": [f"PHONEBANK_ATTEMPT={attempt}", "OTHER=x"],
    }


async def test_bad_secret_is_refused_with_a_clear_message(ami: FakeAmi) -> None:
    client = make_client(ami, secret="wrong")
    with pytest.raises(AmiAuthError) as caught:
        await client.connect()
    message = str(caught.value)
    assert f"127.0.0.1:{ami.port}" in message
    assert "'phonebank'" in message and "Authentication failed" in message
    assert not client.connected
    await client.close()


async def test_unreachable_port_says_where() -> None:
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    client = AmiClient(host="127.0.0.1", port=port, username="u", secret="s")
    with pytest.raises(AmiConnectError, match=f"127.0.0.1:{port}"):
        await client.connect()
    await client.close()


async def test_login_installs_event_filters_and_reports_states(ami: FakeAmi) -> None:
    client = make_client(ami)
    seen: list[ConnectionState] = []
    client.add_state_listener(seen.append)
    await client.connect()
    assert client.connected and client.server_filters
    criteria = {str(m["MatchCriteria"]) for m in ami.actions("Filter")}
    assert {"name(Newchannel)", "name(Hangup)", "name(OriginateResponse)"} <= criteria
    await client.close()
    assert seen == [ConnectionState.CONNECTING, ConnectionState.CONNECTED, ConnectionState.CLOSED]
    assert ami.actions("Logoff")


async def test_events_are_typed_filtered_and_carry_the_attempt(ami: FakeAmi) -> None:
    ami.allow_filters = False  # the client must then filter by itself
    client = make_client(ami)
    await client.connect()
    assert not client.server_filters
    events = client.events()
    ami.emit({"Event": "Newexten", "Channel": "X", "Uniqueid": "1"})  # not subscribed
    ami.emit(newchannel("1.1", "att-42"))
    ami.emit(
        {
            "Event": "Hangup",
            "Channel": "X",
            "Uniqueid": "1.1",
            "Cause": "16",
            "Cause-txt": "Normal Clearing",
            "ChanVariable": "PHONEBANK_ATTEMPT=att-42",
        }
    )
    first = await events.get(within=5)
    second = await events.get(within=5)
    assert isinstance(first, Newchannel) and first.attempt_id == "att-42"
    assert first.channel.variables["OTHER"] == "x"
    assert isinstance(second, Hangup) and second.cause == 16 and second.attempt_id == "att-42"
    await client.close()
    assert [e async for e in events] == []  # closing the client ends the iteration


async def test_reconnects_after_the_server_drops_the_connection(ami: FakeAmi) -> None:
    delays: list[float] = []
    client = make_client(ami, random=lambda: delays.append(0.0) or 0.0)
    await client.connect()
    events = client.events(names={"Newchannel"})
    ami.drop_all()
    await wait_state(client, ConnectionState.DISCONNECTED)
    await wait_state(client, ConnectionState.CONNECTED)
    assert client.sessions == 2 and len(ami.connections) == 2
    assert delays  # the injected random source drove the backoff
    ami.emit(newchannel("2.1", "att-7"))
    event = await events.get(within=5)
    assert event.attempt_id == "att-7"
    await client.close()


async def test_originate_is_never_resent_after_a_reconnect(ami: FakeAmi) -> None:
    ami.originate_mode = "silent"  # Asterisk goes away before answering
    client = make_client(ami)
    await client.connect()
    dial = asyncio.create_task(
        client.originate(
            "Local/echo@phonebank-test",
            context="phonebank-test",
            exten="hold",
            variables={"PHONEBANK_ATTEMPT": "att-1"},
            timeout_ms=30_000,
            action_id="attempt-att-1",
        )
    )
    await ami.wait_for(lambda: bool(ami.actions("Originate")))
    ami.drop_all()
    with pytest.raises(AmiDisconnected, match="not re-sent"):
        await dial
    await wait_state(client, ConnectionState.CONNECTED)
    # A full round trip on the new session: anything queued for re-sending would be out by now.
    ami.command_output["core show uptime"] = ["System uptime: 5 seconds"]
    assert await client.command("core show uptime") == "System uptime: 5 seconds"
    assert len(ami.actions("Originate")) == 1
    assert not any(str(m.get("Action")) == "Originate" for m in ami.connections[1].received)
    await client.close()


async def test_originate_while_disconnected_is_not_sent(ami: FakeAmi) -> None:
    client = make_client(ami, reconnect_min=5.0, reconnect_max=5.0)
    await client.connect()
    ami.drop_all()
    await wait_state(client, ConnectionState.DISCONNECTED)
    with pytest.raises(AmiNotConnected, match="was not sent"):
        await client.originate("Local/echo@phonebank-test", context="c", exten="e")
    assert ami.actions("Originate") == []
    await client.close()


async def test_originate_sends_variables_and_returns_the_verdict(ami: FakeAmi) -> None:
    client = make_client(ami)
    await client.connect()
    result = await client.originate(
        "Local/echo@phonebank-test",
        context="phonebank-test",
        exten="hold",
        priority=1,
        variables={"PHONEBANK_ATTEMPT": "att-9", "SIM_RING": "0"},
        timeout_ms=20_000,
        caller_id='"Campaign" <0262000000>',
        action_id="attempt-att-9",
    )
    assert result.success and result.reason == 4 and result.action_id == "attempt-att-9"
    sent = ami.actions("Originate")[0]
    assert sent["Variable"] == ["PHONEBANK_ATTEMPT=att-9", "SIM_RING=0"]
    assert sent["Async"] == "true" and sent["Timeout"] == "20000"
    assert sent["CallerID"] == '"Campaign" <0262000000>'
    await client.close()


async def test_action_errors_raise_with_asterisks_message(ami: FakeAmi) -> None:
    client = make_client(ami)
    await client.connect()
    with pytest.raises(AmiActionError, match="Command not found"):
        await client.command("no such thing")
    pong = await client.action({"Action": "Ping"})
    assert pong[0]["Ping"] == "Pong"
    await client.close()


async def test_a_queued_action_reply_is_a_plain_answer(ami: FakeAmi) -> None:
    # PlayDTMF answers "DTMF successfully queued"; panoramisk alone would wait for an
    # event list (and fail reading it) unless the action says Async: false.
    client = make_client(ami)
    await client.connect()
    try:
        (reply,) = await client.action(
            {"Action": "PlayDTMF", "Channel": "Local/9101@sim", "Digit": "3"}, within=5
        )
        assert reply["Message"] == "DTMF successfully queued"
    finally:
        await client.close()


async def test_a_silent_session_is_dropped_and_replaced(ami: FakeAmi) -> None:
    ami.answer_ping = False
    client = make_client(ami, ping_interval=0.05, action_timeout=0.2)
    await client.connect()
    await ami.wait_for(lambda: len(ami.connections) >= 2)
    ami.answer_ping = True
    await wait_state(client, ConnectionState.CONNECTED)
    assert client.sessions >= 2
    await client.close()


async def test_a_shutdown_event_triggers_a_reconnect(ami: FakeAmi) -> None:
    client = make_client(ami)
    await client.connect()
    ami.emit({"Event": "Shutdown", "Shutdown": "Cleanly", "Restart": "True"})
    await ami.wait_for(lambda: len(ami.connections) == 2)
    await wait_state(client, ConnectionState.CONNECTED)
    assert client.sessions == 2
    await client.close()


async def test_start_keeps_trying_until_asterisk_is_there() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    client = AmiClient(
        host="127.0.0.1",
        port=port,
        username="phonebank",
        secret="s3cret",
        reconnect_min=0.01,
        reconnect_max=0.02,
    )
    await client.start()
    await asyncio.sleep(0.05)
    assert not client.connected
    server = FakeAmi()
    server._server = await asyncio.start_server(server._serve, "127.0.0.1", port)
    try:
        await wait_state(client, ConnectionState.CONNECTED)
    finally:
        await client.close()
        await server.__aexit__(None, None, None)


def test_from_config_needs_a_secret() -> None:
    with pytest.raises(Exception, match="no AMI secret"):
        AmiClient.from_config(AsteriskConfig())
    client = AmiClient.from_config(AsteriskConfig(ami_port=1), secret="x")
    assert client.where == "127.0.0.1:1"
