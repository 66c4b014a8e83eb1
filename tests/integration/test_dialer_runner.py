"""The campaign runner on the real databases, driven by the call-floor simulator on a
virtual clock: the dialling rules, the record of every call, abandon accounting,
crashes, and two runners sharing one PostgreSQL."""

from __future__ import annotations

import asyncio
import itertools
import random
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import partial

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from phonebank.db import make_engine, session_factory, upgrade
from phonebank.db.engine import writer_session_factory
from phonebank.db.enums import (
    AttemptResult,
    AttemptState,
    CampaignStatus,
    DialMode,
    DispositionCategory,
    LeadStatus,
    RecycleAction,
)
from phonebank.db.models import (
    CallAttempt,
    CallList,
    CallListEntry,
    Campaign,
    Contact,
    DoNotCallEntry,
    PhoneNumber,
)
from phonebank.db.models.campaigns import Disposition
from phonebank.db.models.dialer import DialerEngine as EngineRow
from phonebank.dialer.accounting import abandon_report
from phonebank.dialer.campaign import CampaignConfig, active_campaigns
from phonebank.dialer.ledger import settle_after_outcome
from phonebank.dialer.repo import register_engine
from phonebank.dialer.runner import CampaignRunner, RunnerSettings
from phonebank.dialer.scenario import default_scenario_dict, parse_scenario
from phonebank.dialer.sim import SimulatedFloor
from phonebank.dialer.writer import LedgerWriter
from phonebank.live.bus import (
    ANY_STATION,
    CallAnswered,
    CallEnded,
    CallPop,
    LiveBus,
    StationMode,
    StationReport,
)

# Tuesday 24 November 2026, 10:00 in Paris.
START = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)
T0 = START.timestamp()
OPEN = "Europe/Paris"
CLOSED = ("Pacific/Noumea", "America/Martinique")  # 20:00 and 05:00 there: window shut
DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
WINDOW = {"days": {d: [["09:00", "20:00"]] for d in DAYS[:5]}}


@dataclass
class Plan:
    campaign_id: int
    dnc_numbers: set[str] = field(default_factory=set)
    closed_numbers: set[str] = field(default_factory=set)
    dispositions: list[int] = field(default_factory=list)


def build(sessions: Session, leads: int, rng: random.Random, name: str = "Runner") -> Plan:
    campaign = Campaign(
        name=name,
        status=CampaignStatus.ACTIVE,
        dial_mode=DialMode.PREDICTIVE,
        max_attempts=3,
        calling_window=WINDOW,
        # Short delays, so leads come round again within the simulated hour.
        recycle_rules={"no_answer": 8, "busy": 3, "machine": 10},
    )
    sessions.add(campaign)
    sessions.flush()
    call_list = CallList(campaign_id=campaign.id, name="L")
    sessions.add(call_list)
    sessions.flush()
    plan = Plan(campaign.id)
    for code, category, action, delay in (
        ("undecided", DispositionCategory.UNDECIDED, RecycleAction.RETRY, 5),
        ("supporter", DispositionCategory.SUPPORTER, RecycleAction.FINISH, None),
        ("opposed", DispositionCategory.OPPOSED, RecycleAction.NEVER, None),
    ):
        row = Disposition(
            campaign_id=campaign.id,
            code=code,
            label=code,
            category=category,
            recycle_action=action,
            retry_delay_minutes=delay,
        )
        sessions.add(row)
        sessions.flush()
        plan.dispositions.append(row.id)
    for n in range(leads):
        e164 = f"+3367{campaign.id:02d}{n:05d}"
        kind = rng.random()
        tz = OPEN
        contact = Contact(campaign_id=campaign.id, first_name=f"P{n}")
        if kind < 0.08:
            tz = rng.choice(CLOSED)
            plan.closed_numbers.add(e164)
        phone = PhoneNumber(e164=e164, time_zone=tz)
        if 0.08 <= kind < 0.12:
            phone.do_not_call = True
            plan.dnc_numbers.add(e164)
        elif 0.12 <= kind < 0.16:
            sessions.add(DoNotCallEntry(e164=e164, reason="asked", source="test"))
            plan.dnc_numbers.add(e164)
        contact.phones.append(phone)
        sessions.add(contact)
        sessions.flush()
        sessions.add(CallListEntry(call_list_id=call_list.id, contact_id=contact.id))
    sessions.flush()
    return plan


