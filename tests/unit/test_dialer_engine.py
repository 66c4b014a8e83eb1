"""The dialer engine on a fake telephony and a simulated clock: planned calls, new
event kinds, stations that come and go, the failure breaker."""

from __future__ import annotations

import itertools

from phonebank.db.enums import DialMode
from phonebank.dialer.engine import DialerEngine, FailureBreaker, PlannedCall
from phonebank.dialer.floor import CampaignSettings, StationState
from phonebank.dialer.pacing import ProgressivePolicy
from phonebank.dialer.telephony import EventKind, Listener, TelephonyEvent


class FakePhones:
    def __init__(self) -> None:
        self.dialled: list[tuple[str, str, float]] = []
        self.listener: Listener | None = None

    def set_listener(self, listener: Listener) -> None:
        self.listener = listener

    def originate(self, attempt_id: str, number: str, now: float) -> None:
        self.dialled.append((attempt_id, number, now))


def make(
    stations: tuple[str, ...] = ("s1", "s2"),
    numbers: int = 100,
    lines_cap: int | None = None,
    breaker: FailureBreaker | None = None,
) -> tuple[DialerEngine, FakePhones, list[float]]:
    phones = FakePhones()
    asked: list[float] = []
    ids = itertools.count(100)

    def next_call(now: float) -> PlannedCall | None:
        asked.append(now)
        if len(asked) > numbers:
            return None
        n = next(ids)
        return PlannedCall(str(n), f"+3361000{n:04d}")

    engine = DialerEngine(
        settings=CampaignSettings(mode=DialMode.PROGRESSIVE, lines_cap=lines_cap),
        policy=ProgressivePolicy(),
        telephony=phones,
        next_call=next_call,
        stations=stations,
        breaker=breaker,
    )
    phones.set_listener(engine.handle)
    return engine, phones, asked


def ev(
    kind: EventKind, at: float, attempt: str | None = None, station: str | None = None
) -> TelephonyEvent:
    return TelephonyEvent(kind, at, attempt, station)


def test_the_caller_plans_each_call_and_its_attempt_id_travels() -> None:
    engine, phones, asked = make()
    assert engine.tick(1.0) == 2
    assert [d[0] for d in phones.dialled] == ["100", "101"]
    assert phones.dialled[0][1] == "+33610000100"
    assert asked == [1.0, 1.0]  # the clock is handed to the planner
    assert engine.in_flight == {"100", "101"}


def test_no_planned_call_means_nothing_placed() -> None:
    engine, phones, _ = make(numbers=1)
    assert engine.tick(0.0) == 1
    engine.handle(ev(EventKind.BUSY, 2.0, "100"))
    assert engine.tick(3.0) == 0  # the planner has no more leads
    assert len(phones.dialled) == 1


def test_failed_and_lost_free_the_line_without_teaching_the_pacer() -> None:
    engine, _phones, _ = make()
    engine.tick(0.0)
    before = engine.stats.shares.observed
    engine.handle(ev(EventKind.FAILED, 0.5, "100"))
    engine.handle(ev(EventKind.LOST, 0.6, "101"))
    assert engine.in_flight == set()
    assert engine.stats.shares.observed == before
    assert engine.tick(1.0) == 2  # both lines free again


def test_lost_bridged_call_puts_the_station_in_wrap_up() -> None:
    engine, _, _ = make(stations=("s1",))
    engine.tick(0.0)
    engine.handle(ev(EventKind.ANSWERED_HUMAN, 5.0, "100"))
    engine.handle(ev(EventKind.BRIDGED, 5.2, "100", "s1"))
    assert engine.stations["s1"].state is StationState.TALKING
    engine.handle(ev(EventKind.LOST, 60.0, "100"))
    assert engine.stations["s1"].state is StationState.WRAP_UP
    assert engine.in_flight == set()
    assert engine.stats.talk.count == 1


