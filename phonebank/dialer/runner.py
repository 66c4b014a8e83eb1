"""The campaign runner: the pure dialer engine wired to the database, the phones and the screens.

One `CampaignRunner` per active campaign. On the asyncio loop it ticks the engine
every `tick_seconds`; the engine's `next_call` takes a prepared call from a small
buffer (leads claimed and CREATED attempt rows written ahead by the ledger), so
the row exists before the Originate and its id travels on the channel. Every
telephony event goes to the engine at once and to the ledger's writer thread
(`writer.py`, in order, retried through outages); a call put through pops up on
its station's screen through the `LiveBus`, and its end is published too.
Screens' ready / paused reports reach the engine (and the telephony's
`station_mode`, when it has one).

Safety:
- the engine's heartbeat is written every `heartbeat_seconds`; when none has gone
  through for half of `stale_after`, placing stops (other engines will soon
  treat this one as dead and release its claims: dialling on would risk a lead
  dialled twice) and resumes with the next heartbeat that succeeds;
- at start, and every `recover_seconds`, the leftovers of engines silent for
  `stale_after` are settled and their claims released (`ledger.recover_dead_engines`);
- a prepared call older than `prepared_max_age` is handed back (a do-not-call
  entry added meanwhile is then seen at the next claim), and the callee's calling
  window is checked again at the instant of the dial;
- every `guard_seconds` the day's and the 30-day abandon rates are read from the
  attempt rows; above the campaign's target a predictive campaign is paced as
  progressive until they are back under.

A preview campaign with a `DialDesk` dials nothing by itself: its `Previewer`
offers a lead to each ready station whose screen watches and dials the one a
volunteer clicks, with that station reserved (previewer.py).

Clock: `clock()` and the telephony's event times are seconds since the epoch.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any

from sqlalchemy.orm import Session

from phonebank.db.enums import DialMode
from phonebank.dialer import ledger
from phonebank.dialer.accounting import AbandonReport, abandon_report
from phonebank.dialer.campaign import CampaignConfig
from phonebank.dialer.engine import DialerEngine, PlannedCall
from phonebank.dialer.floor import FloorSnapshot, StationState
from phonebank.dialer.pacing import PhonebankPacer, Policy, progressive_calls
from phonebank.dialer.previewer import Previewer
from phonebank.dialer.recycle import CallableAt
from phonebank.dialer.repo import heartbeat, register_engine
from phonebank.dialer.stats import FloorStats
from phonebank.dialer.telephony import EventKind, Telephony, TelephonyEvent
from phonebank.dialer.writer import LedgerWriter
from phonebank.live.bus import (
    CallAnswered,
    CallEnded,
    CallPop,
    LiveBus,
    StationMode,
    StationReport,
)
from phonebank.live.requests import DialDesk

log = logging.getLogger(__name__)

Clock = Callable[[], float]
EngineFactory = Callable[[CampaignConfig, Telephony, Callable[[float], PlannedCall | None], float],
                         DialerEngine]  # fmt: skip
NextOpening = Callable[[str, datetime], datetime | None]


@dataclass(frozen=True)
class RunnerSettings:
    tick_seconds: float = 0.2
    heartbeat_seconds: float = 5.0
    stale_after: float = 60.0  # an engine silent this long is dead
    recover_seconds: float = 60.0
    guard_seconds: float = 60.0
    prepared_max_age: float = 60.0
    # Prepared calls kept ahead: `min_buffer`, plus those the engine asked for in
    # vain since the last refill (a burst is served over a few ticks; a larger
    # stock would go stale), at most `min_buffer` + 2 per station.
    min_buffer: int = 2
    # At shutdown, how long ringing lines may take to resolve before the rest is left
    # to the next start's recovery.
    drain_seconds: float = 35.0


class FloorPacer:
    """The `phonebank` pacer, never placing fewer calls than progressive would.

    A call per ready volunteer beyond the lines already up cannot be abandoned,
    yet the pacer's approximations can price it above a small floor's aim: with
    one or two volunteers it would otherwise place nothing at all.
    """

    name = "phonebank"

    def __init__(self, pacer: Policy | None = None) -> None:
        self.pacer = pacer or PhonebankPacer()

    def decide(self, snapshot: FloorSnapshot, stats: FloorStats, now: float) -> int:
        calls = self.pacer.decide(snapshot, stats, now)
        if snapshot.settings.mode is DialMode.PREDICTIVE:
            calls = max(calls, progressive_calls(snapshot))
        return calls


def default_engine(
    campaign: CampaignConfig,
    telephony: Telephony,
    next_call: Callable[[float], PlannedCall | None],
    now: float,
) -> DialerEngine:
    return DialerEngine(
        settings=campaign.settings,
        policy=FloorPacer(),
        telephony=telephony,
        next_call=next_call,
        now=now,
    )


def wall(at: float) -> datetime:
    return datetime.fromtimestamp(at, UTC)


@dataclass
class _Prepared:
    call: ledger.PreparedCall
    at: float


class CampaignRunner:
    def __init__(
        self,
        *,
        campaign: CampaignConfig,
        telephony: Telephony,
        writer: LedgerWriter,
        clock: Clock,
        bus: LiveBus | None = None,
        callable_at: CallableAt | None = None,
        next_opening: NextOpening | None = None,
        engine_factory: EngineFactory = default_engine,
        settings: RunnerSettings | None = None,
        engine_id: str | None = None,
        station_user: Callable[[str], int | None] | None = None,
        on_station_key: Callable[[str, str, str | None, float], None] | None = None,
        accepts_station: Callable[[str], bool] | None = None,
        desk: DialDesk | None = None,
    ) -> None:
        self.campaign = campaign
        self.telephony = telephony
        self.writer = writer
        self.clock = clock
        self.bus = bus
        self.callable_at = callable_at or campaign.callable_at
        self.next_opening = next_opening or campaign.next_opening
        self.engine_factory = engine_factory
        self.settings = settings or RunnerSettings()
        self.engine_id = engine_id or f"{campaign.campaign_id}-{uuid.uuid4().hex[:16]}"
        self.station_user = station_user or self._reported_user
        self.on_station_key = on_station_key
        self.accepts_station = accepts_station or (lambda _station: True)
        self.engine: DialerEngine | None = None
        self.report: AbandonReport | None = None  # the latest abandon figures read
        self._buffer: deque[_Prepared] = deque()
        self._live: dict[str, ledger.PreparedCall] = {}  # attempt id -> call, until it ends
        self._users: dict[str, int] = {}  # station -> user id from the screens' reports
        self._refill: Future[list[ledger.PreparedCall]] | None = None
        self._guard: Future[AbandonReport | None] | None = None
        self._beat: Future[None] | None = None
        self._beat_sent = self._last_beat = self._refill_at = 0.0
        self._talking: dict[str, str | None] = {}  # bridged attempt -> station
        self._missed = 0  # calls the engine asked for with the buffer empty
        self._next_beat = self._next_recover = self._next_guard = 0.0
        self._stop_listening: Callable[[], None] | None = None
        self._stopping = False
        self._lines_done = asyncio.Event()
        self.throttled = False  # the abandon guard holds a predictive campaign to progressive
        # The screens' reports sent before this runner listened (DialerService keeps them).
        self.replay: Callable[[], list[StationReport]] = list
        self.preview: Previewer | None = None
        if campaign.settings.mode is DialMode.PREVIEW:
            if desk is None:
                log.warning("campaign %s is in preview mode but no screen can dial", campaign.name)
            else:
                self.preview = Previewer(
                    desk=desk,
                    campaign=campaign,
                    engine_id=self.engine_id,
                    writer=writer,
                    clock=clock,
                    place=self._place_preview,
                    callable_at=self.callable_at,
                    next_opening=self.next_opening,
                )

    # Life cycle

    async def start(self, stations: tuple[str, ...] = ()) -> None:
        """Register the engine, settle what dead engines left, start listening."""
        now = self.clock()
        self.writer.start()
        await asyncio.wrap_future(self.writer.submit(self._register_and_recover))
        self._last_beat = now
        self._next_beat = now + self.settings.heartbeat_seconds
        self._next_recover = now + self.settings.recover_seconds
        engine = self.engine_factory(self.campaign, self.telephony, self._next_call, now)
        for station in stations:
            engine.handle(TelephonyEvent(EventKind.STATION_READY, now, station=station))
        today = await asyncio.wrap_future(self.writer.submit(self._read_report))
        if today is not None:
            engine.carry_over(today.today.live_answers, today.today.abandoned)
        self.engine = engine
        self.telephony.set_listener(self.on_event)
        if self.bus is not None:
            self._stop_listening = self.bus.on_report(self.on_report)
        for report in self.replay():  # reports sent while this runner was starting
            self.on_report(report)
        if self.preview is not None:
            self.preview.start()
        log.info("campaign %s: engine %s started", self.campaign.name, self.engine_id)

    async def run(self, stop: asyncio.Event) -> None:
        """Start, tick until `stop` is set, then shut down cleanly."""
        await self.start()
        try:
            while not stop.is_set():
                self.step(self.clock())
                await asyncio.sleep(self.settings.tick_seconds)
        finally:
            await self.shutdown()

    async def shutdown(self) -> None:
        """Stop placing, let ringing lines resolve, hand back what was never dialled."""
        self._stopping = True
        if self.preview is not None:
            await self.preview.shutdown()
        engine = self.engine
        if engine is not None:
            engine.placing = False
            if engine.snapshot().lines:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._lines_done.wait(), self.settings.drain_seconds)
        if self._refill is not None:
            await asyncio.wrap_future(self._refill)
            self._take_refill()
        while self._buffer:
            self._cancel(self._buffer.popleft().call, self.clock())
        if self._stop_listening is not None:
            self._stop_listening()
            self._stop_listening = None
        await asyncio.wrap_future(self.writer.submit(self._unregister))
        log.info("campaign %s: engine %s stopped", self.campaign.name, self.engine_id)

    # The loop's step (also driven directly by tests on a virtual clock)

    def step(self, now: float) -> int:
        """Housekeeping, then one engine tick; returns the calls placed."""
        engine = self.engine
        if engine is None:
            return 0
        self._take_refill()
        self._expire_prepared(now)
        self._housekeeping(now)
        fresh = self._heartbeat_fresh(now)
        engine.placing = fresh and not self._stopping
        placed = engine.tick(now)
        self._request_refill(now)
        if self.preview is not None:
            self.preview.placing = engine.placing
            ready = self._ready_stations()
            self.preview.step(now, ready, [s for s in ready if self._can_reserve(s)])
        return placed

    async def settle(self) -> None:
        """Wait for the ledger to catch up (tests; never needed by the live loop)."""
        await self.writer.drain()
        self._take_refill()

    def _heartbeat_fresh(self, now: float) -> bool:
        if self._beat is not None and self._beat.done():
            if self._beat.exception() is None:
                self._last_beat = self._beat_sent
            self._beat = None
        fresh = now - self._last_beat < self.settings.stale_after / 2
        if not fresh and self.engine is not None and self.engine.placing:
            log.warning("campaign %s: no heartbeat written for %.0f s, not dialling",
                        self.campaign.name, now - self._last_beat)  # fmt: skip
        return fresh

    def _housekeeping(self, now: float) -> None:
        s = self.settings
        if now >= self._next_beat and self._beat is None:
            self._beat_sent = now
            self._beat = self.writer.submit(partial(self._heartbeat, at=wall(now)))
            self._next_beat = now + s.heartbeat_seconds
        if now >= self._next_recover:
            self.writer.submit(partial(self._recover, at=wall(now)))
            self._next_recover = now + s.recover_seconds
        if self._guard is not None and self._guard.done():
            self._apply_guard(self._guard.result() if self._guard.exception() is None else None)
            self._guard = None
        if now >= self._next_guard and self._guard is None:
            self._guard = self.writer.submit(self._read_report)
            self._next_guard = now + s.guard_seconds

    def _apply_guard(self, report: AbandonReport | None) -> None:
        engine = self.engine
        if report is None or engine is None:
            return
        self.report = report
        over = report.over_target
        if self.campaign.settings.mode is not DialMode.PREDICTIVE or over == self.throttled:
            return
        self.throttled = over
        mode = DialMode.PROGRESSIVE if over else DialMode.PREDICTIVE
        engine.settings = replace(engine.settings, mode=mode)
        log.warning(
            "campaign %s: abandon rate today %.2f %%, 30 days %.2f %% (target %.1f %%): %s",
            self.campaign.name, 100 * report.today.rate, 100 * report.rolling.rate,
            100 * report.target, "progressive until back under" if over else "predictive again",
        )  # fmt: skip

    # Prepared calls

    def _buffer_goal(self) -> int:
        stations = len(self.engine.stations) if self.engine is not None else 0
        floor = self.settings.min_buffer
        return floor + min(self._missed, 2 * stations)

    def _request_refill(self, now: float) -> None:
        if self._refill is not None or self._stopping or self.engine is None:
            return
        if self.campaign.settings.mode is DialMode.PREVIEW:
            return  # nothing is dialled ahead: a lead is claimed when a station is offered it
        goal = self._buffer_goal()
        if len(self._buffer) >= goal or not self.engine.placing:
            return
        self._refill_at = now
        self._missed = 0
        self._refill = self.writer.submit(
            partial(self._prepare, limit=goal - len(self._buffer), at=wall(now))
        )

    def _take_refill(self) -> None:
        future = self._refill
        if future is None or not future.done():
            return
        self._refill = None
        if future.exception() is None:
            self._buffer.extend(_Prepared(call, self._refill_at) for call in future.result())

    def _expire_prepared(self, now: float) -> None:
        while self._buffer and now - self._buffer[0].at > self.settings.prepared_max_age:
            self._cancel(self._buffer.popleft().call, now)

    def _cancel(self, call: ledger.PreparedCall, now: float, until: datetime | None = None) -> None:
        self.writer.submit(
            partial(ledger.cancel_prepared, attempt_id=call.attempt_id, at=wall(now), until=until)
        )

    def _next_call(self, now: float) -> PlannedCall | None:
        """The engine's next call: the oldest prepared one the callee's window allows now."""
        while self._buffer:
            call = self._buffer.popleft().call
            when = wall(now)
            if not self.callable_at(call.time_zone, when):
                self._cancel(call, now, self.next_opening(call.time_zone, when))
                continue
            attempt = str(call.attempt_id)
            self._live[attempt] = call
            self.writer.submit(partial(ledger.mark_dialing, attempt_id=call.attempt_id, at=when))
            return PlannedCall(attempt, call.e164)
        self._missed += 1
        return None

    # Events

    def on_event(self, event: TelephonyEvent) -> None:
        """Telephony listener: the engine first (pacing), then the record and the screens."""
        if self.engine is not None:
            self.engine.handle(event)
            if self._stopping and not self.engine.snapshot().lines:
                self._lines_done.set()
        key = event.kind is EventKind.STATION_KEY and event.station and event.detail
        if key and self.on_station_key is not None:
            assert event.station is not None and event.detail is not None
            self.on_station_key(event.station, event.detail, event.attempt_id, event.at)
        if event.kind is EventKind.STATION_KEY:
            return  # it names the station's last call, but neither changes nor ends it
        attempt = event.attempt_id
        call = self._live.get(attempt) if attempt is not None else None
        if attempt is None or call is None:
            return
        user = None
        if event.kind is EventKind.BRIDGED and event.station is not None:
            user = self.station_user(event.station)
        self.writer.submit(
            partial(
                ledger.record_event,
                attempt_id=call.attempt_id,
                kind=event.kind.value,
                at=wall(event.at),
                station=event.station,
                user_id=user,
                detail=event.detail,
            )
        )
        self._publish(event, call)

    def _publish(self, event: TelephonyEvent, call: ledger.PreparedCall) -> None:
        attempt = str(call.attempt_id)
        if event.kind is EventKind.BRIDGED:
            if self.bus is not None and event.station is not None:
                self.bus.publish(CallPop(
                    station=event.station, attempt_id=call.attempt_id,
                    campaign_id=self.campaign.campaign_id, contact_id=call.contact_id,
                    phone_id=call.phone_id, e164=call.e164, at=event.at,
                ))  # fmt: skip
            self._talking[attempt] = event.station
            return
        if event.kind is EventKind.ANSWERED_HUMAN:
            if self.bus is not None:  # the screens read the contact while it is bridged
                self.bus.publish(CallAnswered(
                    attempt_id=call.attempt_id, campaign_id=self.campaign.campaign_id,
                    contact_id=call.contact_id, phone_id=call.phone_id, e164=call.e164,
                    at=event.at,
                ))  # fmt: skip
            return
        # Every other kind ends the call (for the engine and the ledger alike).
        del self._live[attempt]
        talking = attempt in self._talking
        station = self._talking.pop(attempt, None) or event.station
        if self.bus is not None and station is not None and talking:
            self.bus.publish(CallEnded(station=station, attempt_id=call.attempt_id, at=event.at))
        if self.preview is not None:
            self.preview.ended(attempt, talking, event.at)

    # Preview

    def _ready_stations(self) -> list[str]:
        engine = self.engine
        if engine is None:
            return []
        return sorted(
            station
            for station, view in engine.stations.items()
            if view.state is StationState.READY and self.accepts_station(station)
        )

    def _can_reserve(self, station: str) -> bool:
        check = getattr(self.telephony, "can_reserve", None)
        return bool(check(station)) if callable(check) else True

    def _place_preview(self, call: ledger.PreparedCall, station: str, now: float) -> None:
        """A volunteer's click, its attempt row written: the call, for that station alone."""
        attempt = str(call.attempt_id)
        self._live[attempt] = call
        if self.engine is not None:
            self.engine.track(attempt, now)
        self.telephony.originate(attempt, call.e164, now, station=station)

    def on_report(self, report: StationReport) -> None:
        """LiveBus listener: a screen says its station is ready or paused."""
        if not self.accepts_station(report.station):
            return  # another campaign's runner takes it
        if report.user_id is not None:
            self._users[report.station] = report.user_id
        ready = report.mode is StationMode.READY
        kind = EventKind.STATION_READY if ready else EventKind.STATION_PAUSED
        if self.engine is not None:
            self.engine.handle(TelephonyEvent(kind, report.at, station=report.station))
        sink = getattr(self.telephony, "station_mode", None)
        if callable(sink):
            sink(report.station, ready, report.at)

    def _reported_user(self, station: str) -> int | None:
        return self._users.get(station)

    # Ledger work (runs on the writer thread)

    def _register_and_recover(self, session: Session) -> None:
        now = wall(self.clock())
        register_engine(session, self.engine_id, now)
        session.flush()
        self._recover(session, at=now)

    def _recover(self, session: Session, *, at: datetime) -> None:
        done = ledger.recover_dead_engines(
            session,
            now=at,
            max_age=timedelta(seconds=self.settings.stale_after),
            keep=self.engine_id,
        )
        if done.attempts_settled or done.claims_released:
            log.warning("settled %d attempts and released %d leads of dead dialer engines",
                        done.attempts_settled, done.claims_released)  # fmt: skip

    def _heartbeat(self, session: Session, *, at: datetime) -> None:
        heartbeat(session, self.engine_id, at)

    def _prepare(self, session: Session, *, limit: int, at: datetime) -> list[Any]:
        return ledger.prepare_calls(
            session,
            engine_id=self.engine_id,
            campaign_id=self.campaign.campaign_id,
            limit=limit,
            now=at,
            callable_at=self.callable_at,
            next_opening=self.next_opening,
        )

    def _read_report(self, session: Session) -> AbandonReport | None:
        return abandon_report(session, self.campaign.campaign_id, wall(self.clock()))

    def _unregister(self, session: Session) -> None:
        ledger.unregister_engine(session, self.engine_id)
