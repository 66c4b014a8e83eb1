"""Preview mode end to end on the real databases, with the call-floor simulator on a
virtual clock: the runner offers leads to the screens through the `DialDesk`, the
volunteers click (sometimes twice, one never within the time limit, one pauses),
and every call is the click of a volunteer on the offer their station held, put
through to that station alone, with every dialling rule kept."""

from __future__ import annotations

import random
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import timedelta

from sqlalchemy import Engine, select, update

from phonebank.db import session_factory
from phonebank.db.engine import writer_session_factory
from phonebank.db.enums import DialMode, LeadStatus
from phonebank.db.models import CallListEntry, Campaign, DoNotCallEntry
from phonebank.dialer.campaign import active_campaigns
from phonebank.dialer.preview import OFFER_SECONDS
from phonebank.dialer.runner import CampaignRunner
from phonebank.dialer.writer import LedgerWriter
from phonebank.live.bus import LiveBus, StationMode, StationReport
from phonebank.live.requests import (
    DeskWatch,
    DialDesk,
    DialRequest,
    OfferWithdrawn,
    PreviewOffer,
)
from tests.integration.test_dialer_runner import (
    SETTINGS,
    START,
    T0,
    RecordingFloor,
    Volunteers,
    build,
    check_record,
    drive,
    floor_for,
    wind_down,
)

LAZY = "s3"  # never clicks before its first offer has expired
PAUSING = "s2"  # pauses with an offer on screen, comes back later
PAUSE_AT, PAUSE_FOR = T0 + 600, 300.0


@dataclass
class Screens:
    """The volunteers' screens: each follows its station's offers and clicks "Call"."""

    desk: DialDesk
    bus: LiveBus
    rng: random.Random
    clock: list[float]
    watches: dict[str, DeskWatch] = field(default_factory=dict)
    messages: dict[str, list[object]] = field(default_factory=lambda: defaultdict(list))
    clicks: list[DialRequest] = field(default_factory=list)  # those the desk accepted
    double_clicks: int = 0
    paused: tuple[float, float] | None = None
    paused_offer: int | None = None
    dnc_offer: PreviewOffer | None = None  # put on the do-not-call list before its click

    def open(self, stations: list[str]) -> None:
        for station in stations:
            self.watches[station] = self.desk.watch(station)

    def look(self, writer: LedgerWriter) -> None:
        now = self.clock[0]
        for station, watch in self.watches.items():
            while not watch._queue.empty():
                self.messages[station].append(watch._queue.get_nowait())
            offer = self.desk.current_offer(station)
            if offer is None:
                continue
            if station == PAUSING and self.paused is None and now >= PAUSE_AT:
                self.paused, self.paused_offer = (now, now + PAUSE_FOR), offer.entry_id
                self.bus.report(StationReport(station, StationMode.PAUSED, now, user_id=None))
                continue
            if station == LAZY and now < T0 + OFFER_SECONDS + 60:
                continue
            if now - offer.at < self.rng.uniform(3, 20):
                continue  # reading the contact
            if self.dnc_offer is None and now > T0 + 300:
                # The voter asked a colleague never to be called again, meanwhile.
                self.dnc_offer = offer
                writer.submit(lambda s, e=offer.e164: s.add(DoNotCallEntry(e164=e, source="t")))
                return  # clicked at the next look, once the entry is written
            request = self.desk.request_dial(station, offer.entry_id, None, now)
            assert request is not None
            self.clicks.append(request)
            if self.rng.random() < 0.3:
                assert self.desk.request_dial(station, offer.entry_id, None, now) is None
                self.double_clicks += 1
        if self.paused is not None and self.paused[1] <= now < self.paused[1] + 1:
            self.bus.report(StationReport(PAUSING, StationMode.READY, now, user_id=None))


