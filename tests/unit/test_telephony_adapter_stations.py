"""The station pool, and a property of the whole book: a station never has two live calls.

The stateful test plays a floor against `CallBook`: handsets come and go, screens
pause, people answer, and a model of the dialplan puts a person into the station
named by a `SetStation` (or reports it absent, or gives up), the link drops and
is reconciled. Voters also call back and ask for a volunteer (`in-…` calls): they
wait in the same line, and the engine never hears of them except as a station
paused while one talks. Whatever the order, every station has at most one live
call, inbound or outbound, every call ends exactly once, and a station is only
named when it is present, ready and free.
"""

from __future__ import annotations

from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from phonebank.dialer.telephony import EventKind, TelephonyEvent
from phonebank.telephony.calls import CallBook, Effect, LiveView, SetStation
from phonebank.telephony.signals import (
    Abandoned,
    Bridged,
    CallLeft,
    DialFailed,
    InboundBridged,
    InboundGaveUp,
    InboundWaiting,
    StationAbsent,
    StationJoined,
    StationKey,
    StationLeft,
    Verdict,
)
from phonebank.telephony.stations import StationPool

FINAL = {
    EventKind.ANSWERED_MACHINE,
    EventKind.BUSY,
    EventKind.NO_ANSWER,
    EventKind.INVALID,
    EventKind.FAILED,
    EventKind.ABANDONED,
    EventKind.HUNG_UP,
    EventKind.LOST,
}
STATIONS = ("1", "2", "3")


def test_the_station_ready_longest_is_picked_and_held_once() -> None:
    pool = StationPool()
    pool.join("1", 5.0)
    pool.join("2", 3.0)
    assert pool.pick("a") == "2"
    assert pool.pick("a") == "2"  # already holds it
    assert pool.pick("b") == "1"
    assert pool.pick("c") is None
    pool.release("2", "a")
    assert pool.holder("a") is None
    assert pool.pick("c") == "2"


def test_take_moves_a_reservation_and_refuses_a_busy_bridge() -> None:
    pool = StationPool()
    pool.join("1", 0.0)
    pool.join("2", 1.0)
    assert pool.pick("a") == "1"
    # The dialplan put "a" into station 2 after all; "b" held 2's reservation? no: free.
    assert pool.take("2", "a") == (True, None)
    assert pool.holder("a") == "2"
    state = pool.get("1")
    assert state is not None and state.call is None
    assert pool.pick("b") == "1"
    assert pool.take("1", "c") == (True, "b")  # c took b's reservation: b needs another
    assert pool.take("1", "d") == (False, None)  # c is in that bridge


def test_wrap_up_and_pause() -> None:
    pool = StationPool()
    pool.join("1", 0.0)
    assert pool.pick("a") == "1"
    pool.take("1", "a")
    assert not pool.set_available("1", True, 1.0)  # on a call: means nothing
    pool.hang_up("1", "a")
    state = pool.get("1")
    assert state is not None and not state.available and state.last_call == "a"
    assert pool.pick("b") is None
    assert pool.set_available("1", True, 2.0)
    assert pool.set_available("1", False, 3.0)
    assert pool.pick("b") is None
    assert pool.leave("1") == (True, None, False)
    assert pool.leave("1") == (False, None, False)