class RecordingFloor(SimulatedFloor):
    """The simulator, keeping what was dialled."""

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.dialled: list[tuple[str, str, float]] = []
        self.for_station: dict[str, str] = {}  # preview: attempt -> the station it was dialled for

    def originate(
        self, attempt_id: str, number: str, now: float, *, station: str | None = None
    ) -> None:
        self.dialled.append((attempt_id, number, now))
        if station is not None:
            self.for_station[attempt_id] = station
        super().originate(attempt_id, number, now, station=station)


def floor_for(agents: int, seed: int, human: float = 0.3) -> RecordingFloor:
    scenario = parse_scenario(default_scenario_dict(agents, human, hours=10.0))
    return RecordingFloor(scenario, random.Random(seed), T0 + 10 * 3600, start=T0)


SETTINGS = RunnerSettings(heartbeat_seconds=5, stale_after=60, recover_seconds=60)


def record_outcome(session: Session, *, attempt_id: int, disposition_id: int, at: datetime) -> None:
    disposition = session.get(Disposition, disposition_id)
    assert disposition is not None
    settle_after_outcome(session, attempt_id=attempt_id, disposition=disposition, now=at)


class Volunteers:
    """Screens: record an outcome for each call that ends, as the outcome service would."""

    def __init__(self, bus: LiveBus, writer: LedgerWriter, plan: Plan, rng: random.Random) -> None:
        self.subscription = bus.subscribe(ANY_STATION)
        self.writer = writer
        self.plan = plan
        self.rng = rng
        self.pops: list[CallPop] = []
        self.ended: list[CallEnded] = []

    async def work(self) -> None:
        while self.subscription.pending():
            message = await self.subscription.get()
            if isinstance(message, CallPop):
                self.pops.append(message)
                continue
            self.ended.append(message)
            self.writer.submit(
                partial(
                    record_outcome,
                    attempt_id=message.attempt_id,
                    disposition_id=self.rng.choice(self.plan.dispositions),
                    at=datetime.fromtimestamp(message.at, UTC),
                )
            )


async def drive(
    pairs: list[tuple[CampaignRunner, RecordingFloor]],
    until: float,
    volunteers: list[Volunteers] = (),  # type: ignore[assignment]
    step: float = 1.0,
) -> None:
    t = pairs[0][1].now
    while t < until:
        t = min(until, t + step)
        for runner, floor in pairs:
            floor.advance(t)
            runner.step(t)
        for runner, _ in pairs:
            await runner.settle()
        for v in volunteers:
            await v.work()


async def wind_down(
    pairs: list[tuple[CampaignRunner, RecordingFloor]],
    volunteers: list[Volunteers] = (),  # type: ignore[assignment]
) -> None:
    """Stop placing, let every call and wrap-up end, then shut the runners down."""
    for runner, _ in pairs:
        runner._stopping = True
    t = max(f.now for _, f in pairs)
    while any(f.pending() for _, f in pairs):
        t += 5.0
        for runner, floor in pairs:
            floor.advance(t)
            runner.step(t)
        for runner, _ in pairs:
            await runner.settle()
        for v in volunteers:
            await v.work()
        assert t < T0 + 10 * 3600
    for runner, _ in pairs:
        await runner.shutdown()
        await runner.settle()


def make_runner(
    config: CampaignConfig,
    floor: RecordingFloor,
    writer: LedgerWriter,
    bus: LiveBus | None,
    engine_id: str,
) -> CampaignRunner:
    return CampaignRunner(
        campaign=config,
        telephony=floor,
        writer=writer,
        clock=lambda: floor.now,
        bus=bus,
        settings=SETTINGS,
        engine_id=engine_id,
    )


def attempts(engine: Engine) -> list[CallAttempt]:
    with session_factory(engine)() as session:
        return list(session.scalars(select(CallAttempt).order_by(CallAttempt.id)))


