"""Calls through the real Asterisk: stations, AMD, the 2-second rule, safe harbor, coaching.

The voters are the simulated telephone network of the dialplan (sim-pstn), whose
prompts espeak-ng spoke: AMD() classifies real audio. Stations are Local
channels into the station context (a handset off the hook).
"""

from __future__ import annotations

import asyncio
import re
import uuid
from typing import Any

import pytest

from phonebank.ami import AmiClient
from tests.fixtures.asterisk import RunningSandbox
from tests.fixtures.telephony import named, user_event, wait_for, wait_for_all

pytestmark = pytest.mark.asterisk


async def lift_handset(ami: AmiClient, station: str) -> None:
    """A station's handset goes off the hook and stays in its bridge (30 s)."""
    events = ami.events()
    try:
        result = await ami.originate(
            f"Local/{station}@sim-station/n", context="phonebank-test", exten="hold"
        )
        assert result.success, result
        await wait_for(events, named("ConfbridgeJoin", conference=f"phonebank-station-{station}"))
    finally:
        events.close()


async def hang_up_all(ami: AmiClient, *patterns: str) -> None:
    for pattern in patterns:
        await ami.action({"Action": "Hangup", "Channel": f"/{pattern}/"})


def place_call(ami: AmiClient, number: str, attempt: str, **variables: str) -> asyncio.Task[Any]:
    """The engine's Originate, as docs/telephony.md describes it."""
    return asyncio.create_task(
        ami.originate(
            f"Local/{number}@phonebank-outbound/n",
            context="phonebank-answered",
            exten="s",
            variables={
                "PHONEBANK_ATTEMPT": attempt,
                "PHONEBANK_TRUNK": "sim",
                "PHONEBANK_CALLERID": "0199000000",
                **variables,
            },
            timeout_ms=15_000,
        )
    )


def new_attempt() -> str:
    return f"t-{uuid.uuid4().hex[:10]}"


async def test_a_human_is_put_through_to_the_station_the_engine_names(ami: AmiClient) -> None:
    station, attempt = "9101", new_attempt()
    await lift_handset(ami, station)
    events = ami.events()
    try:
        # A loaded test machine can take longer than the real 1.2 s to pass the event
        # to the test and the Setvar back: give this call a campaign limit of 5 s
        # (a channel variable shadows the dialplan's global default).
        call = place_call(ami, "0100000001", attempt, PHONEBANK_STATION_WAIT_MS="5000")
        amd = await wait_for(events, user_event("PhonebankAmd", attempt=attempt))
        assert amd.fields["status"] == "HUMAN", amd.fields
        # The engine picks the station now, as it would on this event.
        channel = amd.fields["channel"].splitlines()[0]
        await ami.action(
            {
                "Action": "Setvar",
                "Channel": channel,
                "Variable": "PHONEBANK_STATION",
                "Value": station,
            }
        )
        bridged, joined = await wait_for_all(
            events,
            user_event("PhonebankBridged", attempt=attempt),
            named("ConfbridgeJoin", conference=f"phonebank-station-{station}", channel=channel),
        )
        assert bridged.fields["station"] == station
        latency_ms = (float(joined.fields["timestamp"]) - float(amd.fields["timestamp"])) * 1000
        print(f"AMD HUMAN -> voter in the station's bridge (engine Setvar): {latency_ms:.1f} ms")
        assert int(bridged.fields["waited"]) >= 0
        assert (await call).success
    finally:
        events.close()
        await hang_up_all(ami, f"^Local/{station}@sim-station", "^Local/0100000001@")


async def test_a_station_named_in_advance_joins_at_once(ami: AmiClient) -> None:
    station, attempt = "9102", new_attempt()
    await lift_handset(ami, station)
    events = ami.events()
    try:
        place_call(ami, "0100000002", attempt, PHONEBANK_STATION=station)
        amd, joined = await wait_for_all(
            events,
            user_event("PhonebankAmd", attempt=attempt),
            named("ConfbridgeJoin", conference=f"phonebank-station-{station}"),
        )
        latency_ms = (float(joined.fields["timestamp"]) - float(amd.fields["timestamp"])) * 1000
        print(f"AMD HUMAN -> voter in the station's bridge (station preset): {latency_ms:.1f} ms")
        assert amd.fields["status"] == "HUMAN"
        assert joined.fields["channel"] == amd.fields["channel"].splitlines()[0]
    finally:
        events.close()
        await hang_up_all(ami, f"^Local/{station}@sim-station", "^Local/0100000002@")


