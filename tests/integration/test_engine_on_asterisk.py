"""The dialer engine placing real calls on the sandbox Asterisk through AmiTelephony.

The voters are the dialplan's simulated network (sim-pstn: 01… a person, 02… a
machine, 03… busy, 04… never answers, 05… not a number), AMD() listens to real
audio, the stations are simulated handsets (`Local/<n>@sim-station`). The test
plays the volunteers: a voter is hung up a moment after being put through, and
the station's screen says "ready" a moment after that.

The fault test kills its own sandbox Asterisk (kill -9) with calls ringing and one
bridged, and starts it again: the client logs in again, the calls in flight come
out LOST, nothing is dialled again.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import time
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path

import pytest

from phonebank.ami import AmiClient, AmiError, AmiEvent
from phonebank.asterisk.render import PROMPTS_SUBDIR
from phonebank.asterisk.sandbox import Sandbox
from phonebank.config import Config
from phonebank.db.enums import DialMode
from phonebank.dialer.engine import DialerEngine, PlannedCall
from phonebank.dialer.floor import CampaignSettings
from phonebank.dialer.pacing import Policy, ProgressivePolicy
from phonebank.dialer.policies import FixedRatioPolicy
from phonebank.dialer.telephony import EventKind, TelephonyEvent
from phonebank.telephony.adapter import AmiTelephony
from phonebank.telephony.originate import CallSettings
from phonebank.telephony.prompts import generate_prompts
from tests.fixtures.asterisk import extra_sandbox_config

pytestmark = pytest.mark.asterisk

E = EventKind
FINAL = {
    E.ANSWERED_MACHINE,
    E.BUSY,
    E.NO_ANSWER,
    E.INVALID,
    E.FAILED,
    E.ABANDONED,
    E.HUNG_UP,
    E.LOST,
}


class Floor:
    """The engine ticking on the loop, the adapter's events, and the volunteers' reactions."""

    def __init__(
        self,
        ami: AmiClient,
        numbers: list[str],
        stations: tuple[str, ...],
        policy: Policy,
        *,
        ring_seconds: int = 4,
        hang_up_after: float | None = 0.5,
    ) -> None:
        self.ami = ami
        self.stations = stations
        self.run_id = uuid.uuid4().hex[:6]
        self.numbers = {f"eoa-{self.run_id}-{i}": n for i, n in enumerate(numbers)}
        self._queue = list(self.numbers.items())
        self.telephony = AmiTelephony(
            ami,
            CallSettings(caller_id="0199000000", trunk="sim", ring_seconds=ring_seconds),
            stations=stations,
        )
        self.engine = DialerEngine(
            settings=CampaignSettings(mode=DialMode.PROGRESSIVE, ring_timeout=ring_seconds),
            policy=policy,
            telephony=self.telephony,
            next_call=self._next_call,
        )
        self.telephony.set_listener(self._on_event)
        self.events: list[TelephonyEvent] = []
        self.hang_up_after = hang_up_after
        self._changed = asyncio.Event()
        self._tasks: set[asyncio.Task[None]] = set()
        self._ticker: asyncio.Task[None] | None = None
        # station -> the call in its bridge, from the events; a second one is a bug.
        self.talking: dict[str, str] = {}
        self.doubled: list[tuple[str, str]] = []

    def _next_call(self, now: float) -> PlannedCall | None:
        if not self._queue:
            return None
        attempt, number = self._queue.pop(0)
        return PlannedCall(attempt, number)

    def _on_event(self, event: TelephonyEvent) -> None:
        self.events.append(event)
        self.engine.handle(event)
        self._changed.set()
        if event.kind is E.BRIDGED and event.station is not None:
            if event.station in self.talking:
                self.doubled.append((event.station, event.attempt_id or ""))
            self.talking[event.station] = event.attempt_id or ""
            if self.hang_up_after is not None:
                attempt = event.attempt_id or ""
                self._later(self.hang_up_after, lambda: self._hang_up_voter(attempt))
        if event.kind in {E.HUNG_UP, E.LOST} and event.station is not None:
            self.talking.pop(event.station, None)
        if event.kind is E.HUNG_UP and event.station is not None:
            station = event.station
            self._later(0.3, lambda: self._ready(station))

    async def _hang_up_voter(self, attempt: str) -> None:
        number = self.numbers[attempt]
        await self.ami.action({"Action": "Hangup", "Channel": f"/^Local/{number}@phonebank-/"})

    async def _ready(self, station: str) -> None:
        # The volunteer's screen: outcome recorded, ready for the next call.
        self.telephony.station_mode(station, True, time.monotonic())

    def _later(self, delay: float, work: Callable[[], Awaitable[None]]) -> None:
        async def run() -> None:
            await asyncio.sleep(delay)
            await work()

        task = asyncio.create_task(run())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def start(self) -> None:
        await self.telephony.start()
        for station in self.stations:
            result = await self.ami.originate(
                f"Local/{station}@sim-station/n", context="phonebank-test", exten="hold"
            )
            assert result.success
        await self.until(lambda: set(self.engine.stations) == set(self.stations))
        self._ticker = asyncio.create_task(self._tick())

    async def _tick(self) -> None:
        while True:
            self.engine.tick(time.monotonic())
            await asyncio.sleep(0.05)

    async def until(self, check: Callable[[], bool], within: float = 40.0) -> None:
        """Wait for `check`, looked at on every event and every 0.1 s (for the link's state)."""
        async with asyncio.timeout(within):
            while not check():
                self._changed.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._changed.wait(), 0.1)

    def settled(self) -> bool:
        ended = {e.attempt_id for e in self.events if e.kind in FINAL}
        return not self._queue and ended >= set(self.numbers)

    def of(self, attempt: str) -> list[tuple[EventKind, str | None]]:
        return [
            (e.kind, e.station)
            for e in self.events
            if e.attempt_id == attempt and e.kind is not E.STATION_KEY
        ]

    async def stop(self) -> None:
        if self._ticker is not None:
            self._ticker.cancel()
        for task in [*self._tasks]:
            task.cancel()
        await self.telephony.close()
        numbers = "|".join(self.numbers.values())
        stations = "|".join(self.stations)
        with contextlib.suppress(AmiError):  # nothing to hang up on a dead link
            await self.ami.action({"Action": "Hangup", "Channel": f"/^Local/({stations})@sim-st/"})
            await self.ami.action({"Action": "Hangup", "Channel": f"/^Local/({numbers})@/"})


