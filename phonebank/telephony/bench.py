"""`phonebank bench telephony`: the engine placing real calls on a throwaway sandbox Asterisk.

Fifteen simulated handsets are lifted; the dialer engine (progressive pacing, one
line per ready station) calls numbers of the dialplan's simulated network — people,
answering machines, busy, never answering, not a number — through `AmiTelephony`.
The bench plays the volunteers: a voter is hung up after a few seconds of talk, the
screen says "ready" after a short wrap-up.

Measured from Asterisk's own event timestamps (manager.conf `timestampevents`):
connect latency from `PhonebankAmd` HUMAN to the voter's `ConfbridgeJoin` into the
station's bridge; AMD verdicts against what the number really was; abandoned calls;
numbers dialled more than once (each number is used once, so a second `;1`
outbound channel for it is a double dial); calls without an outcome.
The AMI load run is `bench_load`.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import random
import socket
import tempfile
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from phonebank.ami import AmiClient, AmiError, AmiEvent
from phonebank.asterisk.render import PROMPTS_SUBDIR
from phonebank.asterisk.sandbox import Sandbox, SandboxInfo
from phonebank.config import Config, PathsConfig
from phonebank.db.enums import DialMode
from phonebank.dialer.engine import DialerEngine, PlannedCall
from phonebank.dialer.floor import CampaignSettings
from phonebank.dialer.pacing import ProgressivePolicy
from phonebank.dialer.telephony import EventKind, TelephonyEvent
from phonebank.telephony.adapter import TELEPHONY_EVENTS, AmiTelephony
from phonebank.telephony.handsets import lift_handset
from phonebank.telephony.originate import CallSettings
from phonebank.telephony.prompts import generate_prompts

Progress = Callable[[str], None]

STATIONS = tuple(str(8001 + i) for i in range(15))
# Shares of the simulated voters, by the number's first two digits (docs/telephony.md).
MIX = {"01": 0.5, "02": 0.2, "03": 0.1, "04": 0.1, "05": 0.1}
FINAL = frozenset(
    {
        EventKind.ANSWERED_MACHINE,
        EventKind.BUSY,
        EventKind.NO_ANSWER,
        EventKind.INVALID,
        EventKind.FAILED,
        EventKind.ABANDONED,
        EventKind.HUNG_UP,
        EventKind.LOST,
    }
)


@dataclass(frozen=True)
class FloorPlan:
    calls: int
    talk: tuple[float, float] = (4.0, 8.0)  # seconds a voter stays on, uniform
    wrap: tuple[float, float] = (0.3, 1.0)
    ring_seconds: int = 3  # a number that never answers rings this long
    within: float = 240.0
    seed: int = 1


QUICK = FloorPlan(calls=45)
FULL = FloorPlan(calls=300, within=900.0)


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile (0 for no values)."""
    if not values:
        return 0.0
    ordered = sorted(values)
    rank = max(1, min(len(ordered), round(q / 100 * len(ordered) + 0.5)))
    return ordered[rank - 1]


def numbers_for(plan: FloorPlan) -> list[str]:
    """One unique ten-digit number per call, classes in MIX proportions, shuffled."""
    rng = random.Random(plan.seed)
    prefixes = [p for p, share in MIX.items() for _ in range(round(share * 100))]
    return [f"{rng.choice(prefixes)}{i + 1:08d}" for i in range(plan.calls)]


def amd_correct(number: str, status: str) -> bool | None:
    """Did AMD get this simulated voter right? None: not a person or a machine."""
    if number.startswith("01"):
        return status in {"HUMAN", "NOTSURE"}
    if number.startswith("02"):
        return status == "MACHINE"
    return None


