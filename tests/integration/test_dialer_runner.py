"""The campaign runner on the real databases, driven by the call-floor simulator on a
virtual clock: the dialling rules, the record of every call, abandon accounting,
crashes, and two runners sharing one PostgreSQL."""

from __future__ import annotations

import itertools
import random
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import partial

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from phonebank.db import session_factory
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
from phonebank.dialer.runner import CampaignRunner, RunnerSettings
from phonebank.dialer.scenario import default_scenario_dict, parse_scenario
from phonebank.dialer.sim import SimulatedFloor
from phonebank.dialer.writer import LedgerWriter
from phonebank.live.bus import ANY_STATION, CallEnded, CallPop, LiveBus

# Tuesday 24 November 2026, 10:00 in Paris.
START = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)
T0 = START.timestamp()
OPEN = "Europe/Paris"
CLOSED = ("Pacific/Noumea", "America/Martinique")  # 20:00 and 05:00 there: window shut
WINDOW = {"days": {d: [["09:00", "20:00"]] for d in ("mon", "tue", "wed", "thu", "fri")}}


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

    def originate(self, attempt_id: str, number: str, now: float) -> None:
        self.dialled.append((attempt_id, number, now))
        super().originate(attempt_id, number, now)


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