class Floor(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.book = CallBook()
        self.clock = 0.0
        self.count = 0
        self.handsets: set[str] = set()  # the world: handsets in their bridges
        self.orders: list[SetStation] = []  # named stations the dialplan has not acted on
        self.lost_link: set[str] = set()  # calls whose channels vanished
        self.live_at: dict[str, str] = {}  # station -> the call in its bridge (from events)
        self.ended: set[str] = set()
        self.placed: set[str] = set()
        self.paused: list[str] = []

    def tick(self) -> float:
        self.clock += 0.1
        return self.clock

    def apply(self, effects: list[Effect]) -> None:
        for effect in effects:
            if isinstance(effect, SetStation):
                self.orders.append(effect)
            else:
                self.check_event(effect)
        for order in (e for e in effects if isinstance(e, SetStation)):
            if not self.waiting(order.attempt_id):
                continue  # settled later in the same batch: its Setvar just fails
            state = self.book.stations.get(order.station)
            # Named only when present; the pool reserved it for this call alone.
            assert state is not None and state.present
            assert state.call == order.attempt_id

    def waiting(self, attempt: str) -> bool:
        inbound = self.book.inbound_call(attempt)
        if inbound is not None:
            return not inbound.bridged
        call = self.book.get(attempt)
        return call is not None and call.phase.value == "waiting"

    def check_event(self, event: TelephonyEvent) -> None:
        attempt = event.attempt_id
        assert attempt is None or not attempt.startswith("in-"), "the engine heard a call-back"
        if event.kind is EventKind.STATION_PAUSED:
            self.paused.append(event.station or "")
        if event.kind is not EventKind.STATION_KEY and attempt is not None:
            assert attempt in self.placed
            assert attempt not in self.ended, f"{attempt} had an event after its end"
        if event.kind is EventKind.BRIDGED:
            assert event.station is not None
            assert event.station not in self.live_at, "a station was given two live calls"
            self.live_at[event.station] = attempt or ""
        if event.kind in FINAL and attempt is not None:
            self.ended.add(attempt)
            for station, call in list(self.live_at.items()):
                if call == attempt:
                    del self.live_at[station]

    def calls(self, phase: str) -> list[str]:
        return sorted(
            a for a in self.book.in_flight() if (c := self.book.get(a)) and c.phase.value == phase
        )

    @rule()
    def place(self) -> None:
        self.count += 1
        attempt = f"a{self.count}"
        self.placed.add(attempt)
        self.book.placed(attempt, "0100000000", self.tick())

    @rule(data=st.data(), status=st.sampled_from(["HUMAN", "NOTSURE", "MACHINE", "HANGUP"]))
    def verdict(self, data: st.DataObject, status: str) -> None:
        dialing = self.calls("dialing")
        if dialing:
            attempt = data.draw(st.sampled_from(dialing))
            self.apply(self.book.signal(Verdict(attempt, status, f"chan-{attempt}"), self.tick()))

    @rule(data=st.data(), status=st.sampled_from(["BUSY", "NOANSWER", "CONGESTION"]))
    def dial_failed(self, data: st.DataObject, status: str) -> None:
        dialing = self.calls("dialing")
        if dialing:
            attempt = data.draw(st.sampled_from(dialing))
            self.apply(self.book.signal(DialFailed(attempt, status), self.tick()))

    @precondition(lambda self: bool(self.orders))
    @rule(data=st.data(), outcome=st.sampled_from(["bridge", "bridge", "abandon", "setvar"]))
    def dialplan(self, data: st.DataObject, outcome: str) -> None:
        order = self.orders.pop(data.draw(st.integers(0, len(self.orders) - 1)))
        if not self.waiting(order.attempt_id):
            return
        at = self.tick()
        if order.attempt_id.startswith("in-"):
            self.inbound_dialplan(order, outcome, at)
        elif outcome == "setvar":
            self.apply(self.book.setvar_failed(order.attempt_id, order.station, at))
        elif outcome == "abandon":
            self.apply(self.book.signal(Abandoned(order.attempt_id), at))
        elif order.station in self.handsets:
            self.apply(self.book.signal(Bridged(order.attempt_id, order.station), at))
        else:
            self.apply(self.book.signal(StationAbsent(order.attempt_id, order.station), at))

    def inbound_dialplan(self, order: SetStation, outcome: str, at: float) -> None:
        attempt, station = order.attempt_id, order.station
        if outcome == "setvar":
            self.apply(self.book.setvar_failed(attempt, station, at))
        elif outcome == "abandon":
            self.apply(self.book.signal(InboundGaveUp(attempt), at))
        elif station in self.handsets:
            assert station not in self.live_at, "a caller was named a station on a call"
            self.paused.clear()
            self.apply(self.book.signal(InboundBridged(attempt, station), at))
            assert self.paused == [station], "the engine must count the station as busy"
            self.live_at[station] = attempt
        else:
            self.apply(self.book.signal(StationAbsent(attempt, station), at))

    @rule()
    def voter_calls_back(self) -> None:
        self.count += 1
        attempt = f"in-{self.count}"
        self.apply(self.book.signal(InboundWaiting(attempt, f"chan-{attempt}"), self.tick()))

    @rule(data=st.data())
    def caller_hangs_up(self, data: st.DataObject) -> None:
        calls = sorted(self.book.inbound())
        if calls:
            attempt = data.draw(st.sampled_from(calls))
            self.apply(self.book.signal(CallLeft(attempt, f"chan-{attempt}"), self.tick()))
            self.forget_callers()

    def forget_callers(self) -> None:
        """Callers the book let go of are no longer in any bridge of the world."""
        for station, attempt in list(self.live_at.items()):
            if attempt.startswith("in-") and (
                attempt not in self.book.inbound() or station not in self.handsets
            ):
                del self.live_at[station]

    @rule(data=st.data())
    def voter_hangs_up(self, data: st.DataObject) -> None:
        calls = sorted(self.book.in_flight())
        if calls:
            attempt = data.draw(st.sampled_from(calls))
            self.apply(self.book.signal(CallLeft(attempt, f"chan-{attempt}"), self.tick()))

    @rule(station=st.sampled_from(STATIONS))
    def lift(self, station: str) -> None:
        self.handsets.add(station)
        self.apply(self.book.signal(StationJoined(station), self.tick()))

    @rule(station=st.sampled_from(STATIONS))
    def put_down(self, station: str) -> None:
        self.handsets.discard(station)
        self.apply(self.book.signal(StationLeft(station), self.tick()))
        self.forget_callers()

    @rule(station=st.sampled_from(STATIONS), ready=st.booleans(), by_key=st.booleans())
    def screen(self, station: str, ready: bool, by_key: bool) -> None:
        if ready and by_key:
            self.apply(self.book.signal(StationKey(station, "0"), self.tick()))
        else:
            self.apply(self.book.station_mode(station, ready, self.tick()))

    @rule(data=st.data())
    def originate_answer(self, data: st.DataObject) -> None:
        calls = self.calls("dialing")
        if calls:
            attempt = data.draw(st.sampled_from(calls))
            how = data.draw(st.sampled_from(["answered", "failed", "refused", "unknown"]))
            at = self.tick()
            if how == "answered":
                self.apply(self.book.originate_answered(attempt, at))
            elif how == "failed":
                self.apply(self.book.originate_failed(attempt, 0, at))
            elif how == "refused":
                self.apply(self.book.originate_refused(attempt, at))
            else:
                self.book.originate_unknown(attempt)

    @rule(data=st.data())
    def restart(self, data: st.DataObject) -> None:
        """The link drops and comes back: some calls and handsets are gone."""
        calls = sorted(self.book.in_flight() | self.book.inbound())
        gone = set(data.draw(st.lists(st.sampled_from(calls), unique=True))) if calls else set()
        for attempt in self.book.in_flight():
            self.book.originate_unknown(attempt)
        if data.draw(st.booleans()):
            self.handsets.clear()
        attempts = {
            a: next((s for s, c in self.live_at.items() if c == a), None)
            for a in calls
            if a not in gone
        }
        live = LiveView(attempts=attempts, stations=frozenset(self.handsets))
        self.apply(self.book.reconcile(live, self.book.seq, self.tick()))
        for station, attempt in list(self.live_at.items()):
            if attempt in gone:
                del self.live_at[station]
        self.forget_callers()

    @invariant()
    def one_call_per_station_and_one_station_per_call(self) -> None:
        holders: dict[str, str] = {}
        for station, state in self.book.stations:
            if state.call is not None:
                assert state.call not in holders, "a call holds two stations"
                holders[state.call] = station
                assert self.book.stations.holder(state.call) == station
                assert state.call in self.book.in_flight() | self.book.inbound()
            if state.bridged:
                assert state.call is not None
        for attempt in self.book.in_flight() | self.book.inbound():
            held = self.book.stations.holder(attempt)
            if held is not None:
                assert holders.get(attempt) == held, "a station was given two calls"


TestFloor = Floor.TestCase
TestFloor.settings = settings(max_examples=200, stateful_step_count=50, deadline=None)
