"""Lead claiming on the real databases: the dialling rules, two engine processes, crashes."""

from __future__ import annotations

import multiprocessing
from concurrent.futures import ProcessPoolExecutor
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine, create_engine, select
from sqlalchemy.orm import Session, sessionmaker

import phonebank.db.models  # noqa: F401  (every table on the metadata)
from phonebank.db import Base, make_engine, session_factory, upgrade
from phonebank.db.enums import CallbackState, LeadStatus
from phonebank.db.models import (
    Callback,
    CallList,
    CallListEntry,
    Campaign,
    Contact,
    DoNotCallEntry,
    PhoneNumber,
)
from phonebank.dialer.repo import (
    claim_leads,
    heartbeat,
    register_engine,
    release_stale_claims,
)

NOW = datetime(2026, 11, 23, 15, 0, tzinfo=UTC)
CLOSED_ZONE = "Indian/Reunion"  # the test's calling window is shut there


def callable_at(tz: str, when: datetime) -> bool:
    return tz != CLOSED_ZONE


def next_opening(tz: str, when: datetime) -> datetime:
    return when + timedelta(hours=12)


def _campaign(session: Session, name: str = "C") -> tuple[Campaign, CallList]:
    campaign = Campaign(name=name, max_attempts=3)
    session.add(campaign)
    session.flush()
    call_list = CallList(campaign=campaign, name="L")
    session.add(call_list)
    session.flush()
    return campaign, call_list


def _lead(
    session: Session,
    campaign: Campaign,
    call_list: CallList,
    n: int,
    *,
    tz: str = "Europe/Paris",
    phone_dnc: bool = False,
    listed_dnc: bool = False,
    attempts: int = 0,
    priority: int = 0,
    callback_in: timedelta | None = None,
    abandoned_ago: timedelta | None = None,
) -> CallListEntry:
    e164 = f"+3361{n:07d}"
    contact = Contact(campaign_id=campaign.id, first_name=f"P{n}", last_name="Test")
    contact.phones.append(PhoneNumber(e164=e164, time_zone=tz, do_not_call=phone_dnc))
    session.add(contact)
    if listed_dnc:
        session.add(DoNotCallEntry(e164=e164, reason="asked", source="test"))
    session.flush()
    entry = CallListEntry(
        call_list=call_list, contact=contact, attempts=attempts, priority=priority
    )
    if abandoned_ago is not None:
        entry.last_outcome = "abandoned"
        entry.last_attempt_at = NOW - abandoned_ago
    session.add(entry)
    if callback_in is not None:
        session.add(
            Callback(
                campaign_id=campaign.id,
                contact_id=contact.id,
                due_at=NOW + callback_in,
                time_zone=tz,
                state=CallbackState.SCHEDULED,
            )
        )
    session.flush()
    return entry


@pytest.fixture
def sessions(migrated_engine: Engine) -> sessionmaker[Session]:
    return session_factory(migrated_engine)


def test_claims_follow_every_rule(sessions: sessionmaker[Session]) -> None:
    with sessions.begin() as session:
        campaign, call_list = _campaign(session)
        ok = _lead(session, campaign, call_list, 1)
        high = _lead(session, campaign, call_list, 2, priority=5)
        due_callback = _lead(session, campaign, call_list, 3, callback_in=-timedelta(minutes=5))
        flagged = _lead(session, campaign, call_list, 4, phone_dnc=True)
        listed = _lead(session, campaign, call_list, 5, listed_dnc=True)
        exhausted = _lead(session, campaign, call_list, 6, attempts=3)
        abroad = _lead(session, campaign, call_list, 7, tz=CLOSED_ZONE)
        dropped = _lead(session, campaign, call_list, 8, abandoned_ago=timedelta(hours=10))
        _lead(session, campaign, call_list, 9, callback_in=timedelta(hours=2))
        campaign_id = campaign.id
    with sessions.begin() as session:
        claimed = claim_leads(
            session,
            engine_id="e1",
            campaign_id=campaign_id,
            limit=10,
            now=NOW,
            callable_at=callable_at,
            next_opening=next_opening,
        )
    # Due callback first, then by priority; nothing the rules forbid.
    assert [c.entry_id for c in claimed] == [due_callback.id, high.id, ok.id]
    with sessions() as session:
        states = {e.id: e for e in session.scalars(select(CallListEntry))}
        assert {e.id for e in states.values() if e.status is LeadStatus.CLAIMED} == {
            due_callback.id,
            high.id,
            ok.id,
        }
        assert all(states[c.entry_id].claimed_by == "e1" for c in claimed)
        # The lead outside its window waits for the window to open instead of
        # crowding the head of the queue.
        assert states[abroad.id].next_attempt_at == NOW + timedelta(hours=12)
        # What can never be dialled is closed; an abandoned call waits out its 72 h.
        assert states[flagged.id].status is states[listed.id].status is LeadStatus.EXCLUDED
        assert states[exhausted.id].status is LeadStatus.EXHAUSTED
        assert states[dropped.id].next_attempt_at == NOW + timedelta(hours=62)
    with sessions.begin() as session:
        again = claim_leads(
            session,
            engine_id="e2",
            campaign_id=campaign_id,
            limit=10,
            now=NOW,
            callable_at=callable_at,
        )
    assert again == []


