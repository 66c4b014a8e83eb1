"""The wallboard reads a real dialer service: its runners' engines, abandon reports and
the guard's throttle, through `DialerLink` (attached after the dialer starts)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date

import pytest
from sqlalchemy import Engine

from phonebank.ami import AmiClient
from phonebank.db.engine import make_engine
from phonebank.dialer.abandon import AbandonFigures
from phonebank.dialer.accounting import AbandonReport
from phonebank.dialer.campaign import CampaignConfig
from phonebank.dialer.floor import CampaignSettings, StationState
from phonebank.dialer.runner import CampaignRunner, default_engine
from phonebank.dialer.service import DialerService, _Running
from phonebank.dialer.telephony import EventKind, Listener, TelephonyEvent
from phonebank.lists.windows import parse_window
from phonebank.supervisor.floor import Abandon
from phonebank.supervisor.source import DialerLink
from phonebank.telephony.adapter import AmiTelephony
from phonebank.telephony.originate import CallSettings

NOW = 1_800_000_000.0


class QuietPhones:
    """Places nothing: the test feeds the engine its events itself."""

    def set_listener(self, listener: Listener) -> None:
        self.listener = listener

    def originate(
        self, attempt_id: str, number: str, now: float, *, station: str | None = None
    ) -> None:
        raise AssertionError("the wallboard must never place a call")


@pytest.fixture
def engine(sqlite_url: str) -> Iterator[Engine]:
    built = make_engine(sqlite_url)
    yield built
    built.dispose()


def test_the_link_reads_the_runners_floor(engine: Engine) -> None:
    link = DialerLink()
    assert (link.attached, link.live(), dict(link.abandon()), link.handsets()) == (
        False,
        (),
        {},
        None,
    )
    phones = QuietPhones()
    service = DialerService(engine=engine, telephony=phones)
    config = CampaignConfig(7, "Lyon", CampaignSettings(), parse_window(None))
    runner = CampaignRunner(
        campaign=config, telephony=phones, writer=service.writer, clock=lambda: NOW
    )
    service.running[7] = _Running(runner)
    link.attach(service)
    assert link.live() == ()  # the runner's engine is not up yet
    runner.engine = default_engine(config, phones, lambda _now: None, NOW)
    for event in (
        TelephonyEvent(EventKind.STATION_READY, NOW - 30, station="1"),
        TelephonyEvent(EventKind.STATION_READY, NOW - 20, station="2"),
        TelephonyEvent(EventKind.BRIDGED, NOW - 10, attempt_id="a1", station="1"),
    ):
        runner.engine.handle(event)
    runner.throttled = True
    runner.report = AbandonReport(
        campaign_id=7,
        day=date(2027, 1, 15),
        today=AbandonFigures(live_answers=50, abandoned=2, false_positives=0.0),
        rolling=AbandonFigures(live_answers=500, abandoned=10, false_positives=0.0),
        target=0.03,
    )
    (live,) = link.live()
    assert (live.campaign_id, live.name, live.mode, live.bridged, live.throttled) == (
        7,
        "Lyon",
        "predictive",
        1,
        True,
    )
    assert live.stations["1"].state is StationState.TALKING and live.stations["1"].since == NOW - 10
    assert live.stations["2"].state is StationState.READY
    assert link.abandon() == {7: Abandon(0.04, 0.02, 0.03, 50)}
    assert link.handsets() is None  # not Asterisk's telephony: presence unknown


def test_handsets_off_the_hook_come_from_asterisks_station_pool(engine: Engine) -> None:
    # A client never connected: the pool is what is read, no action is sent.
    ami = AmiClient(host="127.0.0.1", port=9, username="phonebank", secret="unused")
    telephony = AmiTelephony(ami, CallSettings(caller_id=""), clock=lambda: NOW)
    link = DialerLink()
    link.attach(DialerService(engine=engine, telephony=telephony))
    assert link.handsets() == frozenset()
    telephony.book.stations.join("5", NOW)
    assert link.handsets() == frozenset({"5"})
