"""Contacts read while the bridge is being made, kept for the call pop that follows.

When AMD says a person answered, the runner publishes `CallAnswered`; the screens'
side starts reading that contact then, 20 ms to a second before the `CallPop`, so
the pop finds the read done (or under way) instead of starting it while fifteen
stations are put through at once.

What is kept is the part of a card that depends on the call only (the campaign's
kit, the contact, phone and history), never the volunteer's name or language: the
card is still built per screen, and only for the station the pop was delivered to.
An entry is used only for a pop naming the same campaign, contact and phone; it goes
when the call ends, after `TTL` seconds (an answered call that never reached a
station), or when `SIZE` newer ones push it out.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from phonebank.volunteer.repo import CampaignKit

# Longer than any answer → bridge gap (the dialplan gives up well before).
TTL = 60.0
# Far more calls than a phone bank answers in a minute; a bound, not a working size.
SIZE = 512

Person = dict[str, Any] | None
# The kit as it was when the call was answered, and the contact; None if unknown.
Ahead = tuple[CampaignKit | None, Person]


@dataclass(frozen=True)
class CallKey:
    """What a pop must name for a prefetched contact to be its contact."""

    campaign_id: int
    contact_id: int
    phone_id: int | None
    e164: str


@dataclass(frozen=True)
class _Entry:
    key: CallKey
    at: float
    ahead: asyncio.Future[Ahead]


class PrefetchCache:
    """Bounded, keyed by attempt id; every method is O(1) amortised and never waits."""

    def __init__(self, clock: Callable[[], float], ttl: float = TTL, size: int = SIZE) -> None:
        self._clock = clock
        self._ttl = ttl
        self._size = size
        self._entries: dict[int, _Entry] = {}  # insertion order is age order
        self.hits = 0
        self.misses = 0

    def put(self, attempt_id: int, key: CallKey, ahead: asyncio.Future[Ahead]) -> None:
        now = self._clock()
        self._expire(now)
        self._entries.pop(attempt_id, None)  # a repeat goes to the back, as the newest
        while len(self._entries) >= self._size:
            del self._entries[next(iter(self._entries))]
        self._entries[attempt_id] = _Entry(key, now, ahead)

    def get(self, attempt_id: int, key: CallKey) -> asyncio.Future[Ahead] | None:
        """The read started for this call, if it is this pop's call; kept for the
        station's other screens and for a screen that reconnects."""
        self._expire(self._clock())
        entry = self._entries.get(attempt_id)
        if entry is None or entry.key != key:
            self.misses += 1
            return None
        self.hits += 1
        return entry.ahead

    def drop(self, attempt_id: int) -> None:
        self._entries.pop(attempt_id, None)

    def __len__(self) -> int:
        return len(self._entries)

    def _expire(self, now: float) -> None:
        while self._entries:
            oldest = next(iter(self._entries))
            if now - self._entries[oldest].at < self._ttl:
                return
            del self._entries[oldest]
