"""FastAGI server and process AGI against a scripted Asterisk side (the real one: integration)."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import threading
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from phonebank.agi import AgiRegistry, AgiRequest, FastAgiServer, default_registry
from phonebank.resources import resource_dir


def agi_env(request: str, *args: str) -> bytes:
    lines = [
        f"agi_request: {request}",
        "agi_channel: Local/agi@phonebank-test-00000001;2",
        "agi_uniqueid: 1700000000.5",
        "agi_callerid: 0262000000",
        "agi_network: yes",
    ]
    lines += [f"agi_arg_{n}: {value}" for n, value in enumerate(args, start=1)]
    return ("\n".join(lines) + "\n\n").encode()


class FakeAsterisk:
    """The Asterisk end of one FastAGI connection."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer

    @classmethod
    async def call(cls, port: int, request: str, *args: str) -> FakeAsterisk:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(agi_env(request, *args))
        await writer.drain()
        return cls(reader, writer)

    async def command(self) -> str:
        async with asyncio.timeout(5):
            return (await self.reader.readline()).decode()

    async def reply(self, line: str = "200 result=1") -> None:
        self.writer.write(f"{line}\n".encode())
        await self.writer.drain()

    async def closed(self) -> bool:
        async with asyncio.timeout(5):
            return await self.reader.read() == b""

    async def close(self) -> None:
        self.writer.close()
        await self.writer.wait_closed()


@pytest.fixture
async def server() -> AsyncIterator[FastAgiServer]:
    registry = default_registry()

    def echo_args(request: AgiRequest) -> None:
        request.set_variable("ARGS", ",".join(request.args) + "|" + request.params.get("x", ""))
        request.set_variable("AFTER", "1")

    def broken(request: AgiRequest) -> None:
        raise RuntimeError("handler bug")

    registry.register("echo-args", echo_args)
    registry.register("broken", broken)
    async with FastAgiServer(registry, port=0) as running:
        yield running


async def test_ping_sets_the_variable_and_the_status(server: FastAgiServer) -> None:
    asterisk = await FakeAsterisk.call(server.port, f"agi://127.0.0.1:{server.port}/ping")
    assert await asterisk.command() == 'SET VARIABLE "PHONEBANK_AGI" "pong"\n'
    await asterisk.reply()
    assert await asterisk.command() == 'SET VARIABLE "PHONEBANK_AGI_STATUS" "OK"\n'
    await asterisk.reply()
    assert await asterisk.closed()
    await asterisk.close()


async def test_arguments_and_query_parameters(server: FastAgiServer) -> None:
    asterisk = await FakeAsterisk.call(
        server.port, f"agi://127.0.0.1:{server.port}/echo-args?x=7", "a", "b c"
    )
    assert await asterisk.command() == 'SET VARIABLE "ARGS" "a,b c|7"\n'
    await asterisk.close()


async def test_unknown_script_and_failing_handler_report_a_status(server: FastAgiServer) -> None:
    for script, status in (("nope", "UNKNOWN_SCRIPT"), ("broken", "ERROR")):
        asterisk = await FakeAsterisk.call(server.port, f"agi://127.0.0.1:{server.port}/{script}")
        assert await asterisk.command() == f'SET VARIABLE "PHONEBANK_AGI_STATUS" "{status}"\n'
        await asterisk.reply()
        assert await asterisk.closed()
        await asterisk.close()


async def test_hangup_notice_stops_the_handler(server: FastAgiServer) -> None:
    asterisk = await FakeAsterisk.call(server.port, f"agi://127.0.0.1:{server.port}/echo-args")
    assert (await asterisk.command()).startswith('SET VARIABLE "ARGS"')
    # The channel hangs up while the first command runs: Asterisk says so, then answers.
    await asterisk.reply("HANGUP\n200 result=1")
    assert await asterisk.closed()  # no further command: pyst2 raised its hangup error
    await asterisk.close()


async def test_a_blocked_handler_blocks_neither_the_loop_nor_other_calls() -> None:
    release = threading.Event()
    registry = default_registry()

    def slow(request: AgiRequest) -> None:
        release.wait(10)
        request.set_variable("S", "1")

    registry.register("slow", slow)
    async with FastAgiServer(registry, port=0) as server:
        slow = await FakeAsterisk.call(server.port, f"agi://127.0.0.1:{server.port}/slow")
        await asyncio.sleep(0.05)  # the loop runs while the handler blocks
        fast = await FakeAsterisk.call(server.port, f"agi://127.0.0.1:{server.port}/ping")
        assert await fast.command() == 'SET VARIABLE "PHONEBANK_AGI" "pong"\n'
        release.set()
        assert await slow.command() == 'SET VARIABLE "S" "1"\n'
        for asterisk in (slow, fast):
            await asterisk.close()


async def test_close_cuts_a_conversation_that_waits_on_asterisk() -> None:
    registry = AgiRegistry()
    registry.register("wait", lambda request: request.set_variable("W", "1"))
    server = FastAgiServer(registry, port=0)
    await server.start()
    asterisk = await FakeAsterisk.call(server.port, f"agi://127.0.0.1:{server.port}/wait")
    assert await asterisk.command() == 'SET VARIABLE "W" "1"\n'
    await server.close(within=5)  # the worker was blocked reading the answer
    assert await asterisk.closed()
    await asterisk.close()


def test_registry_refuses_bad_and_duplicate_names() -> None:
    registry = default_registry()
    with pytest.raises(ValueError, match="already"):
        registry.register("ping", lambda request: None)
    with pytest.raises(ValueError, match="letters"):
        registry.register("../x", lambda request: None)


def test_process_agi_script_speaks_only_agi_on_stdout() -> None:
    script = resource_dir("agi-scripts") / "phonebank-agi"
    assert script.read_text().startswith("#!/usr/bin/env python3\n")
    stdin = agi_env("phonebank-agi", "ping") + b"200 result=1\n200 result=1\n"
    done = subprocess.run(
        [sys.executable, str(script)],
        input=stdin,
        capture_output=True,
        timeout=60,
        cwd=Path("/"),
        check=False,
    )
    assert done.returncode == 0, done.stderr.decode()
    assert done.stdout.decode() == (
        'SET VARIABLE "PHONEBANK_AGI" "pong"\nSET VARIABLE "PHONEBANK_AGI_STATUS" "OK"\n'
    )