def check_record(engine: Engine, plan: Plan, floors: list[RecordingFloor]) -> list[CallAttempt]:
    """The rules every run must keep, read back from the rows."""
    rows = attempts(engine)
    by_id = {row.id: row for row in rows}
    dialled = [d for f in floors for d in f.dialled]
    # Every dial has its row, written before the Originate, and nothing is left open.
    assert dialled and all(int(a) in by_id for a, _, _ in dialled)
    assert all(row.state is AttemptState.ENDED and row.result is not None for row in rows)
    started = [row for row in rows if row.started_at is not None]
    assert len(started) == len(dialled)
    # Never a do-not-call number, never outside the callee's calling window.
    numbers = {number for _, number, _ in dialled}
    assert not numbers & plan.dnc_numbers
    assert not numbers & plan.closed_numbers
    # Never the same lead, nor the same number, on two calls at once.
    for key in ("call_list_entry_id", "e164"):
        spans = defaultdict(list)
        for row in started:
            assert row.ended_at is not None
            spans[getattr(row, key)].append((row.started_at, row.ended_at))
        for intervals in spans.values():
            intervals.sort()
            for (_, end), (nxt, _) in itertools.pairwise(intervals):
                assert nxt >= end
    # No abandoned number dialled again within 72 h.
    for row in started:
        if row.abandoned:
            assert row.started_at is not None
            later = [
                r for r in started if r.e164 == row.e164 and r.started_at > row.started_at
            ]  # fmt: skip
            assert not later
    # Each lead's attempt count is its number of dials; none past the limit.
    with session_factory(engine)() as session:
        for entry in session.scalars(select(CallListEntry)):
            dials = sum(1 for r in started if r.call_list_entry_id == entry.id)
            assert entry.attempts == dials <= 3
    return rows


def check_abandons(engine: Engine, campaign_id: int, rows: list[CallAttempt]) -> None:
    with session_factory(engine)() as session:
        report = abandon_report(session, campaign_id, START + timedelta(hours=2))
    assert report is not None
    humans = [r for r in rows if r.result is AttemptResult.HUMAN]
    abandoned = [r for r in humans if r.abandoned]
    assert report.today.live_answers == report.rolling.live_answers == len(humans)
    assert report.today.abandoned == len(abandoned)
    assert report.today.rate == pytest.approx(len(abandoned) / len(humans))


async def test_a_simulated_hour_keeps_every_rule(migrated_engine: Engine) -> None:
    rng = random.Random(5)
    with session_factory(migrated_engine).begin() as session:
        plan = build(session, 300, rng)
    with session_factory(migrated_engine)() as session:
        (config,) = active_campaigns(session)
    assert config.settings.mode is DialMode.PREDICTIVE
    writer = LedgerWriter(writer_session_factory(migrated_engine))
    bus = LiveBus()
    answered: list[CallAnswered] = []
    bus.watch(lambda m: answered.append(m) if isinstance(m, CallAnswered) else None)
    floor = floor_for(agents=5, seed=11)
    runner = make_runner(config, floor, writer, bus, "engine-one")
    volunteers = Volunteers(bus, writer, plan, rng)
    await runner.start(stations=tuple(floor.stations))
    try:
        await drive([(runner, floor)], T0 + 3600, [volunteers])
        await wind_down([(runner, floor)], [volunteers])
    finally:
        writer.close()
    rows = check_record(migrated_engine, plan, [floor])
    # The floor's abandons are the rows' abandons (AMD is perfect in this scenario).
    assert sum(r.abandoned for r in rows) == floor.abandoned
    # Every call put through popped up on its screen, and its end was published.
    assert len(volunteers.pops) == sum(1 for r in rows if r.bridged_at is not None)
    assert len(volunteers.pops) == floor.contacts
    assert {p.attempt_id for p in volunteers.pops} == {e.attempt_id for e in volunteers.ended}
    assert all(p.campaign_id == plan.campaign_id and p.e164 for p in volunteers.pops)
    # Each call put through was announced when the person answered (the screens
    # prepare the card then), naming the same voter.
    announced = {a.attempt_id: (a.contact_id, a.e164) for a in answered}
    assert all(announced[p.attempt_id] == (p.contact_id, p.e164) for p in volunteers.pops)
    check_abandons(migrated_engine, plan.campaign_id, rows)
    with session_factory(migrated_engine)() as session:
        statuses = {e.status for e in session.scalars(select(CallListEntry))}
        claimed = session.scalars(
            select(CallListEntry).where(CallListEntry.status == LeadStatus.CLAIMED)
        ).all()
        engines = session.scalars(select(EngineRow)).all()
    assert not claimed  # every outcome recorded, every prepared call handed back
    assert LeadStatus.EXCLUDED in statuses  # do-not-call leads closed at claim time
    assert not engines  # a clean stop unregisters


