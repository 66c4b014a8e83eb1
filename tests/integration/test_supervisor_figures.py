"""The wallboard's database figures on both databases: the day's tallies, calls per
minute, penetration and leads left by time zone, abandon rates without a runner."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
from sqlalchemy import Engine, update

from phonebank.db.engine import make_engine, session_factory
from phonebank.db.enums import CampaignStatus, LeadStatus
from phonebank.db.models import (
    CallList,
    CallListEntry,
    Campaign,
    Contact,
    PhoneNumber,
    Station,
)
from phonebank.supervisor import figures
from phonebank.supervisor.floor import wallboard
from phonebank.supervisor.hub import Wallboard
from phonebank.supervisor.source import DialerLink
from tests.integration.admin_app import AT, NOW, make_users, seed_calls


@pytest.fixture
def engine(migrated_url: str) -> Iterator[Engine]:
    built = make_engine(migrated_url)
    yield built
    built.dispose()


def _seed(engine: Engine) -> int:
    users = make_users(engine)
    with session_factory(engine).begin() as session:
        cid = seed_calls(session, users["volunteer"])
        session.execute(
            update(Campaign).where(Campaign.id == cid).values(status=CampaignStatus.ACTIVE)
        )
        calls = CallList(campaign_id=cid, name="Lyon centre")
        session.add(calls)
        session.flush()
        plan = [  # zone, status, attempts, retry later, do-not-call
            ("Europe/Paris", LeadStatus.PENDING, 0, False, False),
            ("Europe/Paris", LeadStatus.PENDING, 1, False, False),
            ("Indian/Reunion", LeadStatus.PENDING, 1, True, False),
            ("Europe/Paris", LeadStatus.PENDING, 0, False, True),
            ("Europe/Paris", LeadStatus.COMPLETED, 1, False, False),
        ]
        for n, (zone, status, attempts, later, dnc) in enumerate(plan):
            contact = Contact(campaign_id=cid, first_name=f"L{n}")
            session.add(contact)
            session.flush()
            session.add(
                PhoneNumber(
                    contact_id=contact.id,
                    e164=f"+3378000000{n}",
                    time_zone=zone,
                    do_not_call=dnc,
                )
            )
            session.add(
                CallListEntry(
                    call_list_id=calls.id,
                    contact_id=contact.id,
                    status=status,
                    attempts=attempts,
                    next_attempt_at=AT + timedelta(hours=2) if later else None,
                )
            )
        session.add_all(
            [
                Station(number="1", channel="DAHDI/1"),
                Station(number="2", channel="DAHDI/2", label="Window"),
            ]
        )
        return cid


def test_day_tallies_minutes_and_lists(engine: Engine) -> None:
    cid = _seed(engine)
    with session_factory(engine)() as session:
        shown = figures.shown_campaigns(session)
        assert [s.meta.campaign_id for s in shown] == [cid]
        tallies = figures.day_tallies(session, shown, AT)[cid]
        minutes = figures.call_minutes(session, [cid], AT)
        lists = figures.list_figures(session, shown, AT)[cid]
        abandon = figures.abandon_figures(session, [cid], AT)[cid]
        stations = figures.inventory(session)
    assert tallies.contacts_today == 3 and tallies.contacts_last_hour == 1
    assert {c.key: c.count for c in tallies.dispositions} == {
        "strong_support": 2,
        "undecided": 1,
        "not_home": 1,
    }
    (vote,) = tallies.surveys
    assert vote.key == "vote" and [(c.label, c.count) for c in vote.answers] == [
        ("Yes", 2),
        ("No", 1),
    ]
    # Only the call of 30 minutes ago is within the chart's 75 minutes.
    assert [(m.minute, m.outcome, m.count) for m in minutes] == [(NOW - 30 * 60, "human", 1)]
    assert (lists.total, lists.attempted, lists.pending, lists.completed) == (5, 3, 4, 1)
    zones = {z.zone: z for z in lists.zones}
    assert (zones["Europe/Paris"].pending, zones["Europe/Paris"].due) == (2, 2)
    assert (zones["Indian/Reunion"].pending, zones["Indian/Reunion"].due) == (1, 0)
    assert abandon.live_answers_today == 3 and abandon.today == 0.0
    assert sorted((s.number, s.label) for s in stations) == [("1", ""), ("2", "Window")]


async def test_the_hub_builds_the_state_from_the_database(engine: Engine) -> None:
    cid = _seed(engine)
    hub = Wallboard(floor=DialerLink(), readers=session_factory(engine), clock=lambda: NOW)
    await hub.current()
    state = hub.state
    assert state["dialer"] is False and state["seq"] == 1
    (campaign,) = state["campaigns"]
    assert campaign["id"] == cid and campaign["running"] is False
    assert campaign["lists"]["penetration"] == 0.6
    assert campaign["abandon"]["answers"] == 3
    assert [s["state"] for s in state["stations"]] == ["handset_down", "handset_down"]
    # A second reading within the second gives the same text, computed once.
    assert await hub.current() == hub.text and hub.seq == 1
    assert wallboard(hub.inputs(NOW), NOW)["campaigns"] == state["campaigns"]