@dataclass
class Observed:
    """What Asterisk itself reported, read from a subscription beside the adapter's."""

    verdicts: dict[str, tuple[str, float, str]] = field(default_factory=dict)  # att -> st, ts, ch
    joined: dict[str, float] = field(default_factory=dict)  # channel -> ConfbridgeJoin ts
    outbound: Counter[str] = field(default_factory=Counter)  # number -> ;1 channels created

    def see(self, event: AmiEvent) -> None:
        f = event.fields
        stamp = float(f.get("timestamp", "0") or 0)
        channel = f.get("channel", "").splitlines()[0] if f.get("channel") else ""
        if event.name == "UserEvent" and f.get("userevent") == "PhonebankAmd":
            self.verdicts[f.get("attempt", "")] = (f.get("status", ""), stamp, channel)
        elif event.name == "ConfbridgeJoin":
            self.joined.setdefault(channel, stamp)
        elif event.name == "Newchannel" and channel.endswith(";1"):
            number, _, rest = channel.removeprefix("Local/").partition("@")
            if rest.startswith("phonebank-outbound-"):
                self.outbound[number] += 1


def free_port(kind: int = socket.SOCK_STREAM) -> int:
    with socket.socket(socket.AF_INET, kind) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@contextlib.contextmanager
def throwaway_sandbox(config: Config, progress: Progress) -> Iterator[SandboxInfo]:
    """A sandbox Asterisk of the bench's own (temporary folder, free ports), removed after."""
    with tempfile.TemporaryDirectory(prefix="phonebank-bench-") as tmp:
        own = dataclasses.replace(
            config,
            paths=PathsConfig(data_dir=Path(tmp), cache_dir=config.paths.cache_dir),
            asterisk=dataclasses.replace(
                config.asterisk,
                ami_port=free_port(),
                sip_port=free_port(socket.SOCK_DGRAM),
                carrier_port=free_port(socket.SOCK_DGRAM),
                agi_port=free_port(),
                ami_secret="",
                dahdi_fxs_ports=0,
            ),
        )
        sandbox = Sandbox(own, progress)
        try:
            info = sandbox.start()
            generate_prompts(Path(info.instance_dir) / "lib" / PROMPTS_SUBDIR)
            yield info
        finally:
            sandbox.remove()


def client_for(info: SandboxInfo, **options: Any) -> AmiClient:
    return AmiClient(
        host=info.ami_host,
        port=info.ami_port,
        username=info.ami_username,
        secret=info.ami_secret,
        **options,
    )