def silence(_event: object) -> None:
    """The listener of a process that died: its events go nowhere."""


async def test_a_crashed_runner_is_settled_by_the_next_one(migrated_engine: Engine) -> None:
    rng = random.Random(8)
    with session_factory(migrated_engine).begin() as session:
        plan = build(session, 200, rng)
    with session_factory(migrated_engine)() as session:
        (config,) = active_campaigns(session)
    bus = LiveBus()
    floor = floor_for(agents=4, seed=3)
    old_writer = LedgerWriter(writer_session_factory(migrated_engine))
    old = make_runner(config, floor, old_writer, bus, "engine-old")
    volunteers = Volunteers(bus, old_writer, plan, rng)
    await old.start(stations=tuple(floor.stations))
    await drive([(old, floor)], T0 + 600, [volunteers])
    # The process dies mid-run: no more heartbeats, events or writes.
    await old.settle()
    old_writer.close()
    floor.set_listener(silence)
    in_flight = set(old._live)
    assert in_flight, "the crash should leave calls in flight"
    before = {r.id: (r.state, r.result, r.ended_at) for r in attempts(migrated_engine)}
    floor.advance(T0 + 600 + 61)

    writer = LedgerWriter(writer_session_factory(migrated_engine))
    volunteers.writer = writer
    new = make_runner(config, floor, writer, bus, "engine-new")
    try:
        await new.start(stations=tuple(floor.stations))
        with session_factory(migrated_engine)() as session:
            held = session.scalars(
                select(CallListEntry).where(CallListEntry.claimed_by == "engine-old")
            ).all()
            engines = [e.engine_id for e in session.scalars(select(EngineRow))]
        assert not held and engines == ["engine-new"]
        await drive([(new, floor)], T0 + 1800, [volunteers])
        await wind_down([(new, floor)], [volunteers])
    finally:
        writer.close()
    rows = check_record(migrated_engine, plan, [floor])
    after = {r.id: r for r in rows}
    # Nothing recorded before the crash is lost or rewritten; what was in flight ended.
    assert set(before) <= set(after)
    for attempt_id, (state, result, ended_at) in before.items():
        row = after[attempt_id]
        if state is AttemptState.ENDED:
            assert (row.state, row.result, row.ended_at) == (state, result, ended_at)
        else:
            assert row.state is AttemptState.ENDED and row.result is not None
    for attempt in in_flight:
        row = after[int(attempt)]
        assert row.engine_id == "engine-old"
        assert row.ended_at is not None and row.ended_at >= START + timedelta(seconds=661)
    assert {r.engine_id for r in rows} == {"engine-old", "engine-new"}


@pytest.mark.postgres
async def test_two_runners_on_one_postgres_never_share_a_lead(fresh_database_url: str) -> None:
    upgrade(fresh_database_url)
    engine = make_engine(fresh_database_url)
    rng = random.Random(21)
    with session_factory(engine).begin() as session:
        plan = build(session, 250, rng)
    with session_factory(engine)() as session:
        (config,) = active_campaigns(session)
    bus = LiveBus()
    writers = [LedgerWriter(writer_session_factory(engine)) for _ in range(2)]
    floors = [floor_for(agents=4, seed=s) for s in (1, 2)]
    runners = [make_runner(config, floors[i], writers[i], bus, f"office-{i}") for i in range(2)]
    volunteers = Volunteers(bus, writers[0], plan, rng)
    pairs = list(zip(runners, floors, strict=True))
    try:
        for runner, floor in pairs:
            await runner.start(stations=tuple(floor.stations))
        await drive(pairs, T0 + 1800, [volunteers])
        await wind_down(pairs, [volunteers])
    finally:
        for writer in writers:
            writer.close()
    rows = check_record(engine, plan, floors)
    by_engine = defaultdict(set)
    for row in rows:
        if row.started_at is not None:
            by_engine[row.engine_id].add(row.call_list_entry_id)
    assert by_engine["office-0"] and by_engine["office-1"]  # both really dialled
    engine.dispose()