async def test_a_machine_gets_the_voicemail_message_after_the_beep(ami: AmiClient) -> None:
    attempt = new_attempt()
    events = ami.events()
    try:
        place_call(ami, "0200000001", attempt, PHONEBANK_MACHINE="message")
        amd = await wait_for(events, user_event("PhonebankAmd", attempt=attempt))
        assert amd.fields["status"] == "MACHINE", amd.fields
        machine = await wait_for(events, user_event("PhonebankMachine", attempt=attempt))
        assert machine.fields["action"] == "message"
        left = await wait_for(
            events, user_event("PhonebankVoicemailLeft", attempt=attempt), within=40
        )
        assert left.fields["playback"] == "SUCCESS"
        # Played after the greeting and its beep, not over them.
        assert float(left.fields["timestamp"]) - float(amd.fields["timestamp"]) > 9
    finally:
        events.close()
        await hang_up_all(ami, "^Local/0200000001@")


async def test_no_station_in_time_plays_the_safe_harbor_and_counts_an_abandon(
    ami: AmiClient,
) -> None:
    attempt = new_attempt()
    events = ami.events()
    try:
        # Station 9199 is named but nobody is in its bridge: not a ready station.
        place_call(ami, "0100000003", attempt, PHONEBANK_STATION="9199")
        await wait_for(events, user_event("PhonebankAmd", attempt=attempt, status="HUMAN"))
        await wait_for(events, user_event("PhonebankStationAbsent", attempt=attempt))
        abandoned = await wait_for(events, user_event("PhonebankAbandoned", attempt=attempt))
        waited = int(abandoned.fields["waited"])
        assert 1200 <= waited < 2000  # the default limit, PHONEBANK_STATION_WAIT_MS
        hangup = await wait_for(
            events, lambda e: e.name == "Hangup" and e.attempt_id == attempt, within=20
        )
        # The recording was played in full before the hang-up (it lasts ~9 s).
        assert float(hangup.fields["timestamp"]) - float(abandoned.fields["timestamp"]) > 5
    finally:
        events.close()


async def test_detection_turned_off_puts_even_a_machine_through_at_once(ami: AmiClient) -> None:
    station, attempt = "9108", new_attempt()
    await lift_handset(ami, station)
    events = ami.events()
    try:
        place_call(
            ami, "0200000008", attempt, PHONEBANK_AMD_ENABLED="no", PHONEBANK_STATION=station
        )
        amd, bridged = await wait_for_all(
            events,
            user_event("PhonebankAmd", attempt=attempt),
            user_event("PhonebankBridged", attempt=attempt),
        )
        assert (amd.fields["status"], amd.fields["cause"]) == ("HUMAN", "DISABLED")
        assert bridged.fields["station"] == station
    finally:
        events.close()
        await hang_up_all(ami, f"^Local/{station}@sim-station", "^Local/0200000008@")


async def test_a_supervisor_listens_in_on_a_station(ami: AmiClient) -> None:
    station, attempt = "9103", new_attempt()
    await lift_handset(ami, station)
    events, spies = ami.events(), ami.events(names={"ChanSpyStart"})
    try:
        place_call(ami, "0100000004", attempt, PHONEBANK_STATION=station)
        await wait_for(events, user_event("PhonebankBridged", attempt=attempt))
        # The supervisor's handset is originated into the coaching context.
        result = await ami.originate(
            f"Local/71{station}@phonebank-coach/n", context="phonebank-test", exten="hold"
        )
        assert result.success
        coach = await wait_for(events, user_event("PhonebankCoach", station=station))
        assert coach.fields["mode"] == "listen"
        spy = await wait_for(spies, named("ChanSpyStart"))
        assert spy.fields["spyeechannel"].startswith(f"Local/{station}@sim-station")
        assert spy.fields["spyerchannel"].startswith(f"Local/71{station}@phonebank-coach")
    finally:
        events.close()
        spies.close()
        await hang_up_all(
            ami, f"^Local/{station}@sim-station", "^Local/0100000004@", f"^Local/71{station}@"
        )


