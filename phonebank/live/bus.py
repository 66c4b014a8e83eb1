"""The in-process bus between the dialer runner and the screens.

The runner publishes what happens at each station (a voter put through, the call
over); volunteer screens and the supervisor's wallboard subscribe. Before that it
publishes `CallAnswered` (a person answered, a station is about to be named): it
goes to no station but to watchers, so the screens' side can read the contact's
card while the bridge is being made. The other way,
screens report a station ready or paused, and the runner listens.

Publishing never blocks and never raises: the runner calls it from the AMI event
path, which must not wait for a slow browser. Each subscriber has a bounded queue;
one that falls behind loses its oldest messages, and `current_call` lets a screen
that reconnects catch up with the call in progress.
"""

from __future__ import annotations

import asyncio
import logging
from collections import defaultdict
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from enum import StrEnum

log = logging.getLogger(__name__)

ANY_STATION = "*"
QUEUE_SIZE = 64


@dataclass(frozen=True, slots=True)
class CallPop:
    """A voter was put through to `station`: the screen shows who it is."""

    station: str  # the station's number, as on the handset
    attempt_id: int  # call_attempts.id
    campaign_id: int
    contact_id: int
    phone_id: int | None
    e164: str
    at: float  # the bridge, on the runner's clock (seconds since the epoch)


@dataclass(frozen=True, slots=True)
class CallAnswered:
    """A person answered `attempt_id` (AMD said human): a bridge to a station follows.

    Published 20 ms to a second before its `CallPop`, so the contact can be read
    in advance; no station is known yet, so only watchers hear it.
    """

    attempt_id: int
    campaign_id: int
    contact_id: int
    phone_id: int | None
    e164: str
    at: float  # the answer, on the runner's clock (seconds since the epoch)


@dataclass(frozen=True, slots=True)
class CallEnded:
    """The voter or the volunteer hung up: the station is in wrap-up."""

    station: str
    attempt_id: int
    at: float


class StationMode(StrEnum):
    READY = "ready"
    PAUSED = "paused"


@dataclass(frozen=True, slots=True)
class StationReport:
    """A screen (or a handset code) says the station takes calls again, or not."""

    station: str
    mode: StationMode
    at: float
    user_id: int | None = None


Message = CallPop | CallEnded
Published = CallAnswered | CallPop | CallEnded
ReportListener = Callable[[StationReport], None]
# Called in `publish`, on the publisher's thread: it must only note or schedule work.
Watcher = Callable[[Published], None]


@dataclass(eq=False)  # identity: one subscription per open screen
class Subscription:
    """Messages for one station (or every station); iterate, then `close()`."""

    station: str
    _queue: asyncio.Queue[Message] = field(
        default_factory=lambda: asyncio.Queue(maxsize=QUEUE_SIZE)
    )
    _bus: LiveBus | None = None

    def _offer(self, message: Message) -> None:
        if self._queue.full():
            self._queue.get_nowait()  # a stalled screen loses the oldest, not the newest
        self._queue.put_nowait(message)

    async def get(self) -> Message:
        return await self._queue.get()

    def pending(self) -> int:
        return self._queue.qsize()

    def close(self) -> None:
        if self._bus is not None:
            self._bus._drop(self)
            self._bus = None

    def __aiter__(self) -> AsyncIterator[Message]:
        return self._iterate()

    async def _iterate(self) -> AsyncIterator[Message]:
        while True:
            yield await self._queue.get()


class LiveBus:
    """One per process; created in the composition root and passed to both sides."""

    def __init__(self) -> None:
        self._subscribers: defaultdict[str, set[Subscription]] = defaultdict(set)
        self._calls: dict[str, CallPop] = {}
        self._listeners: list[ReportListener] = []
        self._watchers: list[Watcher] = []

    # Runner → screens
    def publish(self, message: Published) -> None:
        self._tell_watchers(message)
        if isinstance(message, CallAnswered):
            return  # no station yet: nothing to deliver to a screen
        if isinstance(message, CallPop):
            self._calls[message.station] = message
        elif self._calls.get(message.station, None) is not None and (
            self._calls[message.station].attempt_id == message.attempt_id
        ):
            del self._calls[message.station]
        for key in (message.station, ANY_STATION):
            for subscription in tuple(self._subscribers.get(key, ())):
                subscription._offer(message)

    def watch(self, watcher: Watcher) -> Callable[[], None]:
        """Every published message, before it is delivered; returns the way to stop."""
        self._watchers.append(watcher)
        return lambda: self._watchers.remove(watcher)

    def _tell_watchers(self, message: Published) -> None:
        for watcher in tuple(self._watchers):
            try:
                watcher(message)
            except Exception:  # publishing never raises into the runner's event path
                log.exception("bus watcher failed on %s", type(message).__name__)

    def current_call(self, station: str) -> CallPop | None:
        """The call `station` is on, if any (for a screen that just connected)."""
        return self._calls.get(station)

    def subscribe(self, station: str) -> Subscription:
        """Messages for `station`, or for every station with `ANY_STATION`."""
        subscription = Subscription(station, _bus=self)
        self._subscribers[station].add(subscription)
        return subscription

    def subscribers(self, station: str) -> int:
        return len(self._subscribers.get(station, ()))

    def _drop(self, subscription: Subscription) -> None:
        subscribers = self._subscribers.get(subscription.station)
        if subscribers is not None:
            subscribers.discard(subscription)
            if not subscribers:
                del self._subscribers[subscription.station]

    # Screens → runner
    def on_report(self, listener: ReportListener) -> Callable[[], None]:
        self._listeners.append(listener)
        return lambda: self._listeners.remove(listener)

    def report(self, report: StationReport) -> None:
        for listener in tuple(self._listeners):
            try:
                listener(report)
            except Exception:  # a broken listener must not break the screen's request
                log.exception("station report listener failed for %s", report.station)