def test_stations_join_and_leave_at_run_time() -> None:
    engine, phones, _ = make(stations=())
    assert engine.tick(0.0) == 0  # nobody logged in: nothing to pace for
    engine.handle(ev(EventKind.STATION_READY, 1.0, station="s7"))  # lifted the handset
    assert engine.tick(1.0) == 1
    engine.handle(ev(EventKind.STATION_PAUSED, 2.0, station="s8"))
    assert engine.stations["s8"].state is StationState.PAUSED
    engine.handle(ev(EventKind.STATION_LOGGED_OUT, 3.0, station="s7"))
    engine.handle(ev(EventKind.NO_ANSWER, 25.0, "100"))
    assert engine.tick(26.0) == 0  # s7 left, s8 is paused
    assert set(engine.stations) == {"s8"}
    engine.handle(ev(EventKind.STATION_READY, 30.0, station="s7"))  # back again
    assert engine.tick(30.0) == 1
    assert len(phones.dialled) == 2


def test_a_station_bridged_before_it_was_known_joins_talking() -> None:
    engine, _, _ = make(stations=("s1",))
    engine.tick(0.0)
    engine.handle(ev(EventKind.BRIDGED, 4.0, "100", "s9"))
    assert engine.stations["s9"].state is StationState.TALKING
    engine.handle(ev(EventKind.HUNG_UP, 50.0, "100", "s9"))
    assert engine.stations["s9"].state is StationState.WRAP_UP
    engine.handle(ev(EventKind.HUNG_UP, 51.0, "999", "ghost"))
    assert "ghost" not in engine.stations  # an end of call never logs a station in


def test_station_key_changes_nothing_on_the_floor() -> None:
    engine, _, _ = make(stations=("s1",))
    engine.handle(TelephonyEvent(EventKind.STATION_KEY, 1.0, None, "s1", detail="5"))
    assert engine.stations["s1"].state is StationState.READY


def test_breaker_pauses_placing_after_a_run_of_failures() -> None:
    engine, phones, _ = make(stations=("s1",), breaker=FailureBreaker(threshold=3, first_pause=10))
    t = 0.0
    for _ in range(3):
        assert engine.tick(t) == 1
        engine.handle(ev(EventKind.FAILED, t + 0.1, phones.dialled[-1][0]))
        t += 1.0
    # The third failure came at 2.1 s.
    assert engine.tick(t) == 0  # held: the trunk looks dead
    assert engine.tick(12.0) == 0
    assert engine.tick(12.1) == 1  # 10 s after the third failure
    engine.handle(ev(EventKind.FAILED, 12.2, phones.dialled[-1][0]))
    engine.handle(ev(EventKind.FAILED, 12.2, "unknown"))  # not ours: not counted
    assert engine.breaker.failures == 1
    assert engine.tick(13.0) == 1
    engine.handle(ev(EventKind.BUSY, 14.0, phones.dialled[-1][0]))
    assert engine.breaker.failures == 0 and engine.breaker.pause == 0.0


def test_breaker_pause_doubles_up_to_its_cap() -> None:
    breaker = FailureBreaker(threshold=1, first_pause=5, max_pause=12)
    breaker.failed(0.0)
    assert breaker.holding(4.9) and not breaker.holding(5.0)
    breaker.failed(5.0)
    assert breaker.hold_until == 15.0
    breaker.failed(15.0)
    assert breaker.hold_until == 27.0  # 12, not 20


def test_lines_cap_holds_with_planned_calls() -> None:
    engine, _phones, _ = make(stations=("a", "b", "c"), lines_cap=2)
    assert engine.tick(0.0) == 2
    assert engine.tick(1.0) == 0


def test_carry_over_counts_the_days_earlier_answers() -> None:
    engine, _, _ = make()
    engine.carry_over(100, 4)
    assert engine.stats.abandon_rate == 0.04


