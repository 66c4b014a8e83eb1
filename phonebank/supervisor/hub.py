"""The wallboard hub: one computation of the floor per second, fanned out to every
connected supervisor.

Each second, if anyone watches, the state is built once (floor.py), serialized
once, and handed to every connection's slot; a connection that is slow to send
simply skips to the newest state. Database figures are read in worker threads on
their own rhythm (tallies every 5 s, lists every 30 s) and never hold up a tick:
a tick uses the latest figures read.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Generic, TypeVar

from sqlalchemy.orm import Session, sessionmaker

from phonebank.live.bus import LiveBus, StationReport
from phonebank.supervisor import figures
from phonebank.supervisor.floor import (
    Abandon,
    CallInfo,
    CallMinute,
    CoachView,
    FloorInputs,
    ListFigures,
    StationInfo,
    Tallies,
    wallboard,
)
from phonebank.supervisor.source import LiveFloor

log = logging.getLogger(__name__)
T = TypeVar("T")
Coaching = Callable[[], Mapping[str, tuple[CoachView, ...]]]


@dataclass(frozen=True)
class DayFigures:
    """What the database says, read every few seconds."""

    shown: tuple[figures.Shown, ...] = ()
    inventory: tuple[StationInfo, ...] = ()
    tallies: Mapping[int, Tallies] = field(default_factory=dict)
    minutes: tuple[CallMinute, ...] = ()
    abandon: Mapping[int, Abandon] = field(default_factory=dict)
    names: Mapping[int, str] = field(default_factory=dict)


class Refresher(Generic[T]):
    """A value read in a worker thread when older than `every` seconds."""

    def __init__(self, read: Callable[[float], T], empty: T, every: float) -> None:
        self._read = read
        self.value = empty
        self.every = every
        self.read_at: float | None = None
        self._task: asyncio.Task[None] | None = None

    def poke(self, now: float) -> asyncio.Task[None] | None:
        """Start a read if the value is stale and none is running; the running read."""
        if self._task is None and (self.read_at is None or now - self.read_at >= self.every):
            self._task = asyncio.create_task(self._refresh(now))
        return self._task

    async def _refresh(self, now: float) -> None:
        try:
            self.value = await asyncio.to_thread(self._read, now)
        except Exception:  # the database may be away for a moment: keep the last figures
            log.exception("wallboard figures could not be read")
        finally:
            self.read_at = now
            self._task = None

    async def ready(self, now: float) -> None:
        task = self.poke(now) if self.read_at is None else None
        if task is not None:
            await asyncio.shield(task)

    async def close(self) -> None:
        if self._task is not None:
            with contextlib.suppress(Exception):
                await self._task


class Slot:
    """One connection's mailbox: the newest state only."""

    def __init__(self, hub: Wallboard) -> None:
        self._hub: Wallboard | None = hub
        self._ready = asyncio.Event()
        self.text = ""

    def put(self, text: str) -> None:
        self.text = text
        self._ready.set()

    async def get(self) -> str:
        await self._ready.wait()
        self._ready.clear()
        return self.text

    def close(self) -> None:
        if self._hub is not None:
            self._hub.slots.discard(self)
            self._hub = None