def test_ledger_settles_leads_by_the_rules(migrated_engine: Engine) -> None:
    from phonebank.dialer import ledger

    writers = writer_session_factory(migrated_engine)
    with writers.begin() as session:
        plan = build(session, 6, random.Random(1))
        # Every lead callable here.
        session.execute(PhoneNumber.__table__.update().values(time_zone=OPEN, do_not_call=False))
        session.execute(DoNotCallEntry.__table__.delete())
        register_engine(session, "e1", START)
    now = START

    def prepare(count: int) -> list[ledger.PreparedCall]:
        with writers.begin() as session:
            return ledger.prepare_calls(
                session, engine_id="e1", campaign_id=plan.campaign_id, limit=count, now=now,
                callable_at=lambda tz, when: True,
            )  # fmt: skip

    calls = prepare(6)
    assert len(calls) == 6
    failed, busy, never, callback, foreign, unused = calls
    with writers.begin() as session:
        for call in calls[:5]:
            ledger.mark_dialing(session, call.attempt_id, now)
        ledger.record_event(session, attempt_id=failed.attempt_id, kind="failed", at=now)
        ledger.record_event(session, attempt_id=busy.attempt_id, kind="busy", at=now)
        ledger.record_event(session, attempt_id=busy.attempt_id, kind="no_answer", at=now)
        for call in (never, callback, foreign):
            ledger.record_event(session, attempt_id=call.attempt_id, kind="answered_human", at=now)
            ledger.record_event(session, attempt_id=call.attempt_id, kind="bridged", at=now,
                                station="s1", user_id=None)  # fmt: skip
            ledger.record_event(session, attempt_id=call.attempt_id, kind="hung_up", at=now)
        ledger.cancel_prepared(session, unused.attempt_id, now)
        # After a crash, another engine re-claimed this lead before the outcome came.
        session.execute(
            CallListEntry.__table__.update()
            .where(CallListEntry.id == foreign.entry_id)
            .values(claimed_by="e2")
        )
    with writers.begin() as session:
        disp = {d.code: d for d in session.scalars(select(Disposition))}
        later = now + timedelta(days=2)
        assert ledger.settle_after_outcome(
            session, attempt_id=never.attempt_id, disposition=disp["opposed"], now=now
        )
        decision = ledger.settle_after_outcome(
            session, attempt_id=callback.attempt_id, disposition=disp["undecided"], now=now,
            callback_at=later,
        )  # fmt: skip
        assert decision is not None and decision.next_at == now + timedelta(minutes=5)
        assert (
            ledger.settle_after_outcome(
                session, attempt_id=foreign.attempt_id, disposition=disp["supporter"], now=now
            )
            is None
        )
    with session_factory(migrated_engine)() as session:
        entries = {e.id: e for e in session.scalars(select(CallListEntry))}
        rows = {r.id: r for r in session.scalars(select(CallAttempt))}
        phones = session.scalars(
            select(PhoneNumber).where(PhoneNumber.contact_id == entries[never.entry_id].contact_id)
        ).all()
    # A failed dial reached nobody: not counted, back a little later.
    e = entries[failed.entry_id]
    assert (e.status, e.attempts, e.last_outcome) == (LeadStatus.PENDING, 0, "failed")
    assert e.next_attempt_at == now + timedelta(minutes=10)
    assert rows[failed.attempt_id].result is AttemptResult.FAILED
    # The first ending stands; the lead waits out the campaign's busy delay.
    assert rows[busy.attempt_id].result is AttemptResult.BUSY
    e = entries[busy.entry_id]
    assert (e.status, e.attempts, e.next_attempt_at) == (
        LeadStatus.PENDING, 1, now + timedelta(minutes=3),
    )  # fmt: skip
    assert entries[never.entry_id].status is LeadStatus.EXCLUDED
    assert phones and not any(p.callable for p in phones)
    assert entries[callback.entry_id].claimed_by is None
    assert entries[foreign.entry_id].claimed_by == "e2"  # left to the engine that holds it
    assert rows[never.attempt_id].bridged_at is not None
    assert rows[never.attempt_id].state is AttemptState.ENDED
    assert rows[unused.attempt_id].result is AttemptResult.CANCELLED
    assert (entries[unused.entry_id].status, entries[unused.entry_id].attempts) == (
        LeadStatus.PENDING, 0,
    )  # fmt: skip


