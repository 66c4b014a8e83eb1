"""Call-backs that ask for a volunteer (key 2 in phonebank-inbound), on the pure side.

The caller's channel carries its own id (`in-<uniqueid>`); the book puts the caller
in line with the people the dialer called and names a station the same way, but
never tells the engine about the call itself: only that the station is busy
(STATION_PAUSED) while the caller talks.
"""

from __future__ import annotations

import re

import pytest

from phonebank.ami.events import parse_event
from phonebank.dialer.telephony import EventKind, TelephonyEvent
from phonebank.telephony.calls import CallBook, Effect, LiveView, SetStation
from phonebank.telephony.reconcile import live_view
from phonebank.telephony.signals import (
    Bridged,
    CallLeft,
    InboundBridged,
    InboundGaveUp,
    InboundWaiting,
    StationAbsent,
    StationJoined,
    StationKey,
    StationLeft,
    Verdict,
    is_inbound,
    read_signal,
)
from tests.unit.test_telephony_dialplan import texts

E = EventKind
CALLER = "PJSIP/carrier-0000002a"
IN = "in-1700000000.42"
VOTER = "Local/0100000001@phonebank-outbound-00000001;1"


def events(effects: list[Effect]) -> list[tuple[EventKind, str | None, str | None]]:
    return [(e.kind, e.attempt_id, e.station) for e in effects if isinstance(e, TelephonyEvent)]


def orders(effects: list[Effect]) -> list[SetStation]:
    return [e for e in effects if isinstance(e, SetStation)]


def book_with(*stations: str, at: float = 0.0) -> CallBook:
    book = CallBook()
    for offset, station in enumerate(stations):
        book.signal(StationJoined(station), at + offset)
    return book


def test_the_dialplans_inbound_events_become_signals() -> None:
    def read(name: str, **fields: str) -> object:
        headers = {
            "Event": "UserEvent",
            "UserEvent": name,
            "Channel": CALLER,
            "ChanVariable": f"PHONEBANK_ATTEMPT={IN}",
            **{key.capitalize(): value for key, value in fields.items()},
        }
        return read_signal(parse_event(headers))

    waiting = read("PhonebankInboundWaiting", attempt=IN, caller="0612345678", channel=CALLER)
    assert waiting == InboundWaiting(IN, CALLER)
    bridged = read("PhonebankInboundBridged", attempt=IN, caller="0612345678", station="7")
    assert bridged == InboundBridged(IN, "7")
    assert read("PhonebankInboundNobody", attempt=IN, waited="20001") == InboundGaveUp(IN)
    # Whatever the technology, the hang-up of the caller's channel ends the call-back...
    hangup = parse_event(
        {"Event": "Hangup", "Channel": CALLER, "ChanVariable": f"PHONEBANK_ATTEMPT={IN}"}
    )
    assert read_signal(hangup) == CallLeft(IN, CALLER)
    leave = {
        "Event": "ConfbridgeLeave",
        "Conference": "phonebank-station-7",
        "Channel": CALLER,
        "Context": "phonebank-inbound",
        "ChanVariable": f"PHONEBANK_ATTEMPT={IN}",
    }
    assert read_signal(parse_event(leave)) == CallLeft(IN, CALLER)
    # ...while an outbound call is still ended by its answered leg alone.
    carrier = parse_event(
        {"Event": "Hangup", "Channel": "PJSIP/carrier-1", "ChanVariable": "PHONEBANK_ATTEMPT=a1"}
    )
    assert read_signal(carrier) is None
    assert is_inbound(IN) and not is_inbound("a1")


def test_the_dialplan_gives_the_call_back_its_id_before_any_event() -> None:
    text = texts()["extensions.conf"]
    inbound = text.split("[phonebank-inbound]", 1)[1].split("\n[", 1)[0]
    first = inbound.index("Set(PHONEBANK_ATTEMPT=in-${UNIQUEID})")
    assert first < inbound.index("UserEvent(")
    for event in ("PhonebankInboundWaiting", "PhonebankInboundBridged", "PhonebankInboundNobody"):
        assert re.search(rf"UserEvent\({event},Attempt: \$\{{PHONEBANK_ATTEMPT\}}", inbound)