class Wallboard:
    def __init__(
        self,
        *,
        floor: LiveFloor,
        readers: sessionmaker[Session],
        clock: Callable[[], float],
        bus: LiveBus | None = None,
        coaching: Coaching | None = None,
        period: float = 1.0,
        tallies_every: float = 5.0,
        lists_every: float = 30.0,
    ) -> None:
        self.floor = floor
        self.readers = readers
        self.clock = clock
        self.bus = bus
        self.coaching = coaching
        self.period = period
        self.slots: set[Slot] = set()
        self.text: str | None = None
        self.state: dict[str, Any] = {}
        self.computed_at: float | None = None
        self.seq = 0
        # When each recent state was handed to the connections (the bench reads it).
        self.published: OrderedDict[int, float] = OrderedDict()
        self._users: dict[str, int] = {}  # station -> user id, from the screens' reports
        self.day = Refresher(self._read_day, DayFigures(), tallies_every)
        self.lists: Refresher[Mapping[int, ListFigures]] = Refresher(
            self._read_lists, {}, lists_every
        )
        if bus is not None:
            bus.on_report(self._on_report)

    def _on_report(self, report: StationReport) -> None:
        if report.user_id is not None:
            self._users[report.station] = report.user_id

    # -- database ----------------------------------------------------------------------------

    def _runner_ids(self) -> list[int]:
        return [c.campaign_id for c in self.floor.live()]

    def _read_day(self, now: float) -> DayFigures:
        at = datetime.fromtimestamp(now, UTC)
        with self.readers() as session:
            shown = tuple(figures.shown_campaigns(session, self._runner_ids()))
            ids = [s.meta.campaign_id for s in shown]
            return DayFigures(
                shown=shown,
                inventory=figures.inventory(session),
                tallies=figures.day_tallies(session, shown, at),
                minutes=figures.call_minutes(session, ids, at),
                abandon=figures.abandon_figures(session, ids, at),
                names=figures.user_names(session, self._users.values()),
            )

    def _read_lists(self, now: float) -> Mapping[int, ListFigures]:
        at = datetime.fromtimestamp(now, UTC)
        with self.readers() as session:
            shown = figures.shown_campaigns(session, self._runner_ids())
            return figures.list_figures(session, shown, at)

    # -- the state ---------------------------------------------------------------------------

    def inputs(self, now: float) -> FloorInputs:
        live = self.floor.live()
        day = self.day.value
        numbers = {s.number for s in day.inventory}
        for campaign in live:
            numbers.update(campaign.stations)
        calls = {}
        if self.bus is not None:
            for number in numbers:
                pop = self.bus.current_call(number)
                if pop is not None:
                    calls[number] = CallInfo(pop.campaign_id, pop.attempt_id, pop.at)
        volunteers = {
            station: day.names[uid] for station, uid in self._users.items() if uid in day.names
        }
        return FloorInputs(
            campaigns=tuple(s.meta for s in day.shown),
            live=live,
            # The runners' own figures are the fresher; the database's stand in for
            # campaigns without a runner (or before its first reading).
            abandon={**day.abandon, **self.floor.abandon()},
            inventory=day.inventory,
            handsets=self.floor.handsets(),
            volunteers=volunteers,
            calls=calls,
            coaching=self.coaching() if self.coaching is not None else {},
            tallies=day.tallies,
            minutes=day.minutes,
            lists=self.lists.value,
            dialer=self.floor.attached,
        )

    def compute(self) -> dict[str, Any]:
        """The state now (reads start in the background when stale)."""
        now = self.clock()
        self.day.poke(now)
        self.lists.poke(now)
        self.seq += 1
        state = wallboard(self.inputs(now), now)
        state["seq"] = self.seq
        return state

    def publish(self) -> str:
        """Compute once, hand the same text to every connection."""
        state = self.compute()
        text = json.dumps(state, separators=(",", ":"))
        self.state, self.text, self.computed_at = state, text, self.clock()
        for slot in tuple(self.slots):
            slot.put(text)
        self.published[self.seq] = self.computed_at
        while len(self.published) > 256:
            self.published.popitem(last=False)
        return text

    async def current(self) -> str:
        """The latest state, computed now if none is fresh (a page being opened)."""
        now = self.clock()
        if self.text is None or self.computed_at is None or now - self.computed_at >= self.period:
            await self.day.ready(now)
            await self.lists.ready(now)
            return self.publish()
        return self.text

    def subscribe(self) -> Slot:
        slot = Slot(self)
        self.slots.add(slot)
        if self.text is not None:
            slot.put(self.text)
        return slot

    async def run(self, stop: asyncio.Event) -> None:
        """Tick every `period` while anyone watches, until `stop`."""
        try:
            while not stop.is_set():
                if self.slots:
                    try:
                        self.publish()
                    except Exception:  # one bad tick must not end the wallboard
                        log.exception("wallboard state could not be built")
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), self.period)
        finally:
            await self.day.close()
            await self.lists.close()
