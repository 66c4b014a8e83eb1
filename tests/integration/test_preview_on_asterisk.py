"""Preview mode on the real Asterisk: the service's dialer (`dialing()` with a `DialDesk`),
a preview campaign in the database, two simulated handsets off the hook with a
screen watching each, voters on the dialplan's simulated network.

The test clicks "Call" as the screens would (`DialDesk.request_dial`): the voter
lands in the bridge of the very station that clicked (the Originate names it),
with no answering-machine detection; a double click places one call; a busy
number clears the screen's card and the station gets its next offer.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest
from sqlalchemy import Engine, select

from phonebank.ami import AmiClient, AmiEvent
from phonebank.db import make_engine, session_factory, upgrade
from phonebank.db.enums import AttemptResult, CampaignStatus, DialMode, LeadStatus
from phonebank.db.models import CallAttempt, CallList, CallListEntry, Campaign, Contact, PhoneNumber
from phonebank.demo import ROUND_THE_CLOCK
from phonebank.dialing import dialing
from phonebank.live.bus import CallPop, LiveBus
from phonebank.live.requests import DialDesk, OfferWithdrawn, PreviewOffer
from phonebank.metrics.service import Metrics
from tests.integration.test_engine_on_asterisk import outbound_channels
from tests.integration.test_telephony_calls import hang_up_all, lift_handset

pytestmark = pytest.mark.asterisk

STATIONS = ("7401", "7402")
# On the simulated network an E.164 number's last digit decides: 0-3 a person who
# answers after 2-8 s ("Allô ?"), 7 busy. A person and a busy line alternately: the
# two stations' first offers are one of each, whichever station gets which.
NUMBERS = ("+33639980010", "+33639980017", "+33639980020", "+33639980027", "+33639980030")


@pytest.fixture
def preview_db(tmp_path: Path) -> Engine:
    url = f"sqlite:///{tmp_path / 'preview.db'}"
    upgrade(url)
    engine = make_engine(url)
    with session_factory(engine).begin() as session:
        campaign = Campaign(
            name="Preview on Asterisk",
            status=CampaignStatus.ACTIVE,
            dial_mode=DialMode.PREVIEW,
            calling_window=ROUND_THE_CLOCK,
            caller_id="0199000000",
            amd_enabled=True,  # a preview call skips it anyway
        )
        session.add(campaign)
        session.flush()
        call_list = CallList(campaign_id=campaign.id, name="L")
        session.add(call_list)
        session.flush()
        for n, number in enumerate(NUMBERS):
            contact = Contact(campaign_id=campaign.id, first_name=f"V{n}")
            contact.phones.append(PhoneNumber(e164=number, time_zone="Europe/Paris"))
            session.add(contact)
            session.flush()
            session.add(CallListEntry(call_list_id=call_list.id, contact_id=contact.id))
    return engine


async def until(check: Callable[[], bool], within: float = 20.0) -> None:
    for _ in range(int(within / 0.05)):
        if check():
            return
        await asyncio.sleep(0.05)
    raise AssertionError("not within the time allowed")


async def collect(ami: AmiClient, into: list[AmiEvent]) -> None:
    async for event in ami.events(names={"UserEvent", "Newchannel"}):
        into.append(event)


@pytest.fixture
async def ami_events(ami: AmiClient) -> AsyncIterator[list[AmiEvent]]:
    seen: list[AmiEvent] = []
    task = asyncio.create_task(collect(ami, seen))
    yield seen
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task


def user_events(events: list[AmiEvent], name: str, attempt: str) -> list[dict[str, str]]:
    return [
        e.fields
        for e in events
        if e.name == "UserEvent"
        and e.fields.get("userevent") == name
        and e.fields.get("attempt") == attempt
    ]


async def test_a_clicked_offer_reaches_the_station_that_clicked(
    ami: AmiClient, ami_events: list[AmiEvent], preview_db: Engine
) -> None:
    bus, desk = LiveBus(), DialDesk()
    screens = {station: desk.watch(station) for station in STATIONS}
    pops = bus.subscribe(STATIONS[0]), bus.subscribe(STATIONS[1])
    try:
        async with dialing(
            engine=preview_db,
            ami=ami,
            bus=bus,
            desk=desk,
            metrics=Metrics(),
            clock=time.time,
            trunk="sim",
        ) as dialer:
            for station in STATIONS:
                await lift_handset(ami, station)
            await until(lambda: all(desk.current_offer(s) is not None for s in STATIONS))
            offers = {s: desk.current_offer(s) for s in STATIONS}
            person = next(s for s, o in offers.items() if o and o.e164.endswith("0"))
            busy = next(s for s, o in offers.items() if o and o.e164.endswith("7"))
            person_offer, busy_offer = offers[person], offers[busy]
            assert person_offer is not None and busy_offer is not None

            # Busy: the card is cleared and the station is offered the next lead.
            assert desk.request_dial(busy, busy_offer.entry_id, None, time.time()) is not None
            await until(
                lambda: (
                    (o := desk.current_offer(busy)) is not None
                    and o.entry_id != busy_offer.entry_id
                )
            )

            # A double click on the person's offer: one call, to that station.
            assert desk.request_dial(person, person_offer.entry_id, None, time.time()) is not None
            assert desk.request_dial(person, person_offer.entry_id, None, time.time()) is None
            subscription = pops[STATIONS.index(person)]
            pop = await asyncio.wait_for(subscription.get(), 20)
            assert isinstance(pop, CallPop) and pop.station == person
            attempt = str(pop.attempt_id)
            await until(lambda: bool(user_events(ami_events, "PhonebankBridged", attempt)))
            [bridged] = user_events(ami_events, "PhonebankBridged", attempt)
            assert bridged["station"] == person
            [verdict] = user_events(ami_events, "PhonebankAmd", attempt)
            assert (verdict["status"], verdict["cause"]) == ("HUMAN", "DISABLED")
            runner = next(iter(dialer.runners.values()))
            assert runner.preview is not None and runner.preview.book.dialling() == {attempt}
            await hang_up_all(ami, f"^Local/\\{person_offer.e164}@")
            await until(lambda: not runner.preview.book.dialling())  # type: ignore[union-attr]
        # The service stopped: offers taken back.
        assert all(desk.current_offer(s) is None for s in STATIONS)
    finally:
        await hang_up_all(ami, *(f"^Local/{s}@sim-station" for s in STATIONS))
        await hang_up_all(ami, *(f"^Local/\\{n}@" for n in NUMBERS))
        for watch in screens.values():
            watch.close()
        for subscription in pops:
            subscription.close()

    # Each clicked number was dialled once, as Asterisk saw it; nothing else was dialled.
    dialled = outbound_channels(ami_events)
    assert dialled == {person_offer.e164: 1, busy_offer.e164: 1}
    messages = [screens[busy]._queue.get_nowait() for _ in range(screens[busy]._queue.qsize())]
    offered, cleared, then = messages[:3]
    assert offered == busy_offer
    assert isinstance(cleared, OfferWithdrawn) and cleared.entry_id == busy_offer.entry_id
    assert isinstance(then, PreviewOffer) and then.entry_id != busy_offer.entry_id
    with session_factory(preview_db)() as session:
        rows = {r.e164: r for r in session.scalars(select(CallAttempt))}
        assert set(rows) == {person_offer.e164, busy_offer.e164}
        assert rows[busy_offer.e164].result is AttemptResult.BUSY
        assert rows[person_offer.e164].bridged_at is not None
        claims = session.scalars(
            select(CallListEntry.id).where(CallListEntry.status == LeadStatus.CLAIMED)
        ).all()
    # Only the lead whose voter talked waits for the volunteer's outcome.
    assert claims == [person_offer.entry_id]
