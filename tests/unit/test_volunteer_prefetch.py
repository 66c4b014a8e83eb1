"""The contacts read ahead of call pops: matched by call, bounded in count and age."""

from __future__ import annotations

import asyncio

from sqlalchemy.orm import sessionmaker

from phonebank.live.bus import CallAnswered, LiveBus
from phonebank.live.requests import DialDesk
from phonebank.volunteer.prefetch import Ahead, CallKey, PrefetchCache
from phonebank.volunteer.service import VolunteerService

KEY = CallKey(campaign_id=1, contact_id=7, phone_id=3, e164="+33612345678")


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def _read(name: str) -> asyncio.Future[Ahead]:
    future: asyncio.Future[Ahead] = asyncio.get_running_loop().create_future()
    future.set_result((None, {"contact": {"first_name": name}}))
    return future


async def test_a_pop_gets_the_read_only_for_the_same_call() -> None:
    cache = PrefetchCache(Clock())
    read = _read("Maëlle")
    cache.put(5, KEY, read)
    assert cache.get(5, KEY) is read
    assert cache.get(5, KEY) is read  # kept: the station's other screens pop it too
    assert cache.get(6, KEY) is None
    for other in (
        CallKey(2, 7, 3, KEY.e164),  # another campaign
        CallKey(1, 8, 3, KEY.e164),  # another contact
        CallKey(1, 7, None, KEY.e164),
        CallKey(1, 7, 3, "+33600000000"),
    ):
        assert cache.get(5, other) is None
    assert (cache.hits, cache.misses) == (2, 5)
    cache.drop(5)
    cache.drop(5)  # twice is harmless
    assert cache.get(5, KEY) is None and len(cache) == 0


async def test_entries_go_after_the_ttl_and_the_oldest_go_when_full() -> None:
    clock = Clock()
    cache = PrefetchCache(clock, ttl=60.0, size=3)
    for attempt in range(5):
        cache.put(attempt, KEY, _read(str(attempt)))
        clock.now += 1.0
    assert len(cache) == 3
    assert cache.get(0, KEY) is None and cache.get(1, KEY) is None
    assert cache.get(2, KEY) is not None
    cache.put(2, KEY, _read("again"))  # a repeat is the newest again
    cache.put(5, KEY, _read("5"))
    assert cache.get(3, KEY) is None and cache.get(2, KEY) is not None
    clock.now += 59.0  # entry 4 was put at 1004, 2 and 5 at 1005
    assert cache.get(4, KEY) is None and cache.get(5, KEY) is not None
    clock.now += 1.0
    assert cache.get(5, KEY) is None and len(cache) == 0


def test_an_answer_published_off_the_event_loop_reads_nothing_ahead() -> None:
    bus = LiveBus()
    never = sessionmaker()  # bound to no database: any read would fail
    svc = VolunteerService(bus=bus, desk=DialDesk(), readers=never, writers=never, clock=Clock())
    bus.publish(CallAnswered(5, KEY.campaign_id, KEY.contact_id, KEY.phone_id, KEY.e164, 1.0))
    assert len(svc.prefetched) == 0  # the pop will read the contact itself


async def test_the_service_reads_ahead_on_the_loop_until_it_stops_watching() -> None:
    bus = LiveBus()
    never = sessionmaker()  # bound to no database: the read ahead fails, and is logged
    svc = VolunteerService(bus=bus, desk=DialDesk(), readers=never, writers=never, clock=Clock())
    bus.publish(CallAnswered(5, KEY.campaign_id, KEY.contact_id, KEY.phone_id, KEY.e164, 1.0))
    pending = svc.prefetched.get(5, KEY)
    assert pending is not None
    await asyncio.wait([pending], timeout=5)
    assert pending.done() and pending.exception() is not None
    svc.stop_watching()
    bus.publish(CallAnswered(6, KEY.campaign_id, KEY.contact_id, KEY.phone_id, KEY.e164, 1.0))
    assert len(svc.prefetched) == 1 and svc.prefetched.get(6, KEY) is None