async def run_preview(engine: Engine, seed: int) -> None:
    rng = random.Random(seed)
    with session_factory(engine).begin() as session:
        plan = build(session, 150, rng, name="Preview")
        session.execute(update(Campaign).values(dial_mode=DialMode.PREVIEW))
    with session_factory(engine)() as session:
        (config,) = active_campaigns(session)
    assert config.settings.mode is DialMode.PREVIEW
    writer = LedgerWriter(writer_session_factory(engine))
    bus, desk = LiveBus(), DialDesk()
    floor: RecordingFloor = floor_for(agents=3, seed=seed, human=0.4)
    clock = [floor.now]
    runner = CampaignRunner(
        campaign=config,
        telephony=floor,
        writer=writer,
        clock=lambda: floor.now,
        bus=bus,
        settings=SETTINGS,
        engine_id="preview-engine",
        desk=desk,
    )
    volunteers = Volunteers(bus, writer, plan, rng)
    screens = Screens(desk, bus, rng, clock)
    offers_seen: list[PreviewOffer] = []
    await runner.start(stations=tuple(floor.stations))
    preview = runner.preview
    assert preview is not None
    try:
        # A station with no screen open gets no offer.
        await drive([(runner, floor)], T0 + 5, [volunteers])
        assert all(desk.current_offer(s) is None for s in floor.stations)
        screens.open(floor.stations)
        t = T0 + 5
        while t < T0 + 1800:
            t += 1.0
            await drive([(runner, floor)], t, [volunteers])
            clock[0] = t
            offers_seen += [o for s in floor.stations if (o := desk.current_offer(s))]
            screens.look(writer)
            await runner.settle()
        # A click the desk let through twice (it never does) still dials once.
        ignored = preview.ignored
        if screens.clicks:
            preview.on_dial(screens.clicks[-1])
        assert preview.ignored == ignored + 1
        await wind_down([(runner, floor)], [volunteers])
        for station in floor.stations:
            while not screens.watches[station]._queue.empty():
                screens.messages[station].append(screens.watches[station]._queue.get_nowait())
    finally:
        writer.close()

    rows = check_record(engine, plan, [floor])
    assert len(floor.dialled) > 30 and len(volunteers.pops) > 15  # a real hour's work
    by_id = {row.id: row for row in rows}
    clicked = [(c.station, c.entry_id) for c in screens.clicks]
    # Every call is one click on the offer its station held, dialled for that station.
    dials = [(floor.for_station[a], by_id[int(a)].call_list_entry_id) for a, _, _ in floor.dialled]
    assert len(dials) == len(set(dials)) and set(dials) <= set(clicked)
    assert screens.double_clicks > 0
    assert screens.dnc_offer is not None
    dnc_click = (screens.dnc_offer.station, screens.dnc_offer.entry_id)
    assert dnc_click in clicked and dnc_click not in dials  # listed meanwhile: not dialled
    assert set(clicked) - set(dials) == {dnc_click}
    # Whoever answered was put through to the station that clicked, AMD or not.
    assert volunteers.pops
    for pop in volunteers.pops:
        assert floor.for_station[str(pop.attempt_id)] == pop.station
    assert all(row.amd_result != "MACHINE" for row in rows)
    # One offer per station at a time, never while a call it asked for is in flight.
    for station in floor.stations:
        out: int | None = None  # the offer on screen, until withdrawn or clicked
        for message in screens.messages[station]:
            if isinstance(message, PreviewOffer):
                assert out is None or (station, out) in clicked, f"{station}: two offers"
                out = message.entry_id
            elif isinstance(message, OfferWithdrawn) and message.entry_id == out:
                out = None
    for offer in offers_seen:
        for row in rows:
            asked = floor.for_station.get(str(row.id))
            if asked == offer.station and row.started_at and row.ended_at:
                assert not (row.started_at.timestamp() < offer.at < row.ended_at.timestamp())
    # The lazy volunteer's first offer went back after the time limit.
    lazy = [m for m in screens.messages[LAZY] if not isinstance(m, PreviewOffer)]
    first = next(m for m in screens.messages[LAZY] if isinstance(m, PreviewOffer))
    assert lazy and lazy[0].entry_id == first.entry_id and lazy[0].at >= first.at + OFFER_SECONDS
    # The pausing volunteer's offer went back, and none came while paused.
    assert screens.paused is not None and screens.paused_offer is not None
    start, end = screens.paused
    seen = screens.messages[PAUSING]
    assert OfferWithdrawn(PAUSING, screens.paused_offer, start + 1) in seen  # the next step
    assert not [o for o in seen if isinstance(o, PreviewOffer) and start < o.at < end]
    assert [o for o in seen if isinstance(o, PreviewOffer) and o.at >= end]
    # Stopped: every offer taken back, no lead left claimed, nothing in flight.
    assert all(desk.current_offer(s) is None for s in floor.stations)
    with session_factory(engine)() as session:
        claimed = session.scalars(
            select(CallListEntry).where(CallListEntry.status == LeadStatus.CLAIMED)
        ).all()
        dnc_entry = session.get(CallListEntry, screens.dnc_offer.entry_id)
    assert not claimed
    assert dnc_entry is not None and dnc_entry.attempts == 0
    assert runner.engine is not None and runner.engine.in_flight == set()


async def test_preview_calls_are_the_volunteers_clicks(migrated_engine: Engine) -> None:
    await run_preview(migrated_engine, seed=4)


async def test_an_offer_goes_back_when_the_calling_window_closes(migrated_engine: Engine) -> None:
    rng = random.Random(2)
    with session_factory(migrated_engine).begin() as session:
        build(session, 20, rng, name="Window")
        session.execute(update(Campaign).values(dial_mode=DialMode.PREVIEW))
    with session_factory(migrated_engine)() as session:
        (config,) = active_campaigns(session)
    writer = LedgerWriter(writer_session_factory(migrated_engine))
    desk = DialDesk()
    floor = floor_for(agents=1, seed=1)
    shut = [False]
    opening = START + timedelta(hours=12)
    runner = CampaignRunner(
        campaign=config,
        telephony=floor,
        writer=writer,
        clock=lambda: floor.now,
        settings=SETTINGS,
        engine_id="window-engine",
        desk=desk,
        callable_at=lambda tz, when: not shut[0] and config.callable_at(tz, when),
        next_opening=lambda tz, when: opening,
    )
    watch = desk.watch("s1")
    await runner.start(stations=tuple(floor.stations))
    try:
        await drive([(runner, floor)], T0 + 3)
        offer = desk.current_offer("s1")
        assert offer is not None
        shut[0] = True  # 20:00 at the callee's
        await drive([(runner, floor)], T0 + 4)
        assert desk.current_offer("s1") is None
        assert desk.request_dial("s1", offer.entry_id, None, T0 + 4) is None  # too late
        await drive([(runner, floor)], T0 + 10)
        assert desk.current_offer("s1") is None  # nothing callable until it opens
        await runner.shutdown()
        await runner.settle()
    finally:
        writer.close()
    assert [watch._queue.get_nowait() for _ in range(2)] == [
        offer,
        OfferWithdrawn("s1", offer.entry_id, T0 + 4),
    ]
    with session_factory(migrated_engine)() as session:
        entry = session.get(CallListEntry, offer.entry_id)
        assert entry is not None and entry.status is LeadStatus.PENDING
        assert entry.next_attempt_at == opening and entry.attempts == 0
    assert floor.dialled == []
