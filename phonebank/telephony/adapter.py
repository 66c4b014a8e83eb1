"""`AmiTelephony`: the dialer engine's `Telephony` on a real Asterisk, over `AmiClient`.

I/O only; the decisions are pure code beside it: `signals` reads the dialplan's
AMI events, `calls.CallBook` keeps the calls and the station pool and says what
to emit and which station to name, `reconcile` reads Asterisk's list of live
channels and conferences.

- `originate()` returns at once; one task per dial sends the Originate
  (docs/telephony.md) exactly once. Not sent (AMI down) or refused: FAILED.
  Sent but its answer lost (disconnect, time-out): the next reconciliation says.
- AMI events arrive through one subscription; its consumer maps each event
  synchronously (cheap, never awaits) and hands slow work (the `Setvar` that names
  a station) to tasks. The AMI reader itself never waits for us.
- On every login (and when the subscription had to drop events) it reconciles:
  calls whose channels are gone come out LOST, stations are resynced.

The client must let `TELEPHONY_EVENTS` through (`AmiClient(event_names=...)`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid
from collections.abc import Callable, Collection, Coroutine, Mapping
from typing import Any, Protocol

from phonebank.ami.client import ConnectionState, StateListener
from phonebank.ami.errors import (
    AmiActionError,
    AmiDisconnected,
    AmiError,
    AmiNotConnected,
    AmiTimeout,
)
from phonebank.ami.events import KNOWN_EVENTS, AmiEvent, OriginateResponse
from phonebank.ami.subscription import EventSubscription
from phonebank.dialer.telephony import Listener, TelephonyEvent
from phonebank.telephony.calls import CallBook, Effect, SetStation
from phonebank.telephony.originate import CallSettings, originate_request, valid_number
from phonebank.telephony.reconcile import live_view
from phonebank.telephony.signals import read_signal
from phonebank.telephony.stations import StationPool

log = logging.getLogger(__name__)

# What the adapter reads (`signals.read_signal`)...
ADAPTER_EVENTS = frozenset({"UserEvent", "Hangup", "ConfbridgeJoin", "ConfbridgeLeave"})
# ...and what an AmiClient shared with the rest of the service should let through.
TELEPHONY_EVENTS: frozenset[str] = KNOWN_EVENTS | ADAPTER_EVENTS
_NO_CONFERENCES = "no active conferences"


def _ignore(event: TelephonyEvent) -> None:
    log.debug("telephony event before a listener was set: %s", event)


class AmiLink(Protocol):
    """What the adapter uses of `AmiClient` (a fake stands in for it in unit tests)."""

    @property
    def connected(self) -> bool: ...

    def add_state_listener(self, listener: StateListener) -> Callable[[], None]: ...

    def events(
        self, *, names: Collection[str] | None = None, maxsize: int = 10_000
    ) -> EventSubscription: ...

    async def action(
        self, action: Mapping[str, str | list[str]], *, within: float | None = None
    ) -> list[dict[str, str]]: ...

    async def originate(
        self,
        channel: str,
        *,
        context: str,
        exten: str,
        variables: Mapping[str, str] | None = None,
        timeout_ms: int = 30_000,
        action_id: str | None = None,
    ) -> OriginateResponse: ...


class AmiTelephony:
    """The `Telephony` of the engine on Asterisk. `await start()`, use, `await close()`."""

    def __init__(
        self,
        client: AmiLink,
        settings: CallSettings,
        *,
        clock: Callable[[], float] = time.monotonic,
        stations: Collection[str] | None = None,
        failure_grace: float = 1.0,
        drain_limit: float = 2.0,
        settings_for: Callable[[str], CallSettings | None] | None = None,
    ) -> None:
        """`settings`: the default for `originate`; `stations`: the inventory (None: any
        station that logs in); `failure_grace`: how long a failed Originate waits for the
        dialplan's reason (PhonebankDialFailed) before falling back on Asterisk's;
        `settings_for(attempt_id)`: the settings of the attempt's campaign, for callers
        (the engine, through the protocol) that cannot pass them to `originate`."""
        self.client = client
        self.settings = settings
        self._settings_for = settings_for
        self.book = CallBook(StationPool(stations))
        self._clock = clock
        self._failure_grace = failure_grace
        self._drain_limit = drain_limit
        self._listener: Listener = _ignore
        self._events: EventSubscription | None = None
        self._consumer: asyncio.Task[None] | None = None
        self._tasks: set[asyncio.Task[Any]] = set()
        self._settled: dict[str, asyncio.Event] = {}
        self._reconciling = asyncio.Lock()
        self._remove_state_listener: Callable[[], None] | None = None
        self._dropped = 0
        # Figures for the benchmark and the tests.
        self.originates_sent = 0
        self.reconciliations = 0

    # -- life --------------------------------------------------------------------------------

    def set_listener(self, listener: Listener) -> None:
        self._listener = listener

    async def start(self) -> None:
        """Subscribe, and reconcile now if the client is connected (else on its login)."""
        if self._events is not None:
            raise RuntimeError("AmiTelephony was already started")
        self._events = self.client.events(names=ADAPTER_EVENTS)
        self._consumer = asyncio.create_task(self._consume(self._events), name="ami-telephony")
        self._remove_state_listener = self.client.add_state_listener(self._on_state)
        if self.client.connected:
            await self.reconcile()

    async def close(self) -> None:
        """Stop consuming events and cancel every task (dials, Setvars, reconciliations)."""
        if self._remove_state_listener is not None:
            self._remove_state_listener()
            self._remove_state_listener = None
        if self._events is not None:
            self._events.close()
        tasks = [*self._tasks, *([self._consumer] if self._consumer else [])]
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task

    @property
    def dropped_events(self) -> int:
        """AMI events this consumer fell too far behind to read (each run reconciles)."""
        return self._events.dropped if self._events is not None else 0

    @property
    def in_flight(self) -> frozenset[str]:
        """Attempts placed and not yet settled."""
        return self.book.in_flight()

    # -- the engine's side -------------------------------------------------------------------

    def originate(
        self,
        attempt_id: str,
        number: str,
        now: float,
        settings: CallSettings | None = None,
        *,
        station: str | None = None,
    ) -> None:
        """Start the call; never blocks. Raises ValueError for an attempt already in flight.

        `station` (preview): the voter goes to that station alone, reserved from now
        on; a station that cannot be reserved (`can_reserve`) fails the call, undialled."""
        reserved = self.book.placed(attempt_id, number, now, station)
        if not valid_number(number):
            # Never reaches Asterisk (it could also bend the Local channel string).
            self._spawn(self._invalid(attempt_id), f"invalid {attempt_id}")
            return
        if not reserved:
            log.warning("call %s not placed: station %s cannot take it", attempt_id, station)
            self._spawn(self._refused(attempt_id), f"refused {attempt_id}")
            return
        if settings is None and self._settings_for is not None:
            settings = self._settings_for(attempt_id)
        self._spawn(
            self._dial(attempt_id, number, settings or self.settings, station), f"dial {attempt_id}"
        )

    def can_reserve(self, station: str) -> bool:
        """A preview call may be dialled for `station` now (its handset is in, no call)."""
        return self.book.stations.can_reserve(station)

    def station_mode(self, station: str, ready: bool, at: float) -> None:
        """The volunteer's screen says ready or paused; the engine hears of it from here."""
        self._apply(self.book.station_mode(station, ready, at))

    # -- dialling ----------------------------------------------------------------------------

    async def _dial(
        self, attempt: str, number: str, settings: CallSettings, station: str | None
    ) -> None:
        request = originate_request(attempt, number, settings, station)
        # Counted as sent unless the client says it never left (AmiNotConnected).
        self.originates_sent += 1
        try:
            result = await self.client.originate(
                request.channel,
                context=request.context,
                exten=request.exten,
                variables=request.variables,
                timeout_ms=request.timeout_ms,
                action_id=f"phonebank-originate-{attempt}-{uuid.uuid4().hex[:8]}",
            )
        except (AmiNotConnected, AmiActionError) as exc:
            if isinstance(exc, AmiNotConnected):
                self.originates_sent -= 1
            log.warning("call %s not placed: %s", attempt, exc)
            self._apply(self.book.originate_refused(attempt, self._clock()))
            return
        except (AmiDisconnected, AmiTimeout, AmiError) as exc:
            log.warning("call %s: outcome unknown (%s); reconciling", attempt, exc)
            self.book.originate_unknown(attempt)
            if self.client.connected:
                self._spawn(self.reconcile(), "reconcile")
            return
        if result.success:
            self._apply(self.book.originate_answered(attempt, self._clock()))
            return
        # The dialplan's PhonebankDialFailed says why; Asterisk may send it after this.
        if attempt in self.book:
            settled = self._settled.setdefault(attempt, asyncio.Event())
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(settled.wait(), self._failure_grace)
        self._settled.pop(attempt, None)
        self._apply(self.book.originate_failed(attempt, result.reason, self._clock()))

    async def _invalid(self, attempt: str) -> None:
        # A task, so that the engine hears of it after its originate() call returned.
        self._apply(self.book.not_a_number(attempt, self._clock()))

    async def _refused(self, attempt: str) -> None:
        self._apply(self.book.originate_refused(attempt, self._clock()))

    async def _set_station(self, order: SetStation) -> None:
        try:
            await self.client.action(
                {
                    "Action": "Setvar",
                    "Channel": order.channel,
                    "Variable": "PHONEBANK_STATION",
                    "Value": order.station,
                }
            )
        except AmiError as exc:
            log.info("naming station %s for %s failed: %s", order.station, order.attempt_id, exc)
            self._apply(self.book.setvar_failed(order.attempt_id, order.station, self._clock()))

    # -- events ------------------------------------------------------------------------------

    async def _consume(self, events: EventSubscription) -> None:
        async for event in events:
            try:
                self._on_event(event)
            except Exception:  # one odd event must not stop every call in the office
                log.exception("telephony: handling %s failed", event.name)
            if events.dropped != self._dropped:
                self._dropped = events.dropped
                log.warning("telephony fell behind the AMI events; reconciling")
                self._spawn(self.reconcile(), "reconcile")

    def _on_event(self, event: AmiEvent) -> None:
        signal = read_signal(event)
        if signal is not None:
            self._apply(self.book.signal(signal, self._clock()))

    def _apply(self, effects: list[Effect]) -> None:
        for effect in effects:
            if isinstance(effect, SetStation):
                self._spawn(self._set_station(effect), f"setvar {effect.attempt_id}")
                continue
            try:
                self._listener(effect)
            except Exception:  # the engine's bug must not take the AMI consumer down
                log.exception("telephony listener failed on %s", effect)
            attempt = effect.attempt_id
            if attempt is not None and attempt not in self.book and attempt in self._settled:
                self._settled[attempt].set()

    def _spawn(self, work: Coroutine[Any, Any, None], name: str) -> None:
        task = asyncio.create_task(work, name=f"ami-telephony {name}")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    # -- reconciliation ----------------------------------------------------------------------

    def _on_state(self, state: ConnectionState) -> None:
        if state is ConnectionState.CONNECTED and self._events is not None:
            self._spawn(self.reconcile(), "reconcile")

    async def reconcile(self) -> None:
        """Ask Asterisk what lives and settle the book with it (LOST, stations)."""
        async with self._reconciling:
            asked = self.book.seq
            try:
                channels = await self.client.action({"Action": "CoreShowChannels"})
                rooms = await self._rooms()
            except AmiError as exc:
                log.warning("reconciling with Asterisk failed (next login retries): %s", exc)
                return
            await self._drain()
            self.reconciliations += 1
            self._apply(self.book.reconcile(live_view(channels, rooms), asked, self._clock()))

    async def _rooms(self) -> list[dict[str, str]]:
        try:
            return await self.client.action({"Action": "ConfbridgeListRooms"})
        except AmiActionError as exc:
            if _NO_CONFERENCES in exc.response.get("Message", "").lower():
                return []
            raise

    async def _drain(self) -> None:
        """Let the consumer handle the events that arrived before the answers did."""
        events = self._events
        deadline = asyncio.get_running_loop().time() + self._drain_limit
        while events is not None and events.pending():
            if asyncio.get_running_loop().time() > deadline:
                log.warning("telephony: reconciling with %d events unread", events.pending())
                return
            await asyncio.sleep(0)
