"""Run the dialer: one `CampaignRunner` per ACTIVE campaign, for as long as the service runs.

`run_active_campaigns` is what the composition root starts. Every `rescan_seconds`
it reads which campaigns are ACTIVE: a campaign just activated gets a runner, one
paused or stopped has its runner shut down (ringing lines resolve, prepared calls
are handed back; volunteers on a call finish it). All runners share one ledger
writer thread and, through a `TelephonyMux`, one telephony.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy import Engine

from phonebank.db.engine import writer_session_factory
from phonebank.dialer.campaign import CampaignConfig, active_campaigns
from phonebank.dialer.mux import TelephonyMux
from phonebank.dialer.runner import (
    CampaignRunner,
    Clock,
    EngineFactory,
    RunnerSettings,
    default_engine,
)
from phonebank.dialer.telephony import Telephony
from phonebank.dialer.writer import LedgerWriter
from phonebank.live.bus import LiveBus, StationReport
from phonebank.live.requests import DialDesk
from phonebank.telephony.originate import CallSettings

log = logging.getLogger(__name__)


@dataclass
class _Running:
    runner: CampaignRunner
    stop: asyncio.Event = field(default_factory=asyncio.Event)
    task: asyncio.Task[None] | None = None


@dataclass
class DialerService:
    """What `run_active_campaigns` runs; its `runners` are visible to supervisors' screens."""

    engine: Engine
    telephony: Telephony
    bus: LiveBus | None = None
    clock: Clock = time.time
    settings: RunnerSettings = field(default_factory=RunnerSettings)
    engine_factory: EngineFactory = default_engine
    station_user: Callable[[str], int | None] | None = None
    station_campaign: Callable[[str], int | None] | None = None
    on_station_key: Callable[[str, str, str | None, float], None] | None = None
    rescan_seconds: float = 30.0
    # "sim": every campaign dials the simulated network (the demo); "" = the real trunk.
    trunk: str = ""
    # Preview campaigns offer leads to the screens and dial their clicks through it.
    desk: DialDesk | None = None
    running: dict[int, _Running] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.writer = LedgerWriter(writer_session_factory(self.engine))
        self.mux = TelephonyMux(self.telephony, self.station_campaign)
        # The screens' latest report per station, for runners that start later.
        self.reports: dict[str, StationReport] = {}
        if self.bus is not None:
            self.bus.on_report(self._remember)

    def _remember(self, report: StationReport) -> None:
        self.reports[report.station] = report

    def call_settings_for(self, attempt_id: str) -> CallSettings | None:
        """The telephony settings of the campaign an attempt belongs to."""
        campaign = self.mux.owner(attempt_id)
        running = self.running.get(campaign) if campaign is not None else None
        call = running.runner.campaign.call if running is not None else None
        if call is not None and self.trunk:
            call = dataclasses.replace(call, trunk=self.trunk)
        return call

    @property
    def runners(self) -> dict[int, CampaignRunner]:
        return {cid: r.runner for cid, r in self.running.items()}

    async def run(self, stop: asyncio.Event) -> None:
        self.writer.start()
        try:
            while not stop.is_set():
                try:
                    active = await asyncio.wrap_future(self.writer.submit(active_campaigns))
                except Exception:
                    log.exception("cannot read the active campaigns")
                else:
                    await self._reconcile(active)
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), self.rescan_seconds)
        finally:
            await self._reconcile([])
            await asyncio.to_thread(self.writer.close)

    async def _reconcile(self, active: list[CampaignConfig]) -> None:
        wanted = {c.campaign_id: c for c in active}
        for campaign_id in [cid for cid in self.running if cid not in wanted]:
            await self._stop(campaign_id)
        for campaign_id, config in wanted.items():
            running = self.running.get(campaign_id)
            if running is not None and running.task is not None and running.task.done():
                await self._stop(campaign_id)  # it failed (logged below): start it again
            if campaign_id not in self.running:
                self._start(config)

    def _start(self, config: CampaignConfig) -> None:
        cid = config.campaign_id
        runner = CampaignRunner(
            campaign=config,
            telephony=self.mux.view(cid),
            writer=self.writer,
            clock=self.clock,
            bus=self.bus,
            engine_factory=self.engine_factory,
            settings=self.settings,
            station_user=self.station_user,
            on_station_key=self.on_station_key,
            accepts_station=lambda station: self.mux.station_owner(station) == cid,
            desk=self.desk,
        )
        running = _Running(runner)
        runner.replay = lambda: list(self.reports.values())
        running.task = asyncio.create_task(self._guarded(running), name=f"dialer-{cid}")
        self.running[cid] = running
        log.info("dialer: campaign %s (%d) is active, runner started", config.name, cid)

    async def _guarded(self, running: _Running) -> None:
        try:
            await running.runner.run(running.stop)
        except Exception:
            log.exception("dialer runner of campaign %s failed", running.runner.campaign.name)
            raise

    async def _stop(self, campaign_id: int) -> None:
        running = self.running.pop(campaign_id)
        running.stop.set()
        if running.task is not None:
            with contextlib.suppress(Exception):
                await running.task
        self.mux.drop(campaign_id)


async def run_active_campaigns(
    *,
    engine: Engine,
    telephony: Telephony,
    stop: asyncio.Event,
    bus: LiveBus | None = None,
    clock: Clock = time.time,
    settings: RunnerSettings | None = None,
    station_user: Callable[[str], int | None] | None = None,
    station_campaign: Callable[[str], int | None] | None = None,
    on_station_key: Callable[[str, str, str | None, float], None] | None = None,
    rescan_seconds: float = 30.0,
) -> None:
    """Dial for every ACTIVE campaign until `stop` is set (see DialerService)."""
    service = DialerService(
        engine=engine,
        telephony=telephony,
        bus=bus,
        clock=clock,
        settings=settings or RunnerSettings(),
        station_user=station_user,
        station_campaign=station_campaign,
        on_station_key=on_station_key,
        rescan_seconds=rescan_seconds,
    )
    await service.run(stop)