@settings(
    max_examples=6,
    deadline=None,
    phases=[Phase.explicit, Phase.reuse, Phase.generate],  # a shrink would take minutes
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    seed=st.integers(0, 10_000),
    agents=st.integers(1, 6),
    human=st.sampled_from([0.1, 0.3, 0.6]),
    leads=st.integers(20, 120),
    amd=st.sampled_from([1.0, 0.9]),
)
async def test_property_short_runs_keep_every_rule(
    tmp_path_factory: pytest.TempPathFactory,
    seed: int,
    agents: int,
    human: float,
    leads: int,
    amd: float,
) -> None:
    url = f"sqlite:///{tmp_path_factory.mktemp('prop') / 'p.db'}"
    upgrade(url)
    engine = make_engine(url)
    rng = random.Random(seed)
    with session_factory(engine).begin() as session:
        plan = build(session, leads, rng)
    with session_factory(engine)() as session:
        (config,) = active_campaigns(session)
    raw = default_scenario_dict(agents, human, hours=10.0)
    raw["amd_accuracy"] = amd
    floor = RecordingFloor(parse_scenario(raw), random.Random(seed), T0 + 36000, start=T0)
    writer = LedgerWriter(writer_session_factory(engine))
    bus = LiveBus()
    runner = make_runner(config, floor, writer, bus, "prop")
    volunteers = Volunteers(bus, writer, plan, rng)
    try:
        await runner.start(stations=tuple(floor.stations))
        await drive([(runner, floor)], T0 + 900, [volunteers])
        await wind_down([(runner, floor)], [volunteers])
    finally:
        writer.close()
    rows = check_record(engine, plan, [floor])
    # Abandons on the rows are the floor's, less the humans AMD hung up on (no row
    # can know them: they are the estimated false positives).
    assert sum(r.abandoned for r in rows) <= floor.abandoned
    check_abandons(engine, plan.campaign_id, rows)
    engine.dispose()


async def test_run_active_campaigns_follows_the_campaign_status(migrated_engine: Engine) -> None:
    """The entry point of the composition root, on the wall clock with the simulator."""
    import time

    from phonebank.dialer.service import DialerService

    rng = random.Random(2)
    with session_factory(migrated_engine).begin() as session:
        plan = build(session, 60, rng, name="Live")
        campaign = session.get(Campaign, plan.campaign_id)
        assert campaign is not None
        campaign.calling_window = {"days": {d: [["00:00", "24:00"]] for d in DAYS}}
    now = time.time()
    scenario = parse_scenario(default_scenario_dict(3, 0.3, hours=1.0))
    floor = RecordingFloor(scenario, random.Random(4), now + 3600, start=now)
    bus = LiveBus()
    service = DialerService(
        engine=migrated_engine,
        telephony=floor,
        bus=bus,
        settings=RunnerSettings(tick_seconds=0.05, drain_seconds=2.0),
        rescan_seconds=0.1,
    )
    stop = asyncio.Event()
    task = asyncio.create_task(service.run(stop))

    async def until(condition: Callable[[], bool]) -> None:
        async with asyncio.timeout(30):
            while not condition():
                floor.advance(time.time())
                await asyncio.sleep(0.02)

    try:
        await until(lambda: plan.campaign_id in service.runners)
        for station in floor.stations:
            bus.report(StationReport(station, StationMode.READY, time.time(), user_id=None))
        await until(lambda: len(floor.dialled) >= 3)

        def pause() -> None:  # as a supervisor's screen would, beside the dialer's writes
            with writer_session_factory(migrated_engine).begin() as session:
                row = session.get(Campaign, plan.campaign_id)
                assert row is not None
                row.status = CampaignStatus.PAUSED

        await asyncio.to_thread(pause)
        await until(lambda: plan.campaign_id not in service.runners)
    finally:
        stop.set()
        await task
    rows = attempts(migrated_engine)
    dialled = {int(a) for a, _, _ in floor.dialled}
    assert dialled <= {r.id for r in rows if r.started_at is not None}
    assert all(r.engine_id.startswith(f"{plan.campaign_id}-") for r in rows)
    # Stopped cleanly: nothing prepared is left waiting, the engine unregistered.
    assert not [r for r in rows if r.state is AttemptState.CREATED]
    with session_factory(migrated_engine)() as session:
        assert not session.scalars(select(EngineRow)).all()