def test_a_caller_gets_a_free_station_and_the_engine_only_hears_it_is_busy() -> None:
    book = book_with("1", "2", at=10.0)
    effects = book.signal(InboundWaiting(IN, CALLER), 20.0)
    assert orders(effects) == [SetStation(IN, CALLER, "1")]
    assert events(effects) == []
    assert events(book.signal(InboundBridged(IN, "1"), 20.02)) == [(E.STATION_PAUSED, None, "1")]
    assert IN not in book.in_flight() and IN in book.inbound()
    # The screen saying "ready" during the call means nothing.
    assert book.station_mode("1", True, 30.0) == []
    # A keypad code is about the station's last outbound call, never the call-back.
    key = book.signal(StationKey("1", "3"), 31.0)
    assert [(e.kind, e.attempt_id) for e in key if isinstance(e, TelephonyEvent)] == [
        (E.STATION_KEY, None)
    ]
    # The caller hangs up: silence, and the station stays in wrap-up...
    assert book.signal(CallLeft(IN, CALLER), 60.0) == []
    assert IN not in book.inbound()
    book.placed("a1", "0100000001", 61.0)
    assert orders(book.signal(Verdict("a1", "HUMAN", VOTER), 62.0)) == [
        SetStation("a1", VOTER, "2")
    ]
    book.signal(Bridged("a1", "2"), 62.02)
    book.placed("a2", "0100000002", 63.0)
    assert orders(book.signal(Verdict("a2", "HUMAN", "chan2"), 64.0)) == []
    # ...until the volunteer says ready (*0): then the person waiting gets it.
    effects = book.signal(StationKey("1", "0"), 65.0)
    assert events(effects) == [(E.STATION_READY, None, "1")]
    assert orders(effects) == [SetStation("a2", "chan2", "1")]


def test_callers_and_dialled_people_wait_in_one_line_first_come_first() -> None:
    book = book_with()
    book.placed("a1", "0100000001", 0.0)
    book.signal(Verdict("a1", "HUMAN", VOTER), 1.0)
    book.signal(InboundWaiting(IN, CALLER), 2.0)
    book.placed("a2", "0100000002", 2.5)
    book.signal(Verdict("a2", "HUMAN", "chan2"), 3.0)
    assert orders(book.signal(StationJoined("1"), 4.0)) == [SetStation("a1", VOTER, "1")]
    assert orders(book.signal(StationJoined("2"), 5.0)) == [SetStation(IN, CALLER, "2")]
    assert orders(book.signal(StationJoined("3"), 6.0)) == [SetStation("a2", "chan2", "3")]


def test_a_caller_who_gives_up_or_hangs_up_while_waiting_just_leaves_the_line() -> None:
    book = book_with()
    other = "in-1700000000.43"
    book.signal(InboundWaiting(IN, CALLER), 1.0)
    book.signal(InboundWaiting(other, "PJSIP/carrier-2"), 2.0)
    assert book.signal(InboundGaveUp(IN), 21.0) == []
    assert book.signal(CallLeft(other, "PJSIP/carrier-2"), 22.0) == []
    assert book.inbound() == frozenset()
    book.placed("a1", "0100000001", 23.0)
    book.signal(Verdict("a1", "HUMAN", VOTER), 24.0)
    assert orders(book.signal(StationJoined("1"), 25.0)) == [SetStation("a1", VOTER, "1")]


