"""Listen, whisper and barge from the wallboard's buttons, on the real Asterisk.

A volunteer's handset is off the hook (a Local channel into the station context)
and a simulated voter is put through to it. The supervisor POSTs the coaching
route through the web app; the route's AmiClient originates the supervisor's
handset, here station 9901 of the inventory, whose channel is a Local channel
that answers at once (`phonebank-test,hold`) in place of a handset picked up.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import select

from phonebank.ami import AmiClient
from phonebank.db import upgrade
from phonebank.db.engine import session_factory
from phonebank.db.models import AuditEntry, Station
from phonebank.supervisor.coach_service import CoachingService
from phonebank.supervisor.routes import COACHING
from tests.fixtures.asterisk import RunningSandbox
from tests.fixtures.telephony import named, user_event, wait_for
from tests.integration.test_supervisor_wallboard import SupervisorWorld, supervisor_world
from tests.integration.test_telephony_calls import (
    hang_up_all,
    lift_handset,
    new_attempt,
    place_call,
)

pytestmark = pytest.mark.asterisk

SUPERVISOR_HANDSET = "9901"
# Answers at once and stays up 30 s: a supervisor who picked up.
PICKED_UP = "Local/hold@phonebank-test/n"


@pytest.fixture
async def world(sqlite_url: str, tmp_path: Path, ami: AmiClient) -> AsyncIterator[SupervisorWorld]:
    upgrade(sqlite_url)
    async with supervisor_world(sqlite_url, tmp_path, ami=ami) as built:
        with session_factory(built.web.engine).begin() as session:
            # The inventory's own form accepts DAHDI/PJSIP only; a row written here
            # stands in for the supervisor's phone on this machine without hardware.
            session.add(Station(number=SUPERVISOR_HANDSET, channel=PICKED_UP, label="Supervisor"))
            session.add_all(
                Station(number=n, channel=f"DAHDI/{n}") for n in ("9121", "9122", "9123")
            )
        yield built


async def _put_through(ami: AmiClient, station: str, number: str) -> None:
    """A volunteer at `station` is talking to a simulated voter."""
    await lift_handset(ami, station)
    events = ami.events()
    try:
        attempt = new_attempt()
        place_call(ami, number, attempt, PHONEBANK_STATION=station)
        await wait_for(events, user_event("PhonebankBridged", attempt=attempt))
    finally:
        events.close()


async def _coach(world: SupervisorWorld, station: str, mode: str) -> str:
    response = await world.web.client.post(
        "/supervisor/coach",
        data={"station": station, "mode": mode, "handset": SUPERVISOR_HANDSET},
        headers={"X-CSRF-Token": world.web.token, "Accept": "application/json"},
    )
    assert response.status == 202, await response.text()
    body = await response.json()
    return str(body["call"])


def _service(world: SupervisorWorld) -> CoachingService:
    app = world.web.client.app
    assert app is not None
    return app[COACHING]


async def _audited(world: SupervisorWorld, call: str) -> AuditEntry:
    def read() -> AuditEntry:
        with session_factory(world.web.engine)() as session:
            rows = session.scalars(select(AuditEntry).where(AuditEntry.action.like("coach.%")))
            return next(row for row in rows if row.details.get("call") == call)

    return await asyncio.to_thread(read)


async def _until_on(world: SupervisorWorld, call: str) -> None:
    service = _service(world)
    for _ in range(600):
        coaching = service.calls.get(call)
        if coaching is not None and coaching.state == "on":
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"coaching call {call} never answered: {service.calls.get(call)}")


async def test_listen_from_the_wallboard(world: SupervisorWorld, ami: AmiClient) -> None:
    station = "9121"
    spies = ami.events(names={"ChanSpyStart"})
    try:
        await _put_through(ami, station, "0100000021")
        call = await _coach(world, station, "listen")
        spy = await wait_for(spies, named("ChanSpyStart"))
        assert spy.fields["spyeechannel"].startswith(f"Local/{station}@sim-station")
        assert spy.fields["spyerchannel"].startswith("Local/hold@phonebank-test")
        await _until_on(world, call)
        entry = await _audited(world, call)
        assert (entry.action, entry.object_id) == ("coach.listen", station)
        assert entry.user_id == world.web.users["supervisor"]
        assert entry.details["channel"] == PICKED_UP
    finally:
        spies.close()
        await hang_up_all(
            ami, f"^Local/{station}@sim-station", "^Local/0100000021@", "^Local/hold@phonebank-test"
        )


async def test_whisper_from_the_wallboard(
    world: SupervisorWorld, ami: AmiClient, asterisk_sandbox: RunningSandbox
) -> None:
    station = "9122"
    events, spies = ami.events(), ami.events(names={"ChanSpyStart"})
    try:
        await _put_through(ami, station, "0100000022")
        call = await _coach(world, station, "whisper")
        coach = await wait_for(events, user_event("PhonebankCoach", station=station))
        assert coach.fields["mode"] == "whisper"
        spy = await wait_for(spies, named("ChanSpyStart"))
        assert spy.fields["spyeechannel"].startswith(f"Local/{station}@sim-station")
        shown = await asyncio.to_thread(
            asterisk_sandbox.cli, f"core show channel {spy.fields['spyerchannel']}"
        )
        assert "qwE" in shown, shown  # ChanSpy's whisper option: to the volunteer alone
        await _until_on(world, call)
        assert (await _audited(world, call)).action == "coach.whisper"
    finally:
        events.close()
        spies.close()
        await hang_up_all(
            ami, f"^Local/{station}@sim-station", "^Local/0100000022@", "^Local/hold@phonebank-test"
        )


async def test_barge_from_the_wallboard_and_the_end_of_the_coaching_call(
    world: SupervisorWorld, ami: AmiClient
) -> None:
    station = "9123"
    await _put_through(ami, station, "0100000023")
    # Subscribed after the volunteer and the voter joined, and one queue per kind:
    # AMI may deliver the dialplan's UserEvent and the bridge's join in either order.
    events, joins = ami.events(), ami.events(names={"ConfbridgeJoin"})
    try:
        call = await _coach(world, station, "barge")
        coach = await wait_for(events, user_event("PhonebankCoach", station=station), within=40)
        assert coach.fields["mode"] == "barge"
        joined = await wait_for(
            joins,
            lambda e: (
                e.fields.get("conference") == f"phonebank-station-{station}"
                and e.fields.get("channel", "").startswith("Local/hold@phonebank-test")
            ),
            within=40,
        )
        assert joined.fields["uniqueid"] == call  # the channel id the service gave it
        await _until_on(world, call)
        state = await world.hub.current()
        assert '"mode":"barge","state":"on"' in state
        # The supervisor hangs up: the coaching call leaves the wallboard.
        await hang_up_all(ami, "^Local/hold@phonebank-test")
        for _ in range(600):
            if call not in _service(world).calls:
                break
            await asyncio.sleep(0.05)
        assert call not in _service(world).calls
        assert (await _audited(world, call)).action == "coach.barge"
    finally:
        events.close()
        joins.close()
        await hang_up_all(
            ami, f"^Local/{station}@sim-station", "^Local/0100000023@", "^Local/hold@phonebank-test"
        )
