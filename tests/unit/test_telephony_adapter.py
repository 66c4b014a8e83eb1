"""AmiTelephony's I/O shell with a fake AMI link: what it sends, when, and what it emits.

The real thing runs against the sandbox Asterisk in
tests/integration/test_engine_on_asterisk.py; this checks the paths that are
hard to provoke there (a refused Originate, a reason arriving late, a Setvar on
a channel that just went away) quickly and exactly.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Collection, Mapping

import pytest

from phonebank.ami.client import ConnectionState, StateListener
from phonebank.ami.errors import AmiActionError, AmiDisconnected, AmiNotConnected
from phonebank.ami.events import OriginateResponse, parse_event
from phonebank.ami.subscription import EventSubscription
from phonebank.dialer.telephony import EventKind, TelephonyEvent
from phonebank.telephony.adapter import AmiTelephony
from phonebank.telephony.originate import CallSettings

E = EventKind
SETTINGS = CallSettings(caller_id="0199000000", trunk="sim", ring_seconds=5)


class FakeLink:
    """Stands in for AmiClient: records actions, lets the test answer Originates."""

    def __init__(self) -> None:
        self.connected = True
        self.listeners: list[StateListener] = []
        self.subscriptions: list[EventSubscription] = []
        self.actions: list[Mapping[str, str | list[str]]] = []
        self.originates: dict[str, asyncio.Future[OriginateResponse]] = {}
        self.variables: dict[str, Mapping[str, str]] = {}
        self.channels: list[dict[str, str]] = []
        self.rooms: list[dict[str, str]] = []
        self.refuse: dict[str, Exception] = {}  # action name -> what it raises

    def add_state_listener(self, listener: StateListener) -> Callable[[], None]:
        self.listeners.append(listener)
        return lambda: self.listeners.remove(listener)

    def events(
        self, *, names: Collection[str] | None = None, maxsize: int = 10_000
    ) -> EventSubscription:
        subscription = EventSubscription(maxsize, names, self.subscriptions.remove)
        self.subscriptions.append(subscription)
        return subscription

    async def action(
        self, action: Mapping[str, str | list[str]], *, within: float | None = None
    ) -> list[dict[str, str]]:
        self.actions.append(action)
        name = str(action["Action"])
        if name in self.refuse:
            raise self.refuse[name]
        if name == "CoreShowChannels":
            return [{"Response": "Success"}, *self.channels]
        if name == "ConfbridgeListRooms":
            if not self.rooms:
                raise AmiActionError(
                    "refused", {"Response": "Error", "Message": "No active conferences."}
                )
            return [{"Response": "Success"}, *self.rooms]
        return [{"Response": "Success"}]

    async def originate(
        self,
        channel: str,
        *,
        context: str,
        exten: str,
        variables: Mapping[str, str] | None = None,
        timeout_ms: int = 30_000,
        action_id: str | None = None,
    ) -> OriginateResponse:
        if not self.connected:
            raise AmiNotConnected("not connected")
        assert variables is not None
        attempt = variables["PHONEBANK_ATTEMPT"]
        self.variables[attempt] = variables
        future: asyncio.Future[OriginateResponse] = asyncio.get_running_loop().create_future()
        self.originates[attempt] = future
        return await future

    def answer(self, attempt: str, *, success: bool, reason: int = 4) -> None:
        self.originates[attempt].set_result(OriginateResponse(success=success, reason=reason))

    def emit(self, **headers: str) -> None:
        event = parse_event({key.replace("_", "-"): value for key, value in headers.items()})
        for subscription in list(self.subscriptions):
            subscription.offer(event)

    def user_event(self, name: str, attempt: str = "", channel: str = "", **fields: str) -> None:
        self.emit(
            Event="UserEvent",
            UserEvent=name,
            Channel=channel,
            ChanVariable=f"PHONEBANK_ATTEMPT={attempt}",
            Attempt=attempt,
            **fields,
        )

    def join(self, station: str) -> None:
        self.emit(
            Event="ConfbridgeJoin",
            Conference=f"phonebank-station-{station}",
            Channel=f"Local/{station}@sim-station-1;2",
            Context="phonebank-stations",
        )

    def set_state(self, state: ConnectionState) -> None:
        self.connected = state is ConnectionState.CONNECTED
        for listener in list(self.listeners):
            listener(state)


class Heard:
    def __init__(self) -> None:
        self.events: list[TelephonyEvent] = []
        self._changed = asyncio.Event()

    def __call__(self, event: TelephonyEvent) -> None:
        self.events.append(event)
        self._changed.set()

    def kinds(self, attempt: str | None = None) -> list[EventKind]:
        return [e.kind for e in self.events if attempt is None or e.attempt_id == attempt]

    async def until(self, check: Callable[[], bool], within: float = 2.0) -> None:
        async with asyncio.timeout(within):
            while not check():
                self._changed.clear()
                await self._changed.wait()


@pytest.fixture
async def setup() -> AsyncIterator[tuple[AmiTelephony, FakeLink, Heard]]:
    link, heard = FakeLink(), Heard()
    telephony = AmiTelephony(link, SETTINGS, clock=lambda: 42.0, failure_grace=0.05)
    telephony.set_listener(heard)
    await telephony.start()
    yield telephony, link, heard
    await telephony.close()


async def settle() -> None:
    for _ in range(5):
        await asyncio.sleep(0)


async def test_originate_returns_at_once_and_sends_one_originate(
    setup: tuple[AmiTelephony, FakeLink, Heard],
) -> None:
    telephony, link, heard = setup
    telephony.originate("a1", "0100000001", 0.0)
    assert link.originates == {}  # nothing was awaited yet
    await settle()
    assert list(link.originates) == ["a1"]
    assert link.variables["a1"]["PHONEBANK_TRUNK"] == "sim"
    with pytest.raises(ValueError, match="never dialled twice"):
        telephony.originate("a1", "0100000001", 1.0)
    await settle()
    assert list(link.originates) == ["a1"]
    assert telephony.originates_sent == 1
    link.answer("a1", success=True)
    await settle()
    assert telephony.originates_sent == 1 and heard.events == []


async def test_a_call_while_asterisk_is_away_fails_at_once(
    setup: tuple[AmiTelephony, FakeLink, Heard],
) -> None:
    telephony, link, heard = setup
    link.connected = False
    telephony.originate("a1", "0100000001", 0.0)
    await heard.until(lambda: heard.kinds() == [E.FAILED])
    assert heard.events[0] == TelephonyEvent(E.FAILED, 42.0, "a1")
    assert telephony.originates_sent == 0 and telephony.in_flight == frozenset()


async def test_not_a_number_never_reaches_asterisk(
    setup: tuple[AmiTelephony, FakeLink, Heard],
) -> None:
    telephony, link, heard = setup
    telephony.originate("a1", "06/evil@x", 0.0)
    assert heard.events == []  # after originate() returns, never inside it
    await heard.until(lambda: heard.kinds() == [E.INVALID])
    assert link.originates == {}


async def test_the_dialplans_reason_wins_even_when_it_comes_after_the_failure(
    setup: tuple[AmiTelephony, FakeLink, Heard],
) -> None:
    telephony, link, heard = setup
    telephony.originate("busy", "0300000001", 0.0)
    telephony.originate("odd", "0600000001", 0.0)
    await settle()
    link.answer("busy", success=False, reason=0)
    link.answer("odd", success=False, reason=0)
    await settle()
    link.user_event("PhonebankDialFailed", "busy", DialStatus="BUSY")
    await heard.until(lambda: len(heard.events) == 2)
    assert heard.kinds("busy") == [E.BUSY]
    assert heard.kinds("odd") == [E.FAILED]  # nothing said why within the grace


async def test_a_person_is_given_a_station_by_setvar(
    setup: tuple[AmiTelephony, FakeLink, Heard],
) -> None:
    telephony, link, heard = setup
    link.join("7001")
    link.join("7002")
    await heard.until(lambda: heard.kinds().count(E.STATION_READY) == 2)
    for attempt in ("gone", "a1"):
        telephony.originate(attempt, "0100000001", 0.0)
    await settle()
    # The first person's channel is gone by the time the Setvar arrives.
    link.refuse["Setvar"] = AmiActionError("No such channel", {"Message": "No such channel"})
    link.user_event("PhonebankAmd", "gone", "chan-gone", Status="HUMAN")
    await heard.until(lambda: E.ANSWERED_HUMAN in heard.kinds("gone"))
    await settle()
    del link.refuse["Setvar"]
    voter = "Local/0100000001@phonebank-outbound-00000001;1"
    link.user_event("PhonebankAmd", "a1", voter, Status="HUMAN")
    await heard.until(lambda: E.ANSWERED_HUMAN in heard.kinds("a1"))
    await settle()
    setvars = [
        (a["Channel"], a["Variable"], a["Value"]) for a in link.actions if a["Action"] == "Setvar"
    ]
    # 7001, ready longest, was freed again by the failed Setvar and named next.
    assert setvars == [
        ("chan-gone", "PHONEBANK_STATION", "7001"),
        (voter, "PHONEBANK_STATION", "7001"),
    ]
    link.user_event("PhonebankBridged", "a1", voter, Station="7001")
    link.emit(Event="Hangup", Channel=voter, ChanVariable="PHONEBANK_ATTEMPT=a1")
    await heard.until(lambda: E.HUNG_UP in heard.kinds())
    assert [(e.kind, e.station) for e in heard.events if e.attempt_id == "a1"] == [
        (E.ANSWERED_HUMAN, None),
        (E.BRIDGED, "7001"),
        (E.HUNG_UP, "7001"),
    ]


async def test_after_a_reconnect_vanished_calls_are_lost_and_stations_resynced(
    setup: tuple[AmiTelephony, FakeLink, Heard],
) -> None:
    telephony, link, heard = setup
    link.join("7001")
    telephony.originate("ringing", "0400000001", 0.0)
    telephony.originate("alive", "0400000002", 0.0)
    await settle()
    link.set_state(ConnectionState.DISCONNECTED)
    for attempt in ("ringing", "alive"):
        link.originates[attempt].set_exception(AmiDisconnected("dropped"))
    await settle()
    assert E.LOST not in heard.kinds()  # unknown until Asterisk says
    link.channels = [
        {
            "Event": "CoreShowChannel",
            "Channel": "Local/0400000002@phonebank-outbound-2;2",
            "ChanVariable": "PHONEBANK_ATTEMPT=alive",
        }
    ]
    link.rooms = [
        {"Event": "ConfbridgeListRooms", "Conference": "phonebank-station-7002", "Marked": "1"}
    ]
    link.set_state(ConnectionState.CONNECTED)
    await heard.until(lambda: E.LOST in heard.kinds())
    await settle()
    assert [(e.kind, e.attempt_id, e.station) for e in heard.events[1:]] == [
        (E.LOST, "ringing", None),
        (E.STATION_LOGGED_OUT, None, "7001"),
        (E.STATION_READY, None, "7002"),
    ]
    assert telephony.in_flight == {"alive"}
    assert telephony.reconciliations == 2  # at start, and after the login


async def test_screens_and_keys_reach_the_engine_through_the_adapter(
    setup: tuple[AmiTelephony, FakeLink, Heard],
) -> None:
    telephony, link, heard = setup
    link.join("7001")
    await heard.until(lambda: heard.kinds() == [E.STATION_READY])
    telephony.station_mode("7001", False, 50.0)
    link.user_event("PhonebankStationKey", Station="7001", Key="4")
    link.user_event("PhonebankStationKey", Station="7001", Key="0")
    await heard.until(lambda: len(heard.events) == 4)
    assert [(e.kind, e.detail) for e in heard.events[1:]] == [
        (E.STATION_PAUSED, None),
        (E.STATION_KEY, "4"),
        (E.STATION_READY, None),
    ]


async def test_a_failing_listener_does_not_stop_the_events(
    setup: tuple[AmiTelephony, FakeLink, Heard],
) -> None:
    telephony, link, heard = setup

    def clumsy(event: TelephonyEvent) -> None:
        heard(event)
        raise RuntimeError("engine bug")

    telephony.set_listener(clumsy)
    link.join("7001")
    link.join("7002")
    await heard.until(lambda: len(heard.events) == 2)


async def test_close_cancels_the_dials_in_flight() -> None:
    link = FakeLink()
    telephony = AmiTelephony(link, SETTINGS)
    await telephony.start()
    with pytest.raises(RuntimeError, match="already started"):
        await telephony.start()
    telephony.originate("a1", "0100000001", 0.0)
    await settle()
    future = link.originates["a1"]
    await telephony.close()
    assert future.cancelled()
    assert link.subscriptions == [] and link.listeners == []
