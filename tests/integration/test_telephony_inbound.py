"""A voter calling back who presses 2, on the real Asterisk with `AmiTelephony` running.

The caller is the dialplan's `sim-caller` (it presses ${SIM_KEYS}), calling into
`phonebank-inbound` as the carrier would; the station is a simulated handset
(`Local/<n>@sim-station`) kept off the hook. The adapter names the free station
with a Setvar; the engine's listener hears only that the station is busy.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Callable

import pytest

from phonebank.ami import AmiClient, AmiError, AmiEvent
from phonebank.dialer.telephony import EventKind, TelephonyEvent
from phonebank.telephony.adapter import AmiTelephony
from phonebank.telephony.originate import CallSettings
from tests.fixtures.telephony import named, user_event, wait_for, wait_for_all

pytestmark = pytest.mark.asterisk

E = EventKind


class Office:
    """The adapter on the sandbox, with what its listener heard."""

    def __init__(self, ami: AmiClient, stations: tuple[str, ...]) -> None:
        self.ami = ami
        self.stations = stations
        self.telephony = AmiTelephony(ami, CallSettings(caller_id="0199000000"), stations=stations)
        self.heard: list[TelephonyEvent] = []
        self._changed = asyncio.Event()
        self.telephony.set_listener(self._on_event)

    def _on_event(self, event: TelephonyEvent) -> None:
        self.heard.append(event)
        self._changed.set()

    async def until(self, check: Callable[[], bool], within: float = 20.0) -> None:
        async with asyncio.timeout(within):
            while not check():
                self._changed.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._changed.wait(), 0.1)

    def said(self, kind: EventKind, station: str) -> bool:
        return any(e.kind is kind and e.station == station for e in self.heard)

    async def lift(self, station: str) -> None:
        result = await self.ami.originate(
            f"Local/{station}@sim-station/n", context="phonebank-test", exten="hold"
        )
        assert result.success, result
        await self.until(lambda: self.said(E.STATION_READY, station))

    async def call_back(self, caller: str, **variables: str) -> None:
        """`sim-caller` calls the campaign's number: its ;1 half runs phonebank-inbound."""
        result = await self.ami.originate(
            "Local/s@sim-caller/n",
            context="phonebank-inbound",
            exten="0199000000",
            caller_id=caller,
            variables={"SIM_KEYS_AFTER": "1", **variables},
        )
        assert result.success, result

    async def close(self) -> None:
        await self.telephony.close()
        stations = "|".join(self.stations)
        with contextlib.suppress(AmiError):
            await self.ami.action({"Action": "Hangup", "Channel": f"/^Local/({stations})@sim-st/"})
            await self.ami.action({"Action": "Hangup", "Channel": "/^Local/s@sim-caller-/"})


@pytest.fixture
async def office(ami: AmiClient, request: pytest.FixtureRequest) -> AsyncIterator[Office]:
    stations: tuple[str, ...] = request.param
    office = Office(ami, stations)
    await office.telephony.start()
    try:
        yield office
    finally:
        await office.close()


def of_caller(channel: str) -> Callable[[AmiEvent], bool]:
    return lambda e: e.fields.get("channel") == channel


@pytest.mark.parametrize("office", [("7401",)], indirect=True)
async def test_a_caller_who_presses_2_talks_to_the_free_volunteer(
    ami: AmiClient, office: Office
) -> None:
    caller = "0612340401"
    events = ami.events()
    try:
        await office.lift("7401")
        await office.call_back(caller, SIM_KEYS="2")
        waiting = await wait_for(events, user_event("PhonebankInboundWaiting", caller=caller))
        attempt, channel = waiting.fields["attempt"], waiting.channels()[0].name
        assert attempt.startswith("in-") and waiting.attempt_id == attempt
        bridged, joined = await wait_for_all(
            events,
            user_event("PhonebankInboundBridged", attempt=attempt),
            named("ConfbridgeJoin", conference="phonebank-station-7401", channel=channel),
        )
        assert bridged.fields["station"] == "7401"
        # The caller itself, into the station's bridge.
        assert f"PHONEBANK_ATTEMPT={attempt}" in joined.fields["chanvariable"].splitlines()
        assert int(bridged.fields["waited"]) < 20_000
        # The engine hears only that the station is busy, never of the call-back itself.
        await office.until(lambda: office.said(E.STATION_PAUSED, "7401"))
        assert office.telephony.book.inbound() == frozenset({attempt})
        # The caller hangs up: the station goes to wrap-up, silently...
        heard = len(office.heard)
        await ami.action({"Action": "Hangup", "Channel": channel})
        await wait_for(events, named("Hangup", channel=channel))
        await office.until(lambda: not office.telephony.book.inbound())
        state = office.telephony.book.stations.get("7401")
        assert state is not None and state.present and not state.available
        assert office.heard[heard:] == []
        # ...until the volunteer's screen says ready.
        office.telephony.station_mode("7401", True, time.monotonic())
        assert [(e.kind, e.station) for e in office.heard[heard:]] == [(E.STATION_READY, "7401")]
    finally:
        events.close()
    assert all(not (e.attempt_id or "").startswith("in-") for e in office.heard)
    assert office.telephony.in_flight == frozenset()


@pytest.mark.parametrize("office", [("7402",)], indirect=True)
async def test_a_caller_with_no_free_volunteer_hears_nobody_is_free(
    ami: AmiClient, office: Office
) -> None:
    caller = "0612340402"
    events = ami.events()
    seen: list[AmiEvent] = []
    try:
        # Station 7402's handset is down: nobody can take the call. A short wait.
        await office.call_back(caller, SIM_KEYS="2", PHONEBANK_INBOUND_WAIT_MS="1500")
        waiting = await wait_for(events, user_event("PhonebankInboundWaiting", caller=caller))
        attempt, channel = waiting.fields["attempt"], waiting.channels()[0].name
        await office.until(lambda: office.telephony.book.inbound() == frozenset({attempt}))
        async with asyncio.timeout(20):
            async for event in events:
                seen.append(event)
                if event.name == "Hangup" and event.fields.get("channel") == channel:
                    break
    finally:
        events.close()
    names = [
        e.fields.get("userevent") if e.name == "UserEvent" else e.name
        for e in seen
        if of_caller(channel)(e) or e.fields.get("attempt") == attempt
    ]
    assert "PhonebankInboundNobody" in names and "PhonebankInboundBridged" not in names
    assert "ConfbridgeJoin" not in names
    # The caller heard the prompt before the hang-up.
    nobody = next(e for e in seen if user_event("PhonebankInboundNobody", attempt=attempt)(e))
    assert int(nobody.fields["waited"]) >= 1500
    await office.until(lambda: not office.telephony.book.inbound())
    assert office.heard == []


async def test_a_call_back_on_an_analog_line_lands_on_s_and_is_answered(ami: AmiClient) -> None:
    # FXO lines enter the context at `s` (the number called is unknown).
    caller = "0612340403"
    events = ami.events()
    try:
        result = await ami.originate(
            "Local/s@sim-caller/n",
            context="phonebank-inbound",
            exten="s",
            caller_id=caller,
            variables={"SIM_KEYS_AFTER": "1", "SIM_KEYS": "9"},
        )
        assert result.success, result
        inbound = await wait_for(events, user_event("PhonebankInbound", caller=caller))
        assert inbound.fields["called"] == "0"
    finally:
        events.close()
