"""The dialer on Asterisk, for the composition root: AMI telephony, runners, metrics.

One `AmiTelephony` on the service's AMI link carries the calls of every active
campaign (`DialerService` gives each runner its share). Its events are counted in
the metrics before the runners see them, and the floor's gauges are refreshed every
couple of seconds from the runners' engines.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable

from sqlalchemy import func, select
from sqlalchemy.engine import Engine

from phonebank.ami.client import AmiClient
from phonebank.calls.keypad import KeypadOutcomes
from phonebank.db.engine import session_factory, writer_session_factory
from phonebank.db.models import Station
from phonebank.dialer.runner import RunnerSettings
from phonebank.dialer.service import DialerService
from phonebank.live.bus import LiveBus
from phonebank.live.requests import DialDesk
from phonebank.metrics.floor import counting_calls, forget_campaign, record_abandon, record_floor
from phonebank.metrics.service import Metrics
from phonebank.telephony.adapter import AmiTelephony
from phonebank.telephony.originate import CallSettings

log = logging.getLogger(__name__)

GAUGE_SECONDS = 2.0


def _campaign_name(dialer: DialerService, attempt_id: str) -> str | None:
    campaign = dialer.mux.owner(attempt_id)
    runner = dialer.runners.get(campaign) if campaign is not None else None
    return runner.campaign.name if runner is not None else None


def _stations_in_service(engine: Engine) -> int:
    with session_factory(engine)() as session:
        return session.scalar(select(func.count()).where(Station.enabled.is_(True))) or 0


async def _publish_floor(
    metrics: Metrics, dialer: DialerService, engine: Engine, stop: asyncio.Event
) -> None:
    shown: set[str] = set()
    while not stop.is_set():
        try:
            inventory = await asyncio.to_thread(_stations_in_service, engine)
        except Exception:  # the database may be down for a moment; try again next round
            log.exception("cannot count the stations for the metrics")
            inventory = 0
        now_shown = set()
        for runner in dialer.runners.values():
            name = runner.campaign.name
            now_shown.add(name)
            if runner.engine is not None:
                snapshot = runner.engine.snapshot()
                logged_out = max(0, inventory - len(snapshot.stations))
                record_floor(metrics, name, snapshot, logged_out)
            report = getattr(runner, "report", None)
            if report is not None:
                record_abandon(
                    metrics,
                    name,
                    today=report.today.rate,
                    rolling_30d=report.rolling.rate,
                    target=report.target,
                )
        for gone in shown - now_shown:
            forget_campaign(metrics, gone)
        shown = now_shown
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), GAUGE_SECONDS)


@contextlib.asynccontextmanager
async def dialing(
    *,
    engine: Engine,
    ami: AmiClient,
    bus: LiveBus,
    metrics: Metrics,
    clock: Callable[[], float],
    trunk: str = "",
    settings: RunnerSettings | None = None,
    desk: DialDesk | None = None,
) -> AsyncIterator[DialerService]:
    """Dial for every ACTIVE campaign while the block runs; stop cleanly on exit.

    `trunk="sim"` sends every call to the dialplan's simulated network (the demo);
    `desk`: where preview campaigns offer leads and hear the volunteers' clicks.
    """
    dialer: DialerService | None = None

    def settings_for(attempt_id: str) -> CallSettings | None:
        return dialer.call_settings_for(attempt_id) if dialer is not None else None

    # The runners' clock and the events' clock must be one clock (seconds since the
    # epoch): the pacer subtracts one from the other, and rows store both.
    telephony = AmiTelephony(
        ami, CallSettings(caller_id=""), clock=clock, settings_for=settings_for
    )
    # A handset without a screen records the call just ended with `*` and a digit.
    keypad = KeypadOutcomes(
        writer_session_factory(engine), clock, lambda station: bus.subscribers(station) > 0
    )
    dialer = DialerService(
        engine=engine,
        telephony=telephony,
        bus=bus,
        clock=clock,
        trunk=trunk,
        settings=settings or RunnerSettings(),
        desk=desk,
        on_station_key=keypad,
    )
    running = dialer
    telephony.set_listener(
        counting_calls(running.mux.dispatch, metrics, lambda a: _campaign_name(running, a))
    )
    await telephony.start()
    stop = asyncio.Event()
    tasks = [
        asyncio.create_task(running.run(stop), name="dialer"),
        asyncio.create_task(_publish_floor(metrics, running, engine, stop), name="floor-metrics"),
    ]
    try:
        yield running
    finally:
        stop.set()
        await keypad.drain()
        for task in tasks:
            with contextlib.suppress(Exception):
                await task
        await telephony.close()