class _Floor:
    def __init__(self, ami: AmiClient, plan: FloorPlan) -> None:
        self.ami, self.plan = ami, plan
        self.rng = random.Random(plan.seed)
        numbers = numbers_for(plan)
        self.numbers = {f"bench-{i}": n for i, n in enumerate(numbers)}
        self._queue = list(self.numbers.items())
        self.telephony = AmiTelephony(
            ami,
            CallSettings(caller_id="0199000000", trunk="sim", ring_seconds=plan.ring_seconds),
            stations=STATIONS,
        )
        self.engine = DialerEngine(
            settings=CampaignSettings(mode=DialMode.PROGRESSIVE, ring_timeout=plan.ring_seconds),
            policy=ProgressivePolicy(),
            telephony=self.telephony,
            next_call=self._next,
        )
        self.telephony.set_listener(self._on_event)
        self.events: list[TelephonyEvent] = []
        self.ended: set[str] = set()
        self._tasks: set[asyncio.Task[None]] = set()

    def _next(self, now: float) -> PlannedCall | None:
        if not self._queue:
            return None
        attempt, number = self._queue.pop(0)
        return PlannedCall(attempt, number)

    def _on_event(self, event: TelephonyEvent) -> None:
        self.events.append(event)
        self.engine.handle(event)
        if event.kind in FINAL and event.attempt_id is not None:
            self.ended.add(event.attempt_id)
        if event.kind is EventKind.BRIDGED and event.attempt_id is not None:
            number = self.numbers[event.attempt_id]
            self._later(self.rng.uniform(*self.plan.talk), lambda: self._hang_up(number))
        if event.kind is EventKind.HUNG_UP and event.station is not None:
            station = event.station
            self._later(self.rng.uniform(*self.plan.wrap), lambda: self._ready(station))

    async def _hang_up(self, number: str) -> None:
        with contextlib.suppress(AmiError):
            await self.ami.action({"Action": "Hangup", "Channel": f"/^Local/{number}@phonebank-/"})

    async def _ready(self, station: str) -> None:
        self.telephony.station_mode(station, True, time.monotonic())

    def _later(self, delay: float, work: Callable[[], Awaitable[None]]) -> None:
        async def run() -> None:
            await asyncio.sleep(delay)
            await work()

        task = asyncio.create_task(run())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def run(self) -> float:
        await self.telephony.start()
        for station in STATIONS:
            # A handset off the hook for the whole run.
            await lift_handset(self.ami, station, 7200)
        started = time.monotonic()
        async with asyncio.timeout(self.plan.within):
            while self._queue or not self.ended >= set(self.numbers):
                self.engine.tick(time.monotonic())
                await asyncio.sleep(0.05)
        return time.monotonic() - started

    async def stop(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        await self.telephony.close()
        with contextlib.suppress(AmiError):
            await self.ami.action({"Action": "Hangup", "Channel": "/^Local/80[0-9][0-9]@sim-/"})


async def _observe(ami: AmiClient, observed: Observed) -> None:
    async for event in ami.events(names={"UserEvent", "ConfbridgeJoin", "Newchannel"}):
        observed.see(event)


async def run_floor(info: SandboxInfo, plan: FloorPlan, progress: Progress) -> dict[str, Any]:
    ami = client_for(info, event_names=TELEPHONY_EVENTS)
    await ami.connect()
    observed = Observed()
    watcher = asyncio.create_task(_observe(ami, observed))
    floor = _Floor(ami, plan)
    try:
        progress(f"{len(STATIONS)} stations, {plan.calls} calls")
        seconds = await floor.run()
        await asyncio.sleep(1.0)  # late events: a second Originate would show by now
    finally:
        await floor.stop()
        watcher.cancel()
        await ami.close()
    return floor_figures(floor.numbers, floor.events, observed, floor.telephony, seconds)


def floor_figures(
    numbers: dict[str, str],
    events: list[TelephonyEvent],
    observed: Observed,
    telephony: AmiTelephony,
    seconds: float,
) -> dict[str, Any]:
    latencies = [
        (observed.joined[channel] - stamp) * 1000
        for attempt, (status, stamp, channel) in observed.verdicts.items()
        if attempt in numbers and status in {"HUMAN", "NOTSURE"} and channel in observed.joined
    ]
    judged = [
        amd_correct(numbers[attempt], status)
        for attempt, (status, _, _) in observed.verdicts.items()
        if attempt in numbers
    ]
    verdicts = [j for j in judged if j is not None]
    ended = {e.attempt_id for e in events if e.kind in FINAL}
    lost = sum(1 for e in events if e.kind is EventKind.LOST) + len(set(numbers) - ended)
    doubled = sum(count - 1 for count in observed.outbound.values() if count > 1)
    doubled += max(0, telephony.originates_sent - len(numbers))
    return {
        "calls": len(numbers),
        "seconds": round(seconds, 1),
        "connect_latency_ms": {
            "p50": round(percentile(latencies, 50), 1),
            "p99": round(percentile(latencies, 99), 1),
            "max": round(max(latencies, default=0.0), 1),
            "samples": len(latencies),
        },
        "amd": {"correct": sum(verdicts), "total": len(verdicts)},
        "abandoned": sum(1 for e in events if e.kind is EventKind.ABANDONED),
        "double_dials": doubled,
        "lost_outcomes": lost,
        "outcomes": dict(Counter(e.kind.value for e in events if e.kind in FINAL)),
    }
