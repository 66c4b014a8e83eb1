"""The adapter's memory of calls and stations (pure), on hand-made signals and on a
transcript recorded from the real Asterisk (tests/fixtures/ami/calls.txt)."""

from __future__ import annotations

from pathlib import Path

import pytest

from phonebank.ami.events import OriginateResponse, parse_event
from phonebank.ami.wire import split_messages
from phonebank.dialer.telephony import EventKind, TelephonyEvent
from phonebank.telephony.calls import CallBook, Effect, LiveView, SetStation
from phonebank.telephony.signals import (
    Abandoned,
    Bridged,
    CallLeft,
    DialFailed,
    StationAbsent,
    StationJoined,
    StationKey,
    StationLeft,
    Verdict,
    read_signal,
)
from phonebank.telephony.stations import StationPool

E = EventKind
VOTER = "Local/0100000001@phonebank-outbound-00000001;1"
TRANSCRIPT = Path(__file__).parent.parent / "fixtures" / "ami" / "calls.txt"


def events(effects: list[Effect]) -> list[tuple[EventKind, str | None, str | None]]:
    return [(e.kind, e.attempt_id, e.station) for e in effects if isinstance(e, TelephonyEvent)]


def orders(effects: list[Effect]) -> list[SetStation]:
    return [e for e in effects if isinstance(e, SetStation)]


def book_with(*stations: str, at: float = 0.0) -> CallBook:
    book = CallBook()
    for offset, station in enumerate(stations):
        book.signal(StationJoined(station), at + offset)
    return book


def test_a_person_gets_the_station_ready_longest_and_the_call_runs_its_course() -> None:
    book = book_with("1", "2", at=10.0)  # 1 ready since 10, 2 since 11
    book.placed("a1", "0100000001", 20.0)
    effects = book.signal(Verdict("a1", "HUMAN", VOTER), 25.0)
    assert events(effects) == [(E.ANSWERED_HUMAN, "a1", None)]
    assert orders(effects) == [SetStation("a1", VOTER, "1")]
    assert events(book.signal(Bridged("a1", "1"), 25.02)) == [(E.BRIDGED, "a1", "1")]
    assert events(book.signal(CallLeft("a1", VOTER), 90.0)) == [(E.HUNG_UP, "a1", "1")]
    assert "a1" not in book
    # Wrap-up: the station takes no call until the volunteer is ready again.
    book.placed("a2", "0100000002", 91.0)
    assert orders(book.signal(Verdict("a2", "HUMAN", "chan2"), 92.0)) == [
        SetStation("a2", "chan2", "2")
    ]
    effects = book.signal(StationKey("1", "0"), 95.0)
    assert events(effects) == [(E.STATION_READY, None, "1")]


def test_one_final_event_per_call_and_late_events_are_ignored() -> None:
    book = book_with()
    book.placed("a1", "0300000001", 0.0)
    assert events(book.signal(DialFailed("a1", "BUSY"), 1.0)) == [(E.BUSY, "a1", None)]
    assert book.signal(CallLeft("a1", VOTER), 1.1) == []
    assert book.originate_failed("a1", 0, 1.2) == []
    assert book.signal(Verdict("a1", "HUMAN", VOTER), 1.3) == []


def test_machines_and_callees_who_hang_up_during_amd() -> None:
    book = book_with()
    for attempt in ("m", "h", "g"):
        book.placed(attempt, "0200000001", 0.0)
    assert events(book.signal(Verdict("m", "MACHINE", "c"), 3.0)) == [
        (E.ANSWERED_MACHINE, "m", None)
    ]
    assert events(book.signal(Verdict("h", "HANGUP", "c"), 3.0)) == [(E.NO_ANSWER, "h", None)]
    # Hung up before AMD said anything: nothing until the Originate says it was answered.
    assert book.signal(CallLeft("g", VOTER), 2.0) == []
    assert events(book.originate_answered("g", 2.1)) == [(E.NO_ANSWER, "g", None)]


def test_a_failed_originate_falls_back_on_asterisks_reason() -> None:
    book = book_with()
    book.placed("a1", "0600000000", 0.0)
    book.signal(CallLeft("a1", VOTER), 1.0)
    assert events(book.originate_failed("a1", 0, 2.0)) == [(E.FAILED, "a1", None)]
    book.placed("a2", "0600000000", 0.0)
    assert events(book.originate_refused("a2", 0.1)) == [(E.FAILED, "a2", None)]
    book.placed("a3", "x", 0.0)
    assert events(book.not_a_number("a3", 0.1)) == [(E.INVALID, "a3", None)]


def test_an_attempt_is_never_placed_twice() -> None:
    book = book_with()
    book.placed("a1", "0100000001", 0.0)
    with pytest.raises(ValueError, match="never dialled twice"):
        book.placed("a1", "0100000001", 1.0)


