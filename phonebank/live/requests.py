"""Preview mode between the dialer runner and the screens: offers and dial requests.

In a preview campaign the runner does not dial first. It claims a lead for a
ready station and offers it (`PreviewOffer`); the volunteer reads the contact and
clicks "Call", which comes back as a `DialRequest` for exactly that offer; the
runner then originates the call to that station, and the usual `CallPop` follows
on the `LiveBus` once the voter is put through.

Like the bus, offering never blocks: a screen that falls behind loses its oldest
messages, and `current_offer` lets a screen that reconnects show the offer again.
"""

from __future__ import annotations

import asyncio
import logging
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field

log = logging.getLogger(__name__)

QUEUE_SIZE = 16


@dataclass(frozen=True, slots=True)
class PreviewOffer:
    """The runner holds this lead for `station`: show the contact, wait for a click."""

    station: str
    entry_id: int  # call_list_entries.id, claimed by the runner
    campaign_id: int
    contact_id: int
    phone_id: int | None
    e164: str
    at: float


@dataclass(frozen=True, slots=True)
class OfferWithdrawn:
    """The runner took the offer back (the station paused, the calling window closed)."""

    station: str
    entry_id: int
    at: float


@dataclass(frozen=True, slots=True)
class DialRequest:
    """The volunteer at `station` asked to dial the offered lead."""

    station: str
    entry_id: int
    campaign_id: int
    contact_id: int
    phone_id: int | None
    e164: str
    user_id: int | None
    at: float


DeskMessage = PreviewOffer | OfferWithdrawn
DialListener = Callable[[DialRequest], None]


@dataclass(eq=False)
class DeskWatch:
    """Offers for one station; `get()` them, then `close()`."""

    station: str
    _queue: asyncio.Queue[DeskMessage] = field(
        default_factory=lambda: asyncio.Queue(maxsize=QUEUE_SIZE)
    )
    _desk: DialDesk | None = None

    def _offer(self, message: DeskMessage) -> None:
        if self._queue.full():
            self._queue.get_nowait()
        self._queue.put_nowait(message)

    async def get(self) -> DeskMessage:
        return await self._queue.get()

    def close(self) -> None:
        if self._desk is not None:
            self._desk._watches[self.station].discard(self)
            self._desk = None


class DialDesk:
    """One per process, beside the LiveBus; created in the composition root."""

    def __init__(self) -> None:
        self._offers: dict[str, PreviewOffer] = {}
        self._watches: defaultdict[str, set[DeskWatch]] = defaultdict(set)
        self._listeners: list[DialListener] = []

    # Runner → screens
    def offer(self, offer: PreviewOffer) -> None:
        self._offers[offer.station] = offer
        self._send(offer.station, offer)

    def withdraw(self, station: str, entry_id: int, at: float) -> None:
        current = self._offers.get(station)
        if current is not None and current.entry_id == entry_id:
            del self._offers[station]
            self._send(station, OfferWithdrawn(station, entry_id, at))

    def current_offer(self, station: str) -> PreviewOffer | None:
        return self._offers.get(station)

    def watchers(self, station: str) -> int:
        """How many screens follow the station's offers (the runner offers to none without)."""
        return len(self._watches.get(station, ()))

    def unanswered(self, station: str, entry_id: int, at: float) -> None:
        """The call dialled for that offer put nobody through (busy, no answer, refused):
        the screen still showing it goes back to waiting for the next one."""
        if station not in self._offers:
            self._send(station, OfferWithdrawn(station, entry_id, at))

    def watch(self, station: str) -> DeskWatch:
        watch = DeskWatch(station, _desk=self)
        self._watches[station].add(watch)
        return watch

    def _send(self, station: str, message: DeskMessage) -> None:
        for watch in tuple(self._watches.get(station, ())):
            watch._offer(message)

    # Screens → runner
    def on_dial(self, listener: DialListener) -> Callable[[], None]:
        self._listeners.append(listener)
        return lambda: self._listeners.remove(listener)

    def request_dial(
        self, station: str, entry_id: int, user_id: int | None, at: float
    ) -> DialRequest | None:
        """Dial the station's current offer if it is `entry_id`; None if it is not (any more)."""
        offer = self._offers.get(station)
        if offer is None or offer.entry_id != entry_id:
            return None
        del self._offers[station]  # one click, one call
        request = DialRequest(
            station,
            offer.entry_id,
            offer.campaign_id,
            offer.contact_id,
            offer.phone_id,
            offer.e164,
            user_id,
            at,
        )
        for listener in tuple(self._listeners):
            try:
                listener(request)
            except Exception:  # a broken listener must not break the screen's request
                log.exception("dial request listener failed for station %s", station)
        return request
