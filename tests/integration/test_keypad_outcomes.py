"""Outcomes keyed on a handset without a screen (`*` and the disposition's digit)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from phonebank.calls.keypad import KeypadOutcomes, keyed_outcome
from phonebank.db.engine import session_factory, writer_session_factory
from phonebank.db.enums import LeadStatus
from phonebank.db.models import CallListEntry, Disposition, Outcome
from tests.fixtures.volunteer import World, build_world

NOW = datetime(2026, 11, 23, 18, 0, tzinfo=UTC)


@pytest.fixture
def world(migrated_url: str) -> Iterator[World]:
    built = build_world(migrated_url)
    yield built
    built.engine.dispose()


def _key_of(world: World, code: str) -> str:
    with world.session() as session:
        key = session.scalar(
            select(Disposition.shortcut_key).where(
                Disposition.campaign_id == world.campaign_id, Disposition.code == code
            )
        )
    assert key is not None
    return key


def test_the_digit_records_the_disposition_of_the_stations_last_call_once(world: World) -> None:
    attempt = world.attempt("4")
    key = _key_of(world, "undecided")
    sessions = session_factory(world.engine)
    with sessions.begin() as session:
        first = keyed_outcome(session, "4", key, str(attempt.id), NOW)
    with sessions.begin() as session:
        again = keyed_outcome(session, "4", key, str(attempt.id), NOW)
    assert first is not None and first.created
    assert again is not None and not again.created and again.outcome_id == first.outcome_id
    with world.session() as session:
        outcome = session.scalars(select(Outcome)).one()
        assert outcome.attempt_id == attempt.id and outcome.recorded_by_id is None
        entry = session.get(CallListEntry, attempt.call_list_entry_id)
        assert entry is not None and entry.status is not LeadStatus.CLAIMED


def test_keys_that_do_not_apply_record_nothing(world: World) -> None:
    attempt = world.attempt("4")
    sessions = session_factory(world.engine)
    key = _key_of(world, "undecided")
    with sessions.begin() as session:
        assert keyed_outcome(session, "5", key, str(attempt.id), NOW) is None  # other station
        assert keyed_outcome(session, "4", key, None, NOW) is None  # no call yet
        assert keyed_outcome(session, "4", "#", str(attempt.id), NOW) is None  # no such key
    with world.session() as session:
        assert session.scalars(select(Outcome)).all() == []


async def test_a_station_with_its_screen_open_records_from_the_screen_only(world: World) -> None:
    attempt = world.attempt("6")
    key = _key_of(world, "undecided")
    screens = {"6"}
    keypad = KeypadOutcomes(
        writer_session_factory(world.engine), NOW.timestamp, lambda s: s in screens
    )
    keypad("6", key, str(attempt.id), 0.0)
    await keypad.drain()
    with world.session() as session:
        assert session.scalars(select(Outcome)).all() == []
    screens.clear()
    keypad("6", key, str(attempt.id), 0.0)
    await asyncio.wait_for(keypad.drain(), 10)
    with world.session() as session:
        assert len(session.scalars(select(Outcome)).all()) == 1