def test_mux_routes_each_campaigns_events_back_to_it() -> None:
    from phonebank.dialer.mux import TelephonyMux

    phones = FakePhones()
    owners = {"s1": 2}
    mux = TelephonyMux(phones, owners.get)
    got: dict[int, list[TelephonyEvent]] = {1: [], 2: []}
    one, two = mux.view(1), mux.view(2)
    assert phones.listener is not None
    phones.listener(ev(EventKind.STATION_READY, 0.0, station="s1"))  # before anyone listens
    one.set_listener(got[1].append)
    two.set_listener(got[2].append)
    assert [e.station for e in got[2]] == ["s1"] and not got[1]  # replayed to its owner
    one.originate("10", "+33100000001", 1.0)
    two.originate("20", "+33100000002", 1.0)
    assert [d[0] for d in phones.dialled] == ["10", "20"]
    phones.listener(ev(EventKind.BRIDGED, 5.0, "10", "s3"))
    phones.listener(ev(EventKind.BUSY, 5.0, "20"))
    phones.listener(ev(EventKind.STATION_PAUSED, 6.0, station="s3"))  # s3 last took a call of 1
    phones.listener(ev(EventKind.STATION_KEY, 7.0, station="s9"))  # unknown: the first campaign
    phones.listener(ev(EventKind.NO_ANSWER, 8.0, "20"))  # already ended: nobody's
    assert [(e.kind, e.attempt_id) for e in got[1]] == [
        (EventKind.BRIDGED, "10"), (EventKind.STATION_PAUSED, None), (EventKind.STATION_KEY, None),
    ]  # fmt: skip
    assert [(e.kind, e.attempt_id) for e in got[2]] == [
        (EventKind.STATION_READY, None), (EventKind.BUSY, "20"),
    ]  # fmt: skip
    mux.drop(1)
    phones.listener(ev(EventKind.HUNG_UP, 9.0, "10", "s3"))
    assert len(got[1]) == 3


def test_abandon_guard_holds_a_predictive_campaign_to_progressive() -> None:
    from datetime import date
    from typing import Any, cast

    from phonebank.dialer.abandon import AbandonFigures
    from phonebank.dialer.accounting import AbandonReport
    from phonebank.dialer.campaign import CampaignConfig
    from phonebank.dialer.runner import CampaignRunner, FloorPacer
    from phonebank.dialer.writer import LedgerWriter
    from phonebank.lists.windows import parse_window

    settings = CampaignSettings(mode=DialMode.PREDICTIVE)
    runner = CampaignRunner(
        campaign=CampaignConfig(1, "c", settings, parse_window(None)),
        telephony=FakePhones(),
        writer=LedgerWriter(cast(Any, None)),
        clock=lambda: 0.0,
    )
    engine, _, _ = make(stations=("s1",))
    engine.settings = settings
    runner.engine = engine

    def report(today: tuple[int, int], rolling: tuple[int, int]) -> AbandonReport:
        return AbandonReport(
            1, date(2026, 11, 24), AbandonFigures(*today, 0.0), AbandonFigures(*rolling, 0.0), 0.03
        )

    runner._apply_guard(report((100, 2), (1000, 20)))
    assert engine.settings.mode is DialMode.PREDICTIVE and not runner.throttled
    runner._apply_guard(report((100, 2), (1000, 31)))  # 30 days over target
    assert engine.settings.mode is DialMode.PROGRESSIVE and runner.throttled
    runner._apply_guard(report((100, 4), (1000, 25)))  # today over target
    assert engine.settings.mode is DialMode.PROGRESSIVE
    runner._apply_guard(report((200, 4), (1100, 29)))
    assert engine.settings.mode is DialMode.PREDICTIVE and not runner.throttled
    assert runner.report is not None and runner.report.today.live_answers == 200
    # One volunteer, no line up: the bare pacer may place nothing; the floor pacer one.
    snapshot = engine.snapshot()
    assert snapshot.ready == 1
    assert FloorPacer().decide(snapshot, engine.stats, 0.0) >= 1
