"""Reconnect delays and the event queue's drop-oldest policy."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from phonebank.ami.backoff import reconnect_delay
from phonebank.ami.events import UnknownEvent
from phonebank.ami.subscription import EventSubscription


def test_delays_grow_exponentially_to_the_cap() -> None:
    # With the random source at its top, each step is the full ceiling.
    delays = [reconnect_delay(n, 0.5, 30.0, 1.0) for n in range(10)]
    assert delays == [0.5, 1.0, 2.0, 4.0, 8.0, 16.0, 30.0, 30.0, 30.0, 30.0]


def test_jitter_uses_the_upper_half_of_the_step() -> None:
    assert reconnect_delay(3, 0.5, 30.0, 0.0) == 2.0
    assert reconnect_delay(3, 0.5, 30.0, 0.5) == 3.0


@given(
    st.integers(min_value=-5, max_value=10_000),
    st.floats(0.001, 10.0),
    st.floats(0.0, 100.0),
    st.floats(0.0, 1.0),
)
def test_delay_stays_within_bounds(attempt: int, low: float, extra: float, rnd: float) -> None:
    high = low + extra
    assert low <= reconnect_delay(attempt, low, high, rnd) <= high


def test_bad_bounds_are_refused() -> None:
    with pytest.raises(ValueError, match="minimum"):
        reconnect_delay(0, 0.0, 1.0, 0.5)
    with pytest.raises(ValueError, match="maximum"):
        reconnect_delay(0, 2.0, 1.0, 0.5)


async def test_a_full_queue_drops_the_oldest_and_counts() -> None:
    closed: list[EventSubscription] = []
    subscription = EventSubscription(2, None, closed.append)
    for n in range(5):
        subscription.offer(UnknownEvent(name=f"E{n}"))
    assert subscription.dropped == 3 and subscription.pending() == 2
    subscription.close()
    assert [e.name async for e in subscription] == ["E3", "E4"]
    assert closed == [subscription]


async def test_names_select_what_a_subscriber_gets() -> None:
    subscription = EventSubscription(10, {"Hangup"}, lambda _: None)
    subscription.offer(UnknownEvent(name="Newchannel"))
    subscription.offer(UnknownEvent(name="Hangup"))
    assert (await subscription.get(within=1)).name == "Hangup"
    assert subscription.pending() == 0
