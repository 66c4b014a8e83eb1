"""The runner ↔ screens bus: delivery per station, catch-up, bounded queues, reports."""

from __future__ import annotations

import asyncio

from phonebank.live.bus import (
    ANY_STATION,
    QUEUE_SIZE,
    CallAnswered,
    CallEnded,
    CallPop,
    LiveBus,
    Published,
    StationMode,
    StationReport,
)


def _pop(station: str = "101", attempt: int = 1) -> CallPop:
    return CallPop(station, attempt, 1, 7, 3, "+33612345678", 1000.0)


async def test_a_station_gets_its_own_calls_and_the_wallboard_gets_all() -> None:
    bus = LiveBus()
    mine, other, wall = bus.subscribe("101"), bus.subscribe("102"), bus.subscribe(ANY_STATION)
    bus.publish(_pop("101"))
    assert await asyncio.wait_for(mine.get(), 1) == _pop("101")
    assert other.pending() == 0
    assert await asyncio.wait_for(wall.get(), 1) == _pop("101")


def test_current_call_is_kept_until_that_call_ends() -> None:
    bus = LiveBus()
    bus.publish(_pop("101", attempt=1))
    assert bus.current_call("101") == _pop("101", 1)
    bus.publish(CallEnded("101", attempt_id=2, at=1.0))  # another call's end: ignored
    assert bus.current_call("101") is not None
    bus.publish(CallEnded("101", attempt_id=1, at=1.0))
    assert bus.current_call("101") is None


def test_a_stalled_subscriber_keeps_the_newest_messages() -> None:
    bus = LiveBus()
    sub = bus.subscribe("101")
    for attempt in range(QUEUE_SIZE + 5):
        bus.publish(_pop("101", attempt))
    assert sub.pending() == QUEUE_SIZE
    first = sub._queue.get_nowait()
    assert isinstance(first, CallPop) and first.attempt_id == 5


def test_closing_unsubscribes() -> None:
    bus = LiveBus()
    sub = bus.subscribe("101")
    assert bus.subscribers("101") == 1
    sub.close()
    sub.close()  # twice is harmless
    assert bus.subscribers("101") == 0
    bus.publish(_pop("101"))
    assert sub.pending() == 0


def test_reports_reach_listeners_and_a_broken_one_does_not_stop_the_others() -> None:
    bus = LiveBus()
    seen: list[StationReport] = []

    def broken(_report: StationReport) -> None:
        raise RuntimeError("boom")

    bus.on_report(broken)
    stop = bus.on_report(seen.append)
    report = StationReport("101", StationMode.READY, 5.0, user_id=3)
    bus.report(report)
    assert seen == [report]
    stop()
    bus.report(report)
    assert seen == [report]


def test_an_answer_reaches_watchers_only_and_a_broken_watcher_stops_nothing() -> None:
    bus = LiveBus()
    mine, wall = bus.subscribe("101"), bus.subscribe(ANY_STATION)
    seen: list[Published] = []

    def broken(_message: Published) -> None:
        raise RuntimeError("boom")

    bus.watch(broken)
    stop = bus.watch(seen.append)
    answered = CallAnswered(1, 1, 7, 3, "+33612345678", 999.8)
    bus.publish(answered)
    assert mine.pending() == 0 and wall.pending() == 0  # no station yet: no screen hears it
    assert bus.current_call("101") is None
    bus.publish(_pop("101", 1))
    bus.publish(CallEnded("101", 1, 1001.0))
    assert seen == [answered, _pop("101", 1), CallEnded("101", 1, 1001.0)]
    assert mine.pending() == 2 and wall.pending() == 2
    stop()
    bus.publish(answered)
    assert len(seen) == 3
