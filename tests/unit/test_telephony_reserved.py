"""Preview calls in the adapter: a station reserved from the dial on, for one voter alone.

Plain cases of the pool and the book, the Originate the adapter sends, and the
stateful floor of test_telephony_adapter_stations.py played again with preview
calls among the predictive ones: a reserved station is never named for, nor
given to, another voter, and a preview voter is only ever put through to the
station it was dialled for.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import invariant, rule

from phonebank.dialer.telephony import EventKind, TelephonyEvent
from phonebank.telephony.adapter import AmiTelephony
from phonebank.telephony.calls import CallBook, Effect, SetStation
from phonebank.telephony.originate import CallSettings, originate_request
from phonebank.telephony.signals import (
    Abandoned,
    Bridged,
    CallLeft,
    DialFailed,
    StationAbsent,
    StationJoined,
    StationLeft,
    Verdict,
)
from phonebank.telephony.stations import StationPool
from tests.unit.test_telephony_adapter import SETTINGS, FakeLink, Heard, settle
from tests.unit.test_telephony_adapter_stations import STATIONS, Floor

E = EventKind


def test_only_a_present_station_without_a_call_is_reserved() -> None:
    pool = StationPool(allowed={"1", "2", "3"})
    assert not pool.reserve("1", "p")  # its handset is not in its bridge
    pool.join("1", 0.0)
    pool.join("2", 1.0)
    pool.set_available("2", False, 2.0)  # paused: the volunteer clicked before pausing
    assert pool.reserve("1", "p") and pool.reserve("1", "p")
    assert not pool.reserve("1", "q")  # held for p
    assert not pool.reserve("2", "p")  # p holds a station already
    assert pool.reserve("2", "q")
    assert not pool.reserve("9", "r")  # not in the inventory
    assert pool.pick("x") is None  # both held: no voter is given them
    pool.release("1", "p")
    assert pool.can_reserve("1") and pool.pick("x") == "1"
    assert not pool.can_reserve("1")


def human(book: CallBook, attempt: str, at: float) -> list[Effect]:
    return book.signal(Verdict(attempt, "HUMAN", f"chan-{attempt}"), at)


def test_a_preview_voter_goes_to_its_station_and_no_other_voter_does() -> None:
    book = CallBook()
    for station in ("1", "2"):
        book.signal(StationJoined(station), 0.0)
    assert book.placed("p", "0100000001", 1.0, station="1")
    book.placed("x", "0100000002", 1.0)
    book.placed("y", "0100000003", 1.0)
    # The Originate named station 1: no Setvar for the preview voter.
    assert human(book, "p", 2.0) == [TelephonyEvent(E.ANSWERED_HUMAN, 2.0, "p")]
    # A predictive voter answering meanwhile is given station 2, never 1.
    assert human(book, "x", 2.1)[1:] == [SetStation("x", "chan-x", "2")]
    assert human(book, "y", 2.2) == [TelephonyEvent(E.ANSWERED_HUMAN, 2.2, "y")]
    assert book.signal(Bridged("p", "1"), 2.3) == [TelephonyEvent(E.BRIDGED, 2.3, "p", "1")]
    effects = book.signal(CallLeft("p", "chan-p"), 3.0)
    assert effects == [TelephonyEvent(E.HUNG_UP, 3.0, "p", "1")]  # station 1: wrap-up


def test_an_unanswered_preview_call_frees_its_station() -> None:
    book = CallBook()
    book.signal(StationJoined("1"), 0.0)
    book.placed("x", "0100000002", 0.5)
    assert book.placed("p", "0300000001", 1.0, station="1")
    assert human(book, "x", 1.5) == [TelephonyEvent(E.ANSWERED_HUMAN, 1.5, "x")]  # 1 is held
    effects = book.signal(DialFailed("p", "BUSY"), 2.0)
    # Free again (and still ready): the waiting voter gets it.
    assert effects == [TelephonyEvent(E.BUSY, 2.0, "p"), SetStation("x", "chan-x", "1")]


def test_a_handset_back_while_its_preview_call_rings_is_held_again() -> None:
    book = CallBook()
    book.signal(StationJoined("1"), 0.0)
    assert book.placed("p", "0100000001", 1.0, station="1")
    book.signal(StationLeft("1"), 1.5)
    book.placed("x", "0100000002", 1.6)
    human(book, "x", 1.7)
    # Station 1 comes back: held for p again, so x still waits.
    assert book.signal(StationJoined("1"), 2.0) == [
        TelephonyEvent(E.STATION_READY, 2.0, station="1")
    ]
    assert book.stations.holder("p") == "1"


def test_a_preview_voter_whose_station_left_is_never_given_another() -> None:
    book = CallBook()
    for station in ("1", "2"):
        book.signal(StationJoined(station), 0.0)
    assert book.placed("p", "0100000001", 1.0, station="1")
    book.signal(StationLeft("1"), 1.5)
    human(book, "p", 2.0)
    absent = book.signal(StationAbsent("p", "1"), 2.1)
    assert not [e for e in absent if isinstance(e, SetStation)]
    assert book.signal(Abandoned("p"), 3.2) == [TelephonyEvent(E.ABANDONED, 3.2, "p")]


def test_the_originate_names_the_reserved_station() -> None:
    request = originate_request("9", "0100000001", CallSettings(caller_id="1"), station="12")
    assert request.variables["PHONEBANK_STATION"] == "12"
    assert "PHONEBANK_STATION" not in originate_request("9", "0100000001", SETTINGS).variables
    with pytest.raises(ValueError, match="station"):
        originate_request("9", "0100000001", SETTINGS, station="1,PHONEBANK_TRUNK=x")


@pytest.fixture
async def adapter() -> AsyncIterator[tuple[AmiTelephony, FakeLink, Heard]]:
    link, heard = FakeLink(), Heard()
    telephony = AmiTelephony(link, SETTINGS, clock=lambda: 42.0, failure_grace=0.05)
    telephony.set_listener(heard)
    await telephony.start()
    yield telephony, link, heard
    await telephony.close()


async def test_the_adapter_dials_for_a_station_or_refuses_undialled(
    adapter: tuple[AmiTelephony, FakeLink, Heard],
) -> None:
    telephony, link, heard = adapter
    link.join("7001")
    await heard.until(lambda: E.STATION_READY in heard.kinds())
    assert telephony.can_reserve("7001") and not telephony.can_reserve("7002")
    telephony.originate("p", "0100000001", 0.0, station="7001")
    await settle()
    assert link.variables["p"]["PHONEBANK_STATION"] == "7001"
    assert not telephony.can_reserve("7001")
    # Station 7001 is held for p; a second preview call for it is refused, undialled.
    telephony.originate("q", "0100000002", 0.0, station="7001")
    telephony.originate("r", "0100000003", 0.0, station="7002")  # no handset there
    await heard.until(lambda: heard.kinds("q") == [E.FAILED] and heard.kinds("r") == [E.FAILED])
    assert set(link.originates) == {"p"} and telephony.originates_sent == 1
    link.user_event("PhonebankAmd", "p", "chan-p", Status="HUMAN", Cause="DISABLED")
    link.user_event("PhonebankBridged", "p", "chan-p", Station="7001")
    await heard.until(lambda: E.BRIDGED in heard.kinds("p"))
    assert not [a for a in link.actions if a["Action"] == "Setvar"]


class ReservedFloor(Floor):
    """The floor of test_telephony_adapter_stations with preview calls placed among the rest."""

    def __init__(self) -> None:
        super().__init__()
        self.pins: dict[str, str] = {}  # preview attempt -> its station

    def apply(self, effects: list[Effect]) -> None:
        for effect in effects:
            if isinstance(effect, SetStation):
                assert effect.attempt_id not in self.pins, "a preview voter was named a station"
                pinned = self.book.pinned(effect.station)
                assert pinned is None, f"station {effect.station} is held for {pinned}"
        super().apply(effects)

    def check_event(self, event: TelephonyEvent) -> None:
        if event.kind is E.BRIDGED and event.attempt_id in self.pins:
            assert event.station == self.pins[event.attempt_id]
        super().check_event(event)

    @rule(data=st.data(), outcome=st.sampled_from(["bridge", "bridge", "abandon", "setvar"]))
    def dialplan(self, data: st.DataObject, outcome: str) -> None:
        # Setvars the book has since taken back (the station left, the voter was named
        # another) are dropped here: within the dialplan's 20 ms poll a voter could
        # still act on one, as for predictive calls (docs/dialer.md, "Preview").
        self.orders = [
            o for o in self.orders if self.book.stations.holder(o.attempt_id) == o.station
        ]
        if self.orders:
            super().dialplan(data, outcome)

    @rule(station=st.sampled_from(STATIONS))
    def lift_and_place_preview(self, station: str) -> None:
        """A volunteer at a handset clicks "Call" (the usual case)."""
        if station not in self.handsets:
            self.lift(station)
        self.place_preview(station)

    @rule(station=st.sampled_from(STATIONS))
    def place_preview(self, station: str) -> None:
        self.count += 1
        attempt = f"p{self.count}"
        self.placed.add(attempt)
        self.pins[attempt] = station
        free = self.book.stations.can_reserve(station)
        assert self.book.placed(attempt, "0100000000", self.tick(), station=station) == free
        if not free:  # the adapter refuses it at once
            self.apply(self.book.originate_refused(attempt, self.tick()))

    @rule(data=st.data())
    def preview_answered(self, data: st.DataObject) -> None:
        """No detection in preview: whoever answers is a person at once."""
        dialing = [a for a in self.calls("dialing") if a in self.pins]
        if dialing:
            attempt = data.draw(st.sampled_from(dialing))
            self.apply(self.book.signal(Verdict(attempt, "HUMAN", f"chan-{attempt}"), self.tick()))

    @rule(data=st.data(), outcome=st.sampled_from(["bridge", "bridge", "abandon"]))
    def preview_dialplan(self, data: st.DataObject, outcome: str) -> None:
        """The dialplan with the station named in the Originate: in at once, or absent."""
        waiting = [a for a in self.calls("waiting") if a in self.pins]
        if not waiting:
            return
        attempt = data.draw(st.sampled_from(waiting))
        station, at = self.pins[attempt], self.tick()
        if outcome == "abandon":
            self.apply(self.book.signal(Abandoned(attempt), at))
        elif station in self.handsets and station not in self.live_at:
            self.apply(self.book.signal(Bridged(attempt, station), at))
        else:
            self.apply(self.book.signal(StationAbsent(attempt, station), at))

    @invariant()
    def a_held_station_is_held_for_its_own_call(self) -> None:
        for attempt, station in self.pins.items():
            call = self.book.get(attempt)
            if call is None or call.phase.value == "bridged":
                continue
            state = self.book.stations.get(station)
            if state is not None and state.present and state.call is not None:
                assert state.call == attempt, f"{station} held for {attempt} went to {state.call}"


TestReservedFloor = ReservedFloor.TestCase
TestReservedFloor.settings = settings(max_examples=200, stateful_step_count=50, deadline=None)
