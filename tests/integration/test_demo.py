"""`phonebank up --demo` as a user runs it: real sandbox, real web service, Ctrl-C."""

from __future__ import annotations

import asyncio
import re
import signal
import socket
import time
from collections.abc import Iterator
from pathlib import Path

import aiohttp
import pytest

from tests.fixtures.demo import Demo, demo_env, instance_processes, running_demo

pytestmark = pytest.mark.asterisk


@pytest.fixture
def demo(tmp_path: Path) -> Iterator[Demo]:
    with running_demo(tmp_path, demo_env(tmp_path)) as running:
        yield running


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
    assert len(instance_processes(demo.data_dir)) == 1

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

    # The supervisor's wallboard shows the live floor.
    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as session:
        async with session.get(f"{base}/login?with=account") as page:
            token = re.search(r'name="csrf_token" value="([^"]+)"', await page.text())
        assert token
        form = {
            "username": "supervisor",
            "password": logins["supervisor"],
            "csrf_token": token[1],
        }
        async with session.post(f"{base}/login", data=form) as home:
            assert home.status == 200
        async with session.get(f"{base}/supervisor") as wallboard:
            assert wallboard.status == 200
        async with session.get(f"{base}/supervisor/state") as state:
            assert state.status == 200
            floor = await state.json()
        assert len(floor["stations"]) == 15
        assert floor["campaigns"] and floor["dialer"]

    demo.process.send_signal(signal.SIGINT)
    assert demo.process.wait(60) == 0, "\n".join(demo.lines)
    assert "Stopped; nothing left running." in demo.lines[-1]
    assert instance_processes(demo.data_dir) == []
    with socket.socket() as probe:
        assert probe.connect_ex(("127.0.0.1", demo.web_port)) != 0