def test_stale_engine_claims_are_released(sessions: sessionmaker[Session]) -> None:
    with sessions.begin() as session:
        campaign, call_list = _campaign(session)
        for n in range(6):
            _lead(session, campaign, call_list, n)
        register_engine(session, "dead", NOW - timedelta(minutes=10))
        register_engine(session, "alive", NOW - timedelta(minutes=10))
        campaign_id = campaign.id
    with sessions.begin() as session:
        first = claim_leads(
            session,
            engine_id="dead",
            campaign_id=campaign_id,
            limit=3,
            now=NOW,
            callable_at=callable_at,
        )
        second = claim_leads(
            session,
            engine_id="alive",
            campaign_id=campaign_id,
            limit=3,
            now=NOW,
            callable_at=callable_at,
        )
        heartbeat(session, "alive", NOW)
    assert len(first) == len(second) == 3
    with sessions.begin() as session:
        released = release_stale_claims(session, NOW, timedelta(seconds=60))
    assert released == 3
    with sessions() as session:
        entries = list(session.scalars(select(CallListEntry)))
    assert sorted(e.claimed_by or "" for e in entries) == ["", "", "", "alive", "alive", "alive"]
    assert {e.status for e in entries if e.claimed_by is None} == {LeadStatus.PENDING}


def _claim_until_empty(url: str, engine_id: str, campaign_id: int) -> list[int]:
    """One engine process: claim small batches as fast as it can until none are left."""
    engine = make_engine(url)
    sessions = session_factory(engine)
    got: list[int] = []
    empty = 0
    while empty < 3:
        with sessions.begin() as session:
            batch = claim_leads(
                session,
                engine_id=engine_id,
                campaign_id=campaign_id,
                limit=3,
                now=NOW,
                callable_at=callable_at,
            )
        got.extend(lead.entry_id for lead in batch)
        empty = empty + 1 if not batch else 0
    engine.dispose()
    return got


@pytest.mark.postgres
def test_two_engine_processes_never_claim_the_same_lead(fresh_database_url: str) -> None:
    upgrade(fresh_database_url)
    engine = make_engine(fresh_database_url)
    with session_factory(engine).begin() as session:
        campaign, call_list = _campaign(session)
        eligible = {_lead(session, campaign, call_list, n).id for n in range(300)}
        for n in range(300, 330):
            _lead(session, campaign, call_list, n, listed_dnc=True)
        campaign_id = campaign.id
    engine.dispose()
    spawn = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=2, mp_context=spawn) as pool:
        one = pool.submit(_claim_until_empty, fresh_database_url, "engine-a", campaign_id)
        two = pool.submit(_claim_until_empty, fresh_database_url, "engine-b", campaign_id)
        a, b = one.result(timeout=120), two.result(timeout=120)
    assert not set(a) & set(b), "a lead was claimed by both engines"
    assert len(a) == len(set(a)) and len(b) == len(set(b))
    assert set(a) | set(b) == eligible
    # Both really worked at the same time (not one after the other).
    assert a and b


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    st.lists(
        st.tuples(
            st.booleans(),  # phone flagged do-not-call
            st.booleans(),  # number on the do-not-call list
            st.integers(0, 4),  # attempts so far
            st.sampled_from(["Europe/Paris", CLOSED_ZONE, "America/Martinique"]),
            st.sampled_from([None, 1, 80]),  # hours since an abandoned call
        ),
        max_size=12,
    ),
    st.integers(1, 15),
)
def test_property_claims_never_break_a_rule(
    leads: list[tuple[bool, bool, int, str, int | None]], limit: int
) -> None:
    engine = create_engine("sqlite://")
    Base.metadata.create_all(engine)
    sessions = sessionmaker(engine, expire_on_commit=False)
    with sessions.begin() as session:
        campaign, call_list = _campaign(session)
        made = {}
        for n, (phone_dnc, listed, attempts, tz, abandoned) in enumerate(leads):
            ago = timedelta(hours=abandoned) if abandoned is not None else None
            entry = _lead(
                session,
                campaign,
                call_list,
                n,
                tz=tz,
                phone_dnc=phone_dnc,
                listed_dnc=listed,
                attempts=attempts,
                abandoned_ago=ago,
            )
            made[entry.id] = (phone_dnc, listed, attempts, tz, ago)
        campaign_id = campaign.id
    with sessions.begin() as session:
        claimed = claim_leads(
            session,
            engine_id="p",
            campaign_id=campaign_id,
            limit=limit,
            now=NOW,
            callable_at=callable_at,
        )
    assert len(claimed) <= limit
    assert len({c.entry_id for c in claimed}) == len(claimed)
    for lead in claimed:
        phone_dnc, listed, attempts, tz, ago = made[lead.entry_id]
        assert not phone_dnc and not listed
        assert attempts < 3
        assert tz != CLOSED_ZONE
        assert ago is None or ago >= timedelta(hours=72)
    allowed = [
        entry_id
        for entry_id, (phone_dnc, listed, attempts, tz, ago) in made.items()
        if not phone_dnc
        and not listed
        and attempts < 3
        and tz != CLOSED_ZONE
        and (ago is None or ago >= timedelta(hours=72))
    ]
    # Nothing callable is left behind while there is room.
    assert len(claimed) == min(limit, len(allowed))
    engine.dispose()