def outbound_channels(events: list[AmiEvent]) -> Counter[str]:
    """How many times Asterisk created each number's outbound call (the Originate's ;1)."""
    counts: Counter[str] = Counter()
    for event in events:
        channel = event.fields.get("channel", "")
        if (
            event.name == "Newchannel"
            and channel.endswith(";1")
            and "@phonebank-outbound-" in channel
        ):
            counts[channel.split("@")[0].removeprefix("Local/")] += 1
    return counts


async def collect(ami: AmiClient, into: list[AmiEvent]) -> None:
    async for event in ami.events(names={"Newchannel"}):
        into.append(event)


@pytest.fixture
async def floor_events(ami: AmiClient) -> AsyncIterator[list[AmiEvent]]:
    seen: list[AmiEvent] = []
    task = asyncio.create_task(collect(ami, seen))
    yield seen
    task.cancel()


async def test_the_engine_places_real_calls_and_each_ends_as_its_voter_is(
    ami: AmiClient, floor_events: list[AmiEvent]
) -> None:
    numbers = [
        "0100000101",
        "0200000101",
        "0300000101",
        "0100000102",
        "0500000101",
        "0400000101",
        "0100000103",
    ]
    floor = Floor(ami, numbers, ("7101", "7102"), ProgressivePolicy())
    try:
        await floor.start()
        await floor.until(floor.settled, within=90)
    finally:
        await floor.stop()
    by_number = {floor.numbers[a]: a for a in floor.numbers}
    for number in ("0100000101", "0100000102", "0100000103"):
        [(human, _), (bridged, station), (hung_up, same)] = floor.of(by_number[number])
        assert (human, bridged, hung_up) == (E.ANSWERED_HUMAN, E.BRIDGED, E.HUNG_UP)
        assert station in {"7101", "7102"} and same == station
    assert floor.of(by_number["0200000101"]) == [(E.ANSWERED_MACHINE, None)]
    assert floor.of(by_number["0300000101"]) == [(E.BUSY, None)]
    assert floor.of(by_number["0500000101"]) == [(E.INVALID, None)]
    assert floor.of(by_number["0400000101"]) == [(E.NO_ANSWER, None)]
    # Two people in the bridges at once went to different stations.
    assert floor.doubled == []
    # Each number was dialled once, as Asterisk saw it; the engine holds no line.
    await asyncio.sleep(0.2)
    assert outbound_channels(floor_events) == Counter({n: 1 for n in numbers})
    assert floor.telephony.originates_sent == len(numbers)
    assert floor.engine.in_flight == set() and floor.telephony.in_flight == frozenset()