def test_no_free_station_the_person_waits_then_is_abandoned() -> None:
    book = book_with()
    book.placed("a1", "0100000001", 0.0)
    assert orders(book.signal(Verdict("a1", "HUMAN", VOTER), 2.0)) == []
    assert events(book.signal(Abandoned("a1"), 3.2)) == [(E.ABANDONED, "a1", None)]
    book.placed("a2", "0100000002", 4.0)
    book.signal(Verdict("a2", "HUMAN", "c2"), 5.0)
    # A person who hangs up while waiting was not put through either.
    assert events(book.signal(CallLeft("a2", "c2"), 5.5)) == [(E.ABANDONED, "a2", None)]


def test_a_station_freed_while_someone_waits_is_named_at_once() -> None:
    book = book_with()
    book.placed("a1", "0100000001", 0.0)
    book.signal(Verdict("a1", "HUMAN", VOTER), 2.0)
    effects = book.signal(StationJoined("5"), 2.5)
    assert events(effects) == [(E.STATION_READY, None, "5")]
    assert orders(effects) == [SetStation("a1", VOTER, "5")]


def test_an_absent_station_is_logged_out_and_another_one_named() -> None:
    book = book_with("1", "2")
    book.placed("a1", "0100000001", 0.0)
    assert orders(book.signal(Verdict("a1", "HUMAN", VOTER), 2.0))[0].station == "1"
    effects = book.signal(StationAbsent("a1", "1"), 2.05)
    assert events(effects) == [(E.STATION_LOGGED_OUT, None, "1")]
    assert orders(effects) == [SetStation("a1", VOTER, "2")]


def test_a_failed_setvar_frees_the_station_for_the_next_person() -> None:
    book = book_with("1")
    book.placed("a1", "0100000001", 0.0)
    book.placed("a2", "0100000002", 0.0)
    book.signal(Verdict("a1", "HUMAN", VOTER), 2.0)
    book.signal(Verdict("a2", "HUMAN", "c2"), 2.0)
    assert orders(book.setvar_failed("a1", "1", 2.1)) == [SetStation("a2", "c2", "1")]


def test_the_handset_put_down_during_a_call_ends_it_first() -> None:
    book = book_with("1")
    book.placed("a1", "0100000001", 0.0)
    book.signal(Verdict("a1", "HUMAN", VOTER), 2.0)
    book.signal(Bridged("a1", "1"), 2.1)
    assert events(book.signal(StationLeft("1"), 30.0)) == [
        (E.HUNG_UP, "a1", "1"),
        (E.STATION_LOGGED_OUT, None, "1"),
    ]
    assert book.signal(CallLeft("a1", VOTER), 30.1) == []


def test_screen_pause_and_ready() -> None:
    book = book_with("1")
    assert events(book.station_mode("1", False, 5.0)) == [(E.STATION_PAUSED, None, "1")]
    assert book.station_mode("1", False, 6.0) == []  # no change, no event
    book.placed("a1", "0100000001", 0.0)
    assert orders(book.signal(Verdict("a1", "HUMAN", VOTER), 7.0)) == []
    effects = book.station_mode("1", True, 8.0)
    assert events(effects) == [(E.STATION_READY, None, "1")]
    assert orders(effects) == [SetStation("a1", VOTER, "1")]
    # Not present: remembered, not announced.
    assert book.station_mode("9", True, 9.0) == []


def test_keys_other_than_zero_name_the_last_call() -> None:
    book = book_with("1")
    book.placed("a1", "0100000001", 0.0)
    book.signal(Verdict("a1", "HUMAN", VOTER), 2.0)
    book.signal(Bridged("a1", "1"), 2.1)
    [key] = book.signal(StationKey("1", "3"), 20.0)
    assert key == TelephonyEvent(E.STATION_KEY, 20.0, "a1", "1", detail="3")
    # *0 during the call changes nothing: the call ends in wrap-up anyway.
    assert book.signal(StationKey("1", "0"), 21.0) == []


def test_reconciling_after_a_restart() -> None:
    book = book_with("1", "2")
    for attempt in ("ring", "talk", "live", "new"):
        book.placed(attempt, "0100000001", 0.0)
    book.signal(Verdict("talk", "HUMAN", VOTER), 2.0)
    book.signal(Bridged("talk", "1"), 2.1)
    for attempt in ("ring", "talk", "live"):
        book.originate_unknown(attempt)
    asked = book.seq
    # After the question: the new call's Originate is still out, station 3 joins.
    book.signal(StationJoined("3"), 3.0)
    live = LiveView(attempts={"live": None, "new": None}, stations=frozenset({"2"}))
    assert events(book.reconcile(live, asked, 4.0)) == [
        (E.LOST, "ring", None),
        (E.LOST, "talk", "1"),
        (E.STATION_LOGGED_OUT, None, "1"),
    ]
    assert book.in_flight() == {"live", "new"}
    assert book.stations.present() == {"2", "3"}


