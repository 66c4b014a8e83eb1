"""Our own process killed mid-campaign (kill -9) and started again, on the real Asterisk.

The demo floor is a live campaign: the sandbox Asterisk, simulated handsets and
voters. The first process is killed while calls ring and talk; Asterisk keeps
running (a kill -9 cleans nothing up). The second process must settle what the
first left in flight, dial no number twice at once, change nothing already
recorded, and dial on.
"""

from __future__ import annotations

import asyncio
import itertools
import signal
import time
from datetime import datetime
from pathlib import Path

import aiohttp
import pytest
from sqlalchemy import create_engine, text

from tests.fixtures.demo import demo_env, running_demo, stop_demo_sandbox

pytestmark = pytest.mark.asterisk

Row = tuple[int, str, str, str | None, datetime | None, datetime | None, datetime | None]


def _attempts(database: Path) -> dict[int, Row]:
    engine = create_engine(f"sqlite:///{database}")
    try:
        with engine.connect() as connection:
            rows = connection.execute(
                text(
                    "SELECT id, engine_id, e164, state, started_at, bridged_at, ended_at "
                    "FROM call_attempts"
                )
            ).all()
    finally:
        engine.dispose()
    return {row[0]: tuple(row) for row in rows}


async def _humans(port: int, within: float, at_least: int) -> None:
    """Wait until the metrics count `at_least` voters put through to a station."""
    deadline = time.monotonic() + within
    async with aiohttp.ClientSession() as session:
        while True:
            try:
                async with session.get(f"http://127.0.0.1:{port}/metrics") as response:
                    body = await response.text()
            except aiohttp.ClientError:
                body = ""
            count = sum(
                float(line.rsplit(" ", 1)[1])
                for line in body.splitlines()
                if line.startswith("phonebank_calls_total{") and 'outcome="human"' in line
            )
            if count >= at_least:
                return
            if time.monotonic() > deadline:
                raise AssertionError(f"fewer than {at_least} people put through:\n{body}")
            await asyncio.sleep(0.5)


def _overlapping_dials(rows: list[Row]) -> list[str]:
    """Numbers with two attempts alive at once ([started, ended] intervals overlapping)."""
    by_number: dict[str, list[tuple[datetime, datetime]]] = {}
    for _id, _engine, e164, _state, started, _bridged, ended in rows:
        if started is not None:
            by_number.setdefault(e164, []).append((started, ended or datetime.max))
    doubled = []
    for number, spans in by_number.items():
        spans.sort()
        if any(later[0] < earlier[1] for earlier, later in itertools.pairwise(spans)):
            doubled.append(number)
    return doubled


async def test_killed_mid_campaign_then_restarted(tmp_path: Path) -> None:
    # Quick heartbeats, so that the dead process is recognised in seconds, not a minute.
    env = demo_env(
        tmp_path,
        PHONEBANK_DIALER_HEARTBEAT_SECONDS="1",
        PHONEBANK_DIALER_DEAD_AFTER_SECONDS="5",
        PHONEBANK_DIALER_RECOVER_SECONDS="1",
    )
    database = tmp_path / "phonebank" / "phonebank.db"
    try:
        with running_demo(tmp_path, env, stop_sandbox=False) as first:
            first.wait_ready(timeout=240)
            await _humans(first.web_port, within=90, at_least=3)
            first.process.send_signal(signal.SIGKILL)
            first.process.wait(30)
        before = _attempts(database)
        dead = {row[1] for row in before.values()}
        in_flight = [row for row in before.values() if row[3] != "ended"]
        assert in_flight, "the kill should catch calls in flight"

        with running_demo(tmp_path, env, stop_sandbox=False) as second:
            second.wait_ready(timeout=120)
            deadline = time.monotonic() + 60
            while True:
                after = _attempts(database)
                left = [r for r in after.values() if r[1] in dead and r[3] != "ended"]
                if not left or time.monotonic() > deadline:
                    break
                await asyncio.sleep(1)
            assert left == [], f"the dead process's calls were not settled: {left}"
            await _humans(second.web_port, within=90, at_least=1)
            second.process.send_signal(signal.SIGINT)
            assert second.process.wait(90) == 0, "\n".join(second.lines)
        after = _attempts(database)
    finally:
        stop_demo_sandbox(env)

    # Nothing recorded before the kill was lost or rewritten: every row is still there,
    # and what it said of the call's start and bridge is unchanged.
    for attempt_id, row in before.items():
        assert attempt_id in after
        assert after[attempt_id][:3] == row[:3]
        assert after[attempt_id][4:6] == row[4:6]
    # The second process dialled on, under a new engine id, and never dialled a number
    # while an earlier call to it was alive.
    assert {row[1] for row in after.values()} - dead
    assert _overlapping_dials(list(after.values())) == []