async def test_a_person_with_no_free_station_is_abandoned(ami: AmiClient) -> None:
    # One station, two lines per station: both people answer, one is put through.
    floor = Floor(
        ami, ["0100000201", "0100000202"], ("7103",), FixedRatioPolicy(2.0), hang_up_after=None
    )
    try:
        await floor.start()
        await floor.until(
            lambda: (
                E.ABANDONED in {e.kind for e in floor.events}
                and E.BRIDGED in {e.kind for e in floor.events}
            )
        )
    finally:
        await floor.stop()
    outcomes = sorted([kind for kind, _ in floor.of(attempt)][-1] for attempt in floor.numbers)
    assert outcomes == sorted([E.ABANDONED, E.BRIDGED])
    assert floor.engine.stats.abandoned == 1


# -- the fault test, on a sandbox of its own ----------------------------------------------------


@pytest.fixture
def own_sandbox(asterisk_config: Config, tmp_path: Path) -> Iterator[Sandbox]:
    """Another Asterisk from the same root (own data_dir and ports): killing it leaves
    the session's sandbox alone."""
    sandbox = Sandbox(extra_sandbox_config(asterisk_config, tmp_path, (24000, 24999)))
    try:
        yield sandbox
    finally:
        sandbox.remove()


async def test_asterisk_killed_mid_call_the_calls_in_flight_are_lost_not_redialled(
    own_sandbox: Sandbox,
) -> None:
    info = await asyncio.to_thread(own_sandbox.start)
    await asyncio.to_thread(generate_prompts, Path(info.instance_dir) / "lib" / PROMPTS_SUBDIR)
    ami = AmiClient(
        host=info.ami_host,
        port=info.ami_port,
        username=info.ami_username,
        secret=info.ami_secret,
        event_names=None,
        reconnect_min=0.2,
        reconnect_max=1.0,
    )
    await ami.connect()
    # Three lines for two stations: a person put through, two lines ringing for ever.
    numbers = ["0100000301", "0400000301", "0400000302"]
    floor = Floor(
        ami, numbers, ("7201", "7202"), FixedRatioPolicy(1.5), ring_seconds=60, hang_up_after=None
    )
    try:
        await floor.start()
        await floor.until(lambda: E.BRIDGED in {e.kind for e in floor.events})
        assert floor.telephony.in_flight == set(floor.numbers)
        sent = floor.telephony.originates_sent
        os.kill(info.pid, signal.SIGKILL)
        await floor.until(lambda: not ami.connected, within=10)
        killed = time.monotonic()
        logins: list[float] = []
        ami.add_state_listener(
            lambda state: logins.append(time.monotonic()) if ami.connected else None
        )
        restarted = await asyncio.to_thread(own_sandbox.start)
        assert restarted.pid != info.pid and not restarted.already_running
        back = time.monotonic()
        # Asterisk is up (start() waited for it): the client is back within 5 s.
        await floor.until(lambda: ami.connected and not floor.telephony.in_flight, within=5)
        print(
            f"\nkill -9 → restarted Asterisk ready {back - killed:.2f} s, "
            f"AMI logged in again {logins[0] - killed:.2f} s, "
            f"calls settled {time.monotonic() - killed:.2f} s"
        )
        await asyncio.sleep(1.0)  # the engine keeps ticking: it must not dial anything again
        listing = await ami.action({"Action": "CoreShowChannels"})
    finally:
        await floor.stop()
        await ami.close()
    by_number = {floor.numbers[a]: a for a in floor.numbers}
    [(_, bridged_to)] = [(k, s) for k, s in floor.of(by_number["0100000301"]) if k is E.BRIDGED]
    assert floor.of(by_number["0100000301"])[-1] == (E.LOST, bridged_to)
    assert floor.of(by_number["0400000301"]) == [(E.LOST, None)]
    assert floor.of(by_number["0400000302"]) == [(E.LOST, None)]
    logged_out = {e.station for e in floor.events if e.kind is E.STATION_LOGGED_OUT}
    assert logged_out == {"7201", "7202"}
    assert floor.telephony.originates_sent == sent == len(numbers)
    assert not [m for m in listing if "phonebank-outbound" in m.get("Channel", "")]
    assert floor.engine.in_flight == set() and floor.engine.stations == {}
