"""`phonebank up --demo` as a user runs it: real sandbox, real web service, Ctrl-C."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import aiohttp
import pytest

from tests.fixtures.ports import free_port

pytestmark = pytest.mark.asterisk

READY = "Press Ctrl-C to stop."


class Demo:
    def __init__(self, process: subprocess.Popen[str], web_port: int, data_dir: Path) -> None:
        self.process = process
        self.web_port = web_port
        self.data_dir = data_dir
        self.lines: list[str] = []
        self._ready = threading.Event()
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.append(line.rstrip("\n"))
            if READY in line:
                self._ready.set()

    def wait_ready(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while not self._ready.wait(0.5):
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.reader.join(5)
                raise AssertionError("demo did not come up:\n" + "\n".join(self.lines))

    def logins(self) -> dict[str, str]:
        found = {}
        for line in self.lines:
            match = re.match(r"\s+(admin|supervisor|volunteer)\s+(\S+)\s+(\S+)$", line)
            if match:
                found[match.group(2)] = match.group(3)
        return found


@pytest.fixture
def demo(tmp_path: Path) -> Iterator[Demo]:
    web_port = free_port()
    env = {
        **os.environ,
        "XDG_DATA_HOME": str(tmp_path),
        "PHONEBANK_WEB_PORT": str(web_port),
        "PHONEBANK_ASTERISK_AMI_PORT": str(free_port()),
        "PHONEBANK_ASTERISK_SIP_PORT": str(free_port(socket.SOCK_DGRAM)),
        "PHONEBANK_ASTERISK_CARRIER_PORT": str(free_port(socket.SOCK_DGRAM)),
        "PHONEBANK_ASTERISK_AGI_PORT": str(free_port()),
        "PHONEBANK_ASTERISK_RTP_START": "22000",
        "PHONEBANK_ASTERISK_RTP_END": "22999",
    }
    env.pop("PHONEBANK_DATABASE_URL", None)
    env.pop("PHONEBANK_CONFIG", None)
    process = subprocess.Popen(
        [sys.executable, "-m", "phonebank", "up", "--demo"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    running = Demo(process, web_port, tmp_path / "phonebank")
    try:
        yield running
    finally:
        if process.poll() is None:
            # A failed test still stops the demo the way a user would, so that the
            # sandbox it started goes too; SIGKILL only if that does not work.
            process.send_signal(signal.SIGINT)
            try:
                process.wait(60)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(30)
        # Whatever happened above, leave no Asterisk of this test running.
        subprocess.run(
            [sys.executable, "-m", "phonebank", "asterisk", "sandbox", "stop"],
            env=env,
            capture_output=True,
            timeout=60,
            check=False,
        )
        running.reader.join(10)
        assert process.stdout is not None
        process.stdout.close()


def _instance_processes(data_dir: Path) -> list[str]:
    """Asterisk processes started for this data_dir (its instance key is in the command line)."""
    state = (data_dir / "asterisk" / "sandbox.json").read_text()
    conf = re.search(r'"conf":\s*"([^"]+)"', state)
    assert conf, state
    out = subprocess.run(["pgrep", "-af", "asterisk"], capture_output=True, text=True).stdout
    return [line for line in out.splitlines() if conf.group(1) in line]


async def _wait_connected(session: aiohttp.ClientSession, url: str) -> dict[str, object]:
    deadline = time.monotonic() + 30
    while True:
        async with session.get(url) as response:
            assert response.status == 200
            body: dict[str, object] = await response.json()
        if body["asterisk"] == "connected" or time.monotonic() > deadline:
            return body
        await asyncio.sleep(0.2)


async def _wait_metric(
    session: aiohttp.ClientSession, url: str, labels: str, within: float
) -> float:
    """The value of the first phonebank_calls_total sample with `labels`, once above 0."""
    deadline = time.monotonic() + within
    while True:
        async with session.get(url) as response:
            text = await response.text()
        for line in text.splitlines():
            if line.startswith("phonebank_calls_total{") and labels in line:
                value = float(line.rsplit(" ", 1)[1])
                if value > 0:
                    return value
        if time.monotonic() > deadline:
            raise AssertionError(f"no call {labels} within {within} s:\n{text}")
        await asyncio.sleep(1)


async def test_demo_serves_logs_in_and_stops_cleanly(demo: Demo) -> None:
    demo.wait_ready(timeout=240)
    base = f"http://127.0.0.1:{demo.web_port}"
    logins = demo.logins()
    assert set(logins) == {"admin", "supervisor", "volunteer"}
    assert len(_instance_processes(demo.data_dir)) == 1

    # unsafe=True: aiohttp keeps no cookies from bare IP addresses otherwise (browsers do).
    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as session:
        health = await _wait_connected(session, f"{base}/healthz")
        assert health == health | {"status": "ok", "database": "ok", "asterisk": "connected"}

        async with session.get(f"{base}/metrics") as scrape:
            assert scrape.status == 200
            assert "phonebank_ami_connected 1.0" in await scrape.text()
        # The demo floor works on its own: simulated voters are put through to the
        # simulated handsets.
        bridged = await _wait_metric(session, f"{base}/metrics", 'outcome="human"', within=90)
        assert bridged >= 1

        async with session.get(f"{base}/login") as page:
            token = re.search(r'name="csrf_token" value="([^"]+)"', await page.text())
        assert token
        form = {"username": "volunteer", "password": logins["volunteer"], "csrf_token": token[1]}
        async with session.post(f"{base}/login", data=form) as home:
            assert home.status == 200
            assert str(home.url).endswith("/")
            text = await home.text()
        # The demo accounts speak French.
        assert "connectée" in text
        assert "Bénévole Démo · bénévole" in text

    demo.process.send_signal(signal.SIGINT)
    assert demo.process.wait(60) == 0, "\n".join(demo.lines)
    assert "Stopped; nothing left running." in demo.lines[-1]
    assert _instance_processes(demo.data_dir) == []
    with socket.socket() as probe:
        assert probe.connect_ex(("127.0.0.1", demo.web_port)) != 0
