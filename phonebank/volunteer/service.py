"""The volunteer screen's service: pairing, cards, outcomes, station modes.

The web handlers validate and load; this module decides who may do what and runs
the database work in a thread (sync SQLAlchemy), so the event loop that pushes
call pops never waits on the database.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from phonebank.calls.outcomes import OutcomeInput, RecordedOutcome, record_outcome
from phonebank.db.models import Campaign, Contact, Outcome, PhoneNumber
from phonebank.live.bus import (
    CallAnswered,
    CallEnded,
    CallPop,
    LiveBus,
    Published,
    StationMode,
    StationReport,
)
from phonebank.live.requests import DialDesk, DialRequest, PreviewOffer
from phonebank.volunteer import repo
from phonebank.volunteer.errors import VolunteerError
from phonebank.volunteer.pairing import PairingBook
from phonebank.volunteer.prefetch import Ahead, CallKey, Person, PrefetchCache
from phonebank.volunteer.script import zone

# How long a campaign's script, survey and dispositions are reused between pops: an
# admin's edit shows on the screens within this time.
KIT_SECONDS = 10.0

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Volunteer:
    """Who is asking, from their session and pairing."""

    user_id: int
    name: str
    station: str | None


@dataclass(frozen=True)
class CallTarget:
    """What an outcome is about, as the server knows it (never as the page says)."""

    campaign_id: int
    contact_id: int
    attempt_id: int | None
    phone_id: int | None
    time_zone: str


class VolunteerService:
    def __init__(
        self,
        *,
        bus: LiveBus,
        desk: DialDesk,
        readers: sessionmaker[Session],
        writers: sessionmaker[Session],
        clock: Callable[[], float],
        book: PairingBook | None = None,
    ) -> None:
        self.bus = bus
        self.desk = desk
        self.book = book or PairingBook()
        self._readers = readers
        self._writers = writers
        self.clock = clock
        self._kits: dict[int, tuple[float, repo.CampaignKit]] = {}
        self._kit_loads: dict[int, asyncio.Future[repo.CampaignKit | None]] = {}
        self.prefetched = PrefetchCache(clock)
        self.stop_watching = bus.watch(self._on_bus)

    def _read(self, work: Callable[[Session], Any]) -> Any:
        with self._readers() as session:
            return work(session)

    async def read(self, work: Callable[[Session], Any]) -> Any:
        return await asyncio.to_thread(self._read, work)

    def now(self) -> datetime:
        return datetime.fromtimestamp(self.clock(), UTC)

    # Pairing
    async def pair(self, number: str, user_id: int, name: str) -> repo.StationRow:
        station = await self.read(lambda s: repo.find_station(s, number))
        if station is None:
            raise VolunteerError("station_unknown", number)
        self.book.pair(station.number, user_id, name, self.clock())
        return station  # type: ignore[no-any-return]

    def unpair(self, volunteer: Volunteer) -> None:
        if volunteer.station is not None:
            self.book.unpair(volunteer.station, volunteer.user_id)
            self.report(volunteer, StationMode.PAUSED)

    def report(self, volunteer: Volunteer, mode: StationMode) -> None:
        if volunteer.station is None:
            raise VolunteerError("not_paired")
        self.bus.report(StationReport(volunteer.station, mode, self.clock(), volunteer.user_id))

    # Cards
    async def kit(self, campaign_id: int) -> repo.CampaignKit | None:
        """The campaign's shared part of every card, read at most once per KIT_SECONDS.

        Fifteen pops at once for one campaign share one read (the first starts it,
        the others wait for it), so a burst costs one script load, not fifteen.
        """
        now = self.clock()
        cached = self._kits.get(campaign_id)
        if cached is not None and now - cached[0] < KIT_SECONDS:
            return cached[1]
        pending = self._kit_loads.get(campaign_id)
        if pending is None:
            pending = asyncio.ensure_future(self.read(lambda s: repo.load_kit(s, campaign_id)))
            self._kit_loads[campaign_id] = pending
            pending.add_done_callback(lambda _done: self._kit_loads.pop(campaign_id, None))
        kit: repo.CampaignKit | None = await asyncio.shield(pending)
        if kit is not None:
            self._kits[campaign_id] = (now, kit)
        return kit

    async def person(self, key: CallKey) -> Person:
        """The contact, phone and history of a card (one read in a thread)."""
        today = self.now().date()
        person: Person = await self.read(
            lambda s: repo.load_person(
                s,
                campaign_id=key.campaign_id,
                contact_id=key.contact_id,
                phone_id=key.phone_id,
                e164=key.e164,
                today=today,
            )
        )
        return person

    async def card(
        self, campaign_id: int, contact_id: int, phone_id: int | None, e164: str, name: str
    ) -> dict[str, Any] | None:
        kit, person = await asyncio.gather(
            self.kit(campaign_id), self.person(CallKey(campaign_id, contact_id, phone_id, e164))
        )
        if kit is None or person is None:
            return None
        return repo.build_card(kit, person, name)

    async def pop_card(self, pop: CallPop, name: str) -> dict[str, Any] | None:
        card = await self._prefetched_card(pop, name)
        if card is None:
            card = await self.card(pop.campaign_id, pop.contact_id, pop.phone_id, pop.e164, name)
        if card is None:
            return None
        return card | {"type": "call", "attempt_id": pop.attempt_id, "pop_at": pop.at}

    async def _prefetched_card(self, pop: CallPop, name: str) -> dict[str, Any] | None:
        """The card from the kit and contact read when the call was answered: no read
        now, nor a wait for one unless the bridge came before the read ended."""
        key = CallKey(pop.campaign_id, pop.contact_id, pop.phone_id, pop.e164)
        pending = self.prefetched.get(pop.attempt_id, key)
        if pending is None:
            return None
        try:
            kit, person = await asyncio.shield(pending)  # a closing screen must not cancel it
        except Exception:  # logged by _log_failure; the pop reads as it would without it
            return None
        if kit is None or person is None:
            return None
        return repo.build_card(kit, person, name)

    # Prefetch: the bus tells every message before delivering it
    def _on_bus(self, message: Published) -> None:
        if isinstance(message, CallAnswered):
            self._prefetch(message)
        elif isinstance(message, CallEnded):
            self.prefetched.drop(message.attempt_id)

    def _prefetch(self, answered: CallAnswered) -> None:
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return  # published off the event loop: the pop reads the contact itself
        key = CallKey(answered.campaign_id, answered.contact_id, answered.phone_id, answered.e164)
        task = loop.create_task(self._read_ahead(key))
        task.add_done_callback(_log_failure)
        self.prefetched.put(answered.attempt_id, key, task)

    async def _read_ahead(self, key: CallKey) -> Ahead:
        return await asyncio.gather(self.kit(key.campaign_id), self.person(key))

    async def offer_card(self, offer: PreviewOffer, name: str) -> dict[str, Any] | None:
        card = await self.card(
            offer.campaign_id, offer.contact_id, offer.phone_id, offer.e164, name
        )
        if card is None:
            return None
        return card | {"type": "offer", "entry_id": offer.entry_id}

    async def attempt_card(self, volunteer: Volunteer, attempt_id: int) -> dict[str, Any]:
        info = await self._own_attempt(volunteer, attempt_id)
        phone_e164 = await self.read(lambda s: _e164(s, info.phone_id))
        card = await self.card(
            info.campaign_id, info.contact_id or 0, info.phone_id, phone_e164, volunteer.name
        )
        if card is None:
            raise VolunteerError("not_your_call", str(attempt_id))
        return card | {"type": "call", "attempt_id": attempt_id, "pop_at": None}

    async def door_card(self, campaign_id: int, contact_id: int, name: str) -> dict[str, Any]:
        phone = await self.read(lambda s: repo.first_phone(s, contact_id))
        card = await self.card(
            campaign_id,
            contact_id,
            phone.id if phone is not None else None,
            phone.e164 if phone is not None else "",
            name,
        )
        if card is None:
            raise VolunteerError("unknown_contact", str(contact_id))
        return card | {"type": "door"}

    async def _own_attempt(self, volunteer: Volunteer, attempt_id: int) -> repo.AttemptInfo:
        """The attempt if it was bridged to the volunteer's station or put through to them."""
        info: repo.AttemptInfo | None = await self.read(lambda s: repo.attempt_info(s, attempt_id))
        if info is None or info.contact_id is None:
            raise VolunteerError("not_your_call", str(attempt_id))
        mine = volunteer.station is not None and info.station == volunteer.station
        if not mine and info.user_id != volunteer.user_id:
            # The same answer as for a missing attempt: ids of others' calls stay unknown.
            raise VolunteerError("not_your_call", str(attempt_id))
        return info

    # Outcomes
    async def target_of_attempt(self, volunteer: Volunteer, attempt_id: int) -> CallTarget:
        info = await self._own_attempt(volunteer, attempt_id)
        tz = await self.read(lambda s: _time_zone(s, info.campaign_id, info.phone_id))
        return CallTarget(info.campaign_id, info.contact_id or 0, info.id, info.phone_id, tz)

    async def target_of_door(self, campaign_id: int, contact_id: int) -> CallTarget:
        def load(session: Session) -> CallTarget:
            contact = session.get(Contact, contact_id)
            if contact is None or contact.campaign_id != campaign_id:
                raise VolunteerError("unknown_contact", str(contact_id))
            phone = repo.first_phone(session, contact_id)
            phone_id = phone.id if phone is not None else None
            return CallTarget(
                campaign_id, contact_id, None, phone_id, _time_zone(session, campaign_id, phone_id)
            )

        target: CallTarget = await self.read(load)
        return target

    async def already_recorded(self, client_request_id: str, user_id: int) -> int | None:
        """The outcome this volunteer already recorded under this id (a resend)."""
        found: int | None = await self.read(
            lambda s: s.scalar(
                select(Outcome.id).where(
                    Outcome.client_request_id == client_request_id,
                    Outcome.recorded_by_id == user_id,
                )
            )
        )
        return found

    async def record(self, data: OutcomeInput) -> RecordedOutcome:
        now = self.now()

        def write() -> RecordedOutcome:
            with self._writers.begin() as session:
                return record_outcome(session, data, now)

        return await asyncio.to_thread(write)

    # Preview mode
    def dial(self, volunteer: Volunteer, entry_id: int) -> DialRequest:
        if volunteer.station is None:
            raise VolunteerError("not_paired")
        request = self.desk.request_dial(
            volunteer.station, entry_id, volunteer.user_id, self.clock()
        )
        if request is None:
            raise VolunteerError("no_offer", str(entry_id))
        return request

    async def summary(self, user_id: int, since: float) -> dict[str, Any]:
        start = datetime.fromtimestamp(since, UTC)
        result: dict[str, Any] = await self.read(lambda s: repo.shift_summary(s, user_id, start))
        return result

    def with_station(self, volunteer: Volunteer, station: str | None) -> Volunteer:
        return replace(volunteer, station=station)


def _log_failure(task: asyncio.Future[Ahead]) -> None:
    if not task.cancelled() and task.exception() is not None:
        log.warning("reading a contact ahead of its call pop failed", exc_info=task.exception())


def _e164(session: Session, phone_id: int | None) -> str:
    phone = session.get(PhoneNumber, phone_id) if phone_id is not None else None
    return phone.e164 if phone is not None else ""


def _time_zone(session: Session, campaign_id: int, phone_id: int | None) -> str:
    campaign = session.get(Campaign, campaign_id)
    phone = session.get(PhoneNumber, phone_id) if phone_id is not None else None
    return zone(phone.time_zone if phone else None, campaign.time_zone if campaign else "UTC")