async def test_a_supervisor_whispers_to_the_volunteer_only(
    ami: AmiClient, asterisk_sandbox: RunningSandbox
) -> None:
    station, attempt = "9106", new_attempt()
    await lift_handset(ami, station)
    events, spies = ami.events(), ami.events(names={"ChanSpyStart"})
    try:
        place_call(ami, "0100000006", attempt, PHONEBANK_STATION=station)
        await wait_for(events, user_event("PhonebankBridged", attempt=attempt))
        result = await ami.originate(
            f"Local/72{station}@phonebank-coach/n", context="phonebank-test", exten="hold"
        )
        assert result.success
        coach = await wait_for(events, user_event("PhonebankCoach", station=station))
        assert coach.fields["mode"] == "whisper"
        spy = await wait_for(spies, named("ChanSpyStart"))
        # The spied channel is the volunteer's handset, not the voter's: the whisper
        # ('w') goes to the volunteer alone.
        assert spy.fields["spyeechannel"].startswith(f"Local/{station}@sim-station")
        shown = await asyncio.to_thread(
            asterisk_sandbox.cli, f"core show channel {spy.fields['spyerchannel']}"
        )
        assert re.search(r"Data:\s*,q?w", shown), shown
    finally:
        events.close()
        spies.close()
        await hang_up_all(
            ami, f"^Local/{station}@sim-station", "^Local/0100000006@", f"^Local/72{station}@"
        )


async def test_a_supervisor_barges_into_the_stations_bridge(
    ami: AmiClient, asterisk_sandbox: RunningSandbox
) -> None:
    station, attempt = "9107", new_attempt()
    await lift_handset(ami, station)
    events = ami.events()
    try:
        place_call(ami, "0100000007", attempt, PHONEBANK_STATION=station)
        await wait_for(events, user_event("PhonebankBridged", attempt=attempt))
        result = await ami.originate(
            f"Local/73{station}@phonebank-coach/n", context="phonebank-test", exten="hold"
        )
        assert result.success
        # Both the volunteer and the voter hear a barging supervisor: the supervisor is
        # a third member of the station's bridge. (The UserEvent and the join may come
        # in either order; the match names the supervisor's own join.)
        coach, _joined = await wait_for_all(
            events,
            user_event("PhonebankCoach", station=station),
            lambda e: (
                e.name == "ConfbridgeJoin"
                and e.fields.get("conference") == f"phonebank-station-{station}"
                and e.fields.get("channel", "").startswith(f"Local/73{station}@phonebank-coach")
            ),
            within=40,
        )
        assert coach.fields["mode"] == "barge"
        listing = await asyncio.to_thread(
            asterisk_sandbox.cli, f"confbridge list phonebank-station-{station}"
        )
        assert listing.count("Local/") == 3, listing
    finally:
        events.close()
        await hang_up_all(
            ami, f"^Local/{station}@sim-station", "^Local/0100000007@", f"^Local/73{station}@"
        )


async def test_station_login_logout_and_keypad_codes_reach_the_ami(ami: AmiClient) -> None:
    station = "9104"
    events = ami.events()
    try:
        await lift_handset(ami, station)
        login = await wait_for(events, user_event("PhonebankStationLogin", station=station))
        # Keys sent by the ;1 half are what the station's ;2 half hears from its keypad.
        handset = login.fields["channel"].splitlines()[0].replace(";2", ";1")
        for digit in "*3":
            # The client adds "Async: false" itself (panoramisk 1.4 needs it here).
            await ami.action({"Action": "PlayDTMF", "Channel": handset, "Digit": digit})
        key = await wait_for(events, user_event("PhonebankStationKey", station=station))
        assert key.fields["key"] == "3"
        await hang_up_all(ami, f"^Local/{station}@sim-station")
        await wait_for(events, user_event("PhonebankStationLogout", station=station))
    finally:
        events.close()


async def test_only_the_dialers_events_leave_asterisk(ami: AmiClient) -> None:
    events = ami.events()
    try:
        result = await ami.originate(
            "Local/echo@phonebank-test", context="phonebank-test", exten="echo"
        )
        assert result.success
        await wait_for(events, named("Hangup"))
        await asyncio.sleep(0.2)
        seen = set()
        while events.pending():
            seen.add((await events.get(1)).name)
    finally:
        events.close()
    assert "Newexten" not in seen and "HangupRequest" not in seen