def test_reconciling_finds_a_call_bridged_while_the_link_was_down() -> None:
    book = book_with("4")
    book.placed("a1", "0100000001", 0.0)
    book.originate_unknown("a1")
    live = LiveView(attempts={"a1": "4"}, stations=frozenset({"4", "5"}))
    assert events(book.reconcile(live, book.seq, 5.0)) == [
        (E.BRIDGED, "a1", "4"),
        (E.STATION_READY, None, "5"),
    ]


def test_after_our_own_restart_a_station_talking_to_an_earlier_voter_stays_busy() -> None:
    # A fresh process (empty book) finds stations 1 and 2 off the hook; station 1 is
    # still talking to a voter the crashed process had put through.
    book = CallBook()
    live = LiveView(attempts={"old-7": "1"}, stations=frozenset({"1", "2"}))
    book.reconcile(live, book.seq, 100.0)
    book.placed("a1", "0100000001", 101.0)
    assert orders(book.signal(Verdict("a1", "HUMAN", VOTER), 103.0)) == [
        SetStation("a1", VOTER, "2")
    ]
    book.signal(Bridged("a1", "2"), 103.1)
    # Nobody else is free while the earlier voter talks: the next person waits.
    book.placed("a2", "0100000002", 104.0)
    assert orders(book.signal(Verdict("a2", "HUMAN", "chan2"), 105.0)) == []
    # The earlier call ends: no event for the engine (it never knew it), and station 1
    # takes the person waiting.
    effects = book.signal(CallLeft("old-7", "Local/0600000000@phonebank-outbound-x;1"), 106.0)
    assert events(effects) == []
    assert orders(effects) == [SetStation("a2", "chan2", "1")]


def test_the_inventory_limits_the_stations() -> None:
    book = CallBook(StationPool(allowed={"1"}))
    assert book.signal(StationJoined("99"), 0.0) == []
    assert events(book.signal(StationJoined("1"), 0.0)) == [(E.STATION_READY, None, "1")]
    assert book.signal(StationKey("99", "3"), 1.0) == []


def replay() -> list[tuple[EventKind, str | None, str | None, str | None]]:
    """Feed the recorded events through the book as the adapter does.

    A failed Originate waits for the dialplan's reason (here: until the end)."""
    messages, _ = split_messages(TRANSCRIPT.read_bytes())
    book = CallBook()
    seen: list[Effect] = []
    failed: list[tuple[str, int | None]] = []
    attempts = ("rec-human", "rec-abandoned", "rec-machine", "rec-busy", "rec-invalid")
    for attempt in (*attempts, "rec-noanswer"):
        book.placed(attempt, "0", 0.0)
    for at, message in enumerate(messages):
        event = parse_event(message)
        if isinstance(event, OriginateResponse):
            ours = next((a for a in book.in_flight() if f"-{a}-" in event.action_id), None)
            if ours is None:
                continue
            if event.success:
                seen += book.originate_answered(ours, at)
            else:
                failed.append((ours, event.reason))
            continue
        signal = read_signal(event)
        if signal is not None:
            seen += book.signal(signal, float(at))
    for attempt, reason in failed:
        seen += book.originate_failed(attempt, reason, 999.0)
    return [
        (e.kind, e.attempt_id, e.station, e.detail) for e in seen if isinstance(e, TelephonyEvent)
    ]


def test_the_recorded_floor_comes_out_right() -> None:
    got = replay()

    def of(attempt: str) -> list[tuple[EventKind, str | None]]:
        return [(k, s) for k, a, s, _ in got if a == attempt and k is not E.STATION_KEY]

    assert of("rec-human") == [(E.ANSWERED_HUMAN, None), (E.BRIDGED, "7001"), (E.HUNG_UP, "7001")]
    assert of("rec-abandoned") == [(E.ANSWERED_HUMAN, None), (E.ABANDONED, None)]
    assert of("rec-machine") == [(E.ANSWERED_MACHINE, None)]
    assert of("rec-busy") == [(E.BUSY, None)]
    assert of("rec-invalid") == [(E.INVALID, None)]
    assert of("rec-noanswer") == [(E.NO_ANSWER, None)]
    station = [(k, a, detail) for k, a, s, detail in got if s == "7001" and k.startswith("station")]
    assert station == [
        (E.STATION_READY, None, None),
        (E.STATION_KEY, "rec-human", "3"),  # pressed during the call
        (E.STATION_READY, None, None),  # *0 after it
        (E.STATION_LOGGED_OUT, None, None),
    ]