def test_a_station_named_for_a_caller_who_leaves_is_free_again_not_in_wrap_up() -> None:
    book = book_with("1")
    assert orders(book.signal(InboundWaiting(IN, CALLER), 1.0)) == [SetStation(IN, CALLER, "1")]
    # The dialplan's time-out crossed the Setvar: the station was never used.
    assert book.signal(InboundGaveUp(IN), 21.0) == []
    book.placed("a1", "0100000001", 22.0)
    assert orders(book.signal(Verdict("a1", "HUMAN", VOTER), 23.0)) == [
        SetStation("a1", VOTER, "1")
    ]


def test_a_failed_setvar_frees_the_station_and_an_absent_one_puts_the_caller_back() -> None:
    book = book_with("1", "2")
    assert orders(book.signal(InboundWaiting(IN, CALLER), 1.0)) == [SetStation(IN, CALLER, "1")]
    # The Setvar failed: the channel is gone (its hang-up follows); station 1 is free.
    assert book.setvar_failed(IN, "1", 1.1) == []
    state = book.stations.get("1")
    assert state is not None and state.free
    other = "in-1700000000.43"
    assert orders(book.signal(InboundWaiting(other, "PJSIP/carrier-2"), 1.2)) == [
        SetStation(other, "PJSIP/carrier-2", "1")
    ]
    effects = book.signal(StationAbsent(other, "1"), 1.3)
    assert events(effects) == [(E.STATION_LOGGED_OUT, None, "1")]
    assert orders(effects) == [SetStation(other, "PJSIP/carrier-2", "2")]


def test_a_station_put_down_during_a_call_back_ends_it_without_an_event_for_it() -> None:
    book = book_with("1")
    book.signal(InboundWaiting(IN, CALLER), 1.0)
    book.signal(InboundBridged(IN, "1"), 1.1)
    assert events(book.signal(StationLeft("1"), 5.0)) == [(E.STATION_LOGGED_OUT, None, "1")]
    assert book.inbound() == frozenset()
    assert book.signal(CallLeft(IN, CALLER), 5.1) == []
    # Lifted again: ready at once, as any handset that comes back.
    assert events(book.signal(StationJoined("1"), 6.0)) == [(E.STATION_READY, None, "1")]


def test_reconciling_keeps_a_talking_caller_and_forgets_a_vanished_one() -> None:
    book = book_with("1", "2")
    other = "in-1700000000.43"
    book.signal(InboundWaiting(IN, CALLER), 1.0)
    book.signal(InboundWaiting(other, "PJSIP/carrier-2"), 1.0)
    # Only the first is still there, and Asterisk says it is in station 1's bridge.
    live = LiveView(attempts={IN: "1"}, stations=frozenset({"1", "2"}))
    effects = book.reconcile(live, book.seq, 2.0)
    assert events(effects) == [(E.STATION_PAUSED, None, "1")]
    assert book.inbound() == frozenset({IN})
    held = book.stations.get("2")
    assert held is not None and held.free
    # A call-back another process put through (we restarted) holds its station.
    book = book_with("1")
    effects = book.reconcile(LiveView({IN: "1"}, frozenset({"1"})), book.seq, 3.0)
    assert all(e.attempt_id is None for e in effects if isinstance(e, TelephonyEvent))
    book.placed("a1", "0100000001", 4.0)
    assert orders(book.signal(Verdict("a1", "HUMAN", VOTER), 5.0)) == []


def test_asterisks_list_places_a_call_back_in_its_bridge() -> None:
    channels = [
        {
            "Event": "CoreShowChannel",
            "Channel": CALLER,
            "Application": "ConfBridge",
            "ApplicationData": "phonebank-station-7,phonebank-bridge,phonebank-voter",
            "ChanVariable": f"PHONEBANK_ATTEMPT={IN}",
        }
    ]
    assert live_view(channels, []).attempts == {IN: "7"}


def test_the_engine_never_dials_an_id_that_reads_as_a_call_back() -> None:
    with pytest.raises(ValueError, match="call-back"):
        CallBook().placed(IN, "0100000001", 0.0)
