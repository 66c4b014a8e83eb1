"""The calls in flight and what each signal does to them: pure, the clock passed in.

`CallBook` is the adapter's memory. Every method takes the time and returns
effects: `TelephonyEvent`s for the engine and `SetStation` orders (an AMI
`Setvar PHONEBANK_STATION` on the answered leg). The adapter performs them; no
I/O happens here.

A call's life: *dialing* (Originate sent) → *waiting* (AMD said human, a station
is being found) → *bridged* (in a station's bridge) → over. Each call gets
exactly one final event: ANSWERED_MACHINE, BUSY, NO_ANSWER, INVALID, FAILED,
ABANDONED, HUNG_UP or LOST; once it has, the book forgets it and ignores the
call's later AMI events.

Decisions worth knowing (docs/telephony.md has the table):
- the callee hanging up during AMD (no verdict, or AMDSTATUS HANGUP) is NO_ANSWER;
- a person who hangs up while waiting for a station is ABANDONED, as the dialplan's
  own time-out is: the call was not put through;
- a station whose handset leaves with a voter in its bridge ends that call (HUNG_UP)
  before it logs out;
- reconciling after a reconnect: a call whose channels are gone becomes LOST
  (carrying its station if it was bridged); one found in a station's bridge that the
  book did not know as bridged becomes BRIDGED;
- a preview call is placed for one station (`placed(..., station=)`), named in the
  Originate itself: that station is reserved from the dial on, taken again if its
  handset leaves and comes back while the call rings, and the voter is never given
  another one (without its handset there the dialplan abandons the call).

Call-backs (a voter calling the campaign's number who pressed 2) are not the
engine's: they have their own id (`in-<uniqueid>`), live in `_inbound`, and never
appear in a `TelephonyEvent`, which the engine, runner and ledger would take for
one of their attempts. The caller joins the same line as the outbound people
waiting, in order of arrival (first come first: a caller waits at most
PHONEBANK_INBOUND_WAIT_MS, so none is passed over for ever, and a person the
engine dialled is not put behind callers who arrived after them), and gets a
station by the same `SetStation`. While the caller talks, the engine must not
count that station as ready: its bridging emits STATION_PAUSED for the station.
When the caller hangs up the station goes to wrap-up like after any call, and
nothing is emitted: it is taken again once the volunteer says ready (screen or
*0), which emits STATION_READY as usual.
"""

from __future__ import annotations

import enum
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field

from phonebank.dialer.telephony import EventKind, TelephonyEvent
from phonebank.telephony.signals import (
    Abandoned,
    Bridged,
    CallLeft,
    DialFailed,
    InboundBridged,
    InboundGaveUp,
    InboundWaiting,
    Signal,
    StationAbsent,
    StationJoined,
    StationKey,
    StationLeft,
    Verdict,
    dial_status_kind,
    is_inbound,
    originate_reason_kind,
    verdict_kind,
)
from phonebank.telephony.stations import StationPool

log = logging.getLogger(__name__)

READY_KEY = "0"  # *0 on the handset: wrap-up over


@dataclass(frozen=True, slots=True)
class SetStation:
    """Tell the dialplan which station takes this call (AMI Setvar on `channel`)."""

    attempt_id: str
    channel: str
    station: str


Effect = TelephonyEvent | SetStation


@dataclass(frozen=True, slots=True)
class LiveView:
    """What Asterisk reports at one instant (see phonebank.telephony.reconcile)."""

    # attempt → the station whose bridge its answered leg is in (None: not bridged)
    attempts: Mapping[str, str | None] = field(default_factory=dict)
    # stations whose handset is in their bridge
    stations: frozenset[str] = frozenset()


class Phase(enum.Enum):
    DIALING = "dialing"
    WAITING = "waiting"
    BRIDGED = "bridged"


@dataclass(slots=True)
class Call:
    attempt_id: str
    number: str
    placed_at: float
    phase: Phase = Phase.DIALING
    originating: bool = True  # the Originate's answer is still awaited
    answered: bool = False  # the Originate said the callee picked up
    gone: bool = False  # the answered leg hung up before any outcome
    channel: str = ""  # the answered leg (from the AMD verdict)
    seq: int = 0  # the book's counter when this call last changed
    station: str | None = None  # preview: the only station this voter may be put through to


@dataclass(slots=True)
class InboundCall:
    """A voter who called back and asked for a volunteer."""

    attempt_id: str  # in-<uniqueid>, from the dialplan
    channel: str  # the caller's channel, where PHONEBANK_STATION is set
    seq: int = 0
    bridged: bool = False


class CallBook:
    def __init__(self, stations: StationPool | None = None) -> None:
        self.stations = stations or StationPool()
        self._calls: dict[str, Call] = {}
        self._waiting: list[str] = []  # people waiting for a station, first come first
        self._station_seq: dict[str, int] = {}
        # Calls in a station's bridge that another process placed (ours before a
        # crash): attempt -> station. They keep their station busy until they end.
        self._foreign: dict[str, str] = {}
        self._inbound: dict[str, InboundCall] = {}  # call-backs waiting or talking
        # Bumped by every change; a reconciliation skips what changed after it asked.
        self.seq = 0
        self._holding = False

    # -- reading -----------------------------------------------------------------------------

    def __contains__(self, attempt: object) -> bool:
        return attempt in self._calls

    def get(self, attempt: str) -> Call | None:
        return self._calls.get(attempt)

    def in_flight(self) -> frozenset[str]:
        return frozenset(self._calls)

    def inbound(self) -> frozenset[str]:
        """Call-backs waiting for a station or talking to one."""
        return frozenset(self._inbound)

    def inbound_call(self, attempt: str) -> InboundCall | None:
        return self._inbound.get(attempt)

    # -- the Originate -----------------------------------------------------------------------

    def placed(self, attempt: str, number: str, at: float, station: str | None = None) -> bool:
        """A new call; with `station`, reserved for that station alone (preview).

        False when that station cannot be reserved (its handset is not in its bridge,
        or it holds another call): the call is in the book, and must then be refused."""
        if attempt in self._calls:
            raise ValueError(f"attempt {attempt!r} is already in flight: it is never dialled twice")
        if is_inbound(attempt):
            raise ValueError(f"attempt {attempt!r} looks like a call-back's id")
        self.seq += 1
        self._calls[attempt] = Call(attempt, number, at, seq=self.seq, station=station)
        if station is None:
            return True
        self._mark_station(station)
        return self.stations.reserve(station, attempt)

    def pinned(self, station: str) -> str | None:
        """The preview call in flight that was dialled for `station`, if any."""
        for call in self._calls.values():
            if call.station == station and call.phase is not Phase.BRIDGED:
                return call.attempt_id
        return None

    def originate_answered(self, attempt: str, at: float) -> list[Effect]:
        self.seq += 1
        call = self._touch(attempt)
        if call is None:
            return []
        call.originating, call.answered = False, True
        if call.gone and call.phase is Phase.DIALING:
            return self._settle(call, EventKind.NO_ANSWER, at)
        return []

    def originate_failed(self, attempt: str, reason: int | None, at: float) -> list[Effect]:
        """Asterisk's failed OriginateResponse, once the dialplan had its chance to say why."""
        self.seq += 1
        call = self._touch(attempt)
        if call is None:
            return []
        call.originating = False
        if call.phase is not Phase.DIALING:
            return []
        return self._settle(call, originate_reason_kind(reason), at)

    def originate_refused(self, attempt: str, at: float) -> list[Effect]:
        """Not sent (AMI down) or refused by Asterisk: nobody was called."""
        self.seq += 1
        call = self._touch(attempt)
        if call is None or call.phase is not Phase.DIALING:
            return []
        return self._settle(call, EventKind.FAILED, at)

    def not_a_number(self, attempt: str, at: float) -> list[Effect]:
        """The number cannot be dialled at all (it was never sent to Asterisk)."""
        self.seq += 1
        call = self._touch(attempt)
        if call is None or call.phase is not Phase.DIALING:
            return []
        return self._settle(call, EventKind.INVALID, at)

    def originate_unknown(self, attempt: str) -> None:
        """Sent, but the answer was lost (disconnect, time-out): reconciliation decides."""
        self.seq += 1
        call = self._touch(attempt)
        if call is not None:
            call.originating = False

    # -- signals from Asterisk ---------------------------------------------------------------

    def signal(self, signal: Signal, at: float) -> list[Effect]:
        self.seq += 1
        match signal:
            case Verdict():
                return self._verdict(signal, at)
            case DialFailed():
                call = self._touch(signal.attempt_id)
                if call is None or call.phase is not Phase.DIALING:
                    return []
                return self._settle(call, dial_status_kind(signal.dial_status), at)
            case Bridged():
                return self._bridged(signal.attempt_id, signal.station, at)
            case Abandoned():
                call = self._touch(signal.attempt_id)
                if call is None or call.phase is Phase.BRIDGED:
                    return []
                return self._settle(call, EventKind.ABANDONED, at)
            case StationAbsent():
                return self._absent(signal.attempt_id, signal.station, at)
            case CallLeft():
                return self._left(signal.attempt_id, at)
            case StationJoined():
                return self._joined(signal.station, at)
            case StationLeft():
                return self._station_left(signal.station, at)
            case StationKey():
                return self._key(signal.station, signal.key, at)
            case InboundWaiting():
                return self._inbound_waiting(signal.attempt_id, signal.channel)
            case InboundBridged():
                return self._inbound_bridged(signal.attempt_id, signal.station, at)
            case InboundGaveUp():
                inbound = self._touch_inbound(signal.attempt_id)
                if inbound is None or inbound.bridged:
                    return []
                return self._inbound_over(inbound)
        return []

    def _verdict(self, signal: Verdict, at: float) -> list[Effect]:
        call = self._touch(signal.attempt_id)
        if call is None or call.phase is not Phase.DIALING:
            return []
        call.answered, call.channel = True, signal.channel
        kind = verdict_kind(signal.status)
        if kind is not EventKind.ANSWERED_HUMAN:
            return self._settle(call, kind, at)
        call.phase = Phase.WAITING
        if call.station is not None:
            # Named in the Originate: the dialplan puts the voter through at once.
            return [TelephonyEvent(kind, at, call.attempt_id)]
        self._waiting.append(call.attempt_id)
        return [TelephonyEvent(kind, at, call.attempt_id), *self._assign()]

    def _bridged(self, attempt: str, station: str, at: float) -> list[Effect]:
        call = self._touch(attempt)
        if call is None or call.phase is Phase.BRIDGED:
            return []
        self._mark_station(station)
        accepted, displaced = self.stations.take(station, attempt)
        if not accepted:
            log.warning("attempt %s joined station %s, which has a call already", attempt, station)
        if attempt in self._waiting:
            self._waiting.remove(attempt)
        if displaced is not None and (displaced in self._calls or displaced in self._inbound):
            self._waiting.insert(0, displaced)
        call.phase = Phase.BRIDGED
        return [TelephonyEvent(EventKind.BRIDGED, at, attempt, station), *self._assign()]

    def _absent(self, attempt: str, station: str, at: float) -> list[Effect]:
        # The dialplan found no handset in that bridge: the pool was wrong about it.
        effects = self._station_left(station, at)
        call = self._calls.get(attempt)
        inbound = self._inbound.get(attempt)
        waiting = (call is not None and call.phase is Phase.WAITING) or (
            inbound is not None and not inbound.bridged
        )
        if waiting and attempt not in self._waiting and self.stations.holder(attempt) is None:
            self._waiting.insert(0, attempt)
        return effects + self._assign()

    def _left(self, attempt: str, at: float) -> list[Effect]:
        inbound = self._touch_inbound(attempt)
        if inbound is not None:
            return self._inbound_over(inbound)
        call = self._touch(attempt)
        if call is None:
            station = self._foreign.pop(attempt, None)
            if station is None:
                return []
            # Not ours to settle (the engine never knew it); the station is free again.
            self.stations.release(station, attempt)
            return self._assign()
        if call.phase is Phase.BRIDGED:
            return self._settle(call, EventKind.HUNG_UP, at)
        if call.phase is Phase.WAITING:
            return self._settle(call, EventKind.ABANDONED, at)
        if call.answered:
            return self._settle(call, EventKind.NO_ANSWER, at)
        # Also the end of a failed dial: wait for the dialplan's or the Originate's reason.
        call.gone = True
        return []

    # -- call-backs --------------------------------------------------------------------------

    def _inbound_waiting(self, attempt: str, channel: str) -> list[Effect]:
        if attempt in self._inbound:
            return []
        self._inbound[attempt] = InboundCall(attempt, channel, self.seq)
        self._waiting.append(attempt)
        return self._assign()

    def _inbound_bridged(self, attempt: str, station: str, at: float) -> list[Effect]:
        inbound = self._touch_inbound(attempt)
        if inbound is None:
            # Its wait began before we listened (a restart): it holds the station all the same.
            inbound = self._inbound[attempt] = InboundCall(attempt, "", self.seq)
        if inbound.bridged:
            return []
        self._mark_station(station)
        accepted, displaced = self.stations.take(station, attempt, remember=False)
        if attempt in self._waiting:
            self._waiting.remove(attempt)
        if displaced is not None and (displaced in self._calls or displaced in self._inbound):
            self._waiting.insert(0, displaced)
        inbound.bridged = True
        effects: list[Effect] = []
        if not accepted:
            log.warning(
                "call-back %s joined station %s, which has a call already", attempt, station
            )
        elif self.stations.allowed(station):
            # The engine counts the station as busy (not as ready) while the caller talks.
            effects.append(TelephonyEvent(EventKind.STATION_PAUSED, at, station=station))
        return effects + self._assign()

    def _inbound_over(self, inbound: InboundCall) -> list[Effect]:
        """The caller hung up, or gave up waiting: the station goes to wrap-up, or is freed."""
        del self._inbound[inbound.attempt_id]
        if inbound.attempt_id in self._waiting:
            self._waiting.remove(inbound.attempt_id)
        held = self.stations.holder(inbound.attempt_id)
        if held is not None:
            if inbound.bridged:
                self.stations.hang_up(held, inbound.attempt_id)
            else:
                self.stations.release(held, inbound.attempt_id)
        return self._assign()

    # -- stations ----------------------------------------------------------------------------

    def _joined(self, station: str, at: float) -> list[Effect]:
        self._mark_station(station)
        if not self.stations.join(station, at):
            return []
        pinned = self.pinned(station)
        if pinned is not None:
            # Back while its preview call rings: that voter is coming to this bridge.
            self.stations.reserve(station, pinned)
        return [TelephonyEvent(EventKind.STATION_READY, at, station=station), *self._assign()]

    def _station_left(self, station: str, at: float) -> list[Effect]:
        self._mark_station(station)
        was_present, held, bridged = self.stations.leave(station)
        if not was_present:
            return []
        effects: list[Effect] = []
        inbound = self._inbound.get(held) if held is not None else None
        if inbound is not None and bridged:
            # Its bridge lets the caller out too; no event: the engine never knew of it.
            del self._inbound[inbound.attempt_id]
        elif inbound is not None:
            self._waiting.insert(0, inbound.attempt_id)
        call = self._calls.get(held) if held is not None else None
        if call is not None and bridged:
            # Its bridge lets the voter out when the station leaves: the call is over.
            effects += self._settle(call, EventKind.HUNG_UP, at, station=station)
        elif call is not None and call.phase is Phase.WAITING:
            self._waiting.insert(0, call.attempt_id)
        effects.append(TelephonyEvent(EventKind.STATION_LOGGED_OUT, at, station=station))
        return effects + self._assign()

    def _key(self, station: str, key: str, at: float) -> list[Effect]:
        if key == READY_KEY:
            return self.station_mode(station, True, at)
        if not self.stations.allowed(station):
            return []
        state = self.stations.get(station)
        last = state.last_call if state is not None else None
        return [TelephonyEvent(EventKind.STATION_KEY, at, last, station, detail=key)]

    def station_mode(self, station: str, ready: bool, at: float) -> list[Effect]:
        """The volunteer is ready (screen, *0) or paused (screen)."""
        self.seq += 1
        self._mark_station(station)
        if not self.stations.set_available(station, ready, at):
            return []
        kind = EventKind.STATION_READY if ready else EventKind.STATION_PAUSED
        return [TelephonyEvent(kind, at, station=station), *self._assign()]

    def setvar_failed(self, attempt: str, station: str, at: float) -> list[Effect]:
        """The Setvar naming `station` did not reach the call: free the station again."""
        self.seq += 1
        call = self._calls.get(attempt)
        inbound = self._inbound.get(attempt)
        waiting = (call is not None and call.phase is Phase.WAITING) or (
            inbound is not None and not inbound.bridged
        )
        if not waiting:
            return []
        if self.stations.holder(attempt) == station:
            self.stations.release(station, attempt)
        return self._assign()

    # -- reconciliation ----------------------------------------------------------------------

    def reconcile(self, live: LiveView, asked: int, at: float) -> list[Effect]:
        """Settle calls and stations from what Asterisk reported when `seq` was `asked`.

        Calls still waiting for their Originate's answer, and anything that changed
        after the question was asked, are left to the events."""
        self.seq += 1
        effects: list[Effect] = []
        # Name stations once everything is settled, not to calls about to be found lost.
        self._holding = True
        try:
            effects += self._reconcile(live, asked, at)
        finally:
            self._holding = False
        return effects + self._assign()

    def _reconcile(self, live: LiveView, asked: int, at: float) -> list[Effect]:
        effects: list[Effect] = []
        for call in list(self._calls.values()):
            if call.originating or call.seq > asked:
                continue
            if call.attempt_id not in live.attempts:
                station = self.stations.holder(call.attempt_id)
                bridged = call.phase is Phase.BRIDGED
                effects += self._settle(
                    call, EventKind.LOST, at, station=station if bridged else None
                )
                continue
            in_bridge = live.attempts[call.attempt_id]
            if in_bridge is not None and call.phase is not Phase.BRIDGED:
                effects += self._bridged(call.attempt_id, in_bridge, at)
        for inbound in list(self._inbound.values()):
            if inbound.seq > asked:
                continue
            if inbound.attempt_id not in live.attempts:
                effects += self._inbound_over(inbound)
                continue
            in_bridge = live.attempts[inbound.attempt_id]
            if in_bridge is not None and not inbound.bridged:
                effects += self._inbound_bridged(inbound.attempt_id, in_bridge, at)
        for attempt, in_bridge in live.attempts.items():
            # A voter another process put through (we restarted mid-call) still holds
            # that station: never put a second voter into the same bridge.
            known = attempt in self._calls or attempt in self._inbound
            if not known and in_bridge is not None:
                accepted, _ = self.stations.take(in_bridge, attempt)
                if accepted:
                    self._foreign[attempt] = in_bridge
        for attempt in [a for a in self._foreign if a not in live.attempts]:
            station = self._foreign.pop(attempt)
            self.stations.release(station, attempt)
        for station, state in self.stations:
            if self._station_seq.get(station, 0) > asked:
                continue
            if state.present and station not in live.stations:
                effects += self._station_left(station, at)
        for station in sorted(live.stations - self.stations.present()):
            if self._station_seq.get(station, 0) <= asked:
                effects += self._joined(station, at)
        return effects

    # -- internals ---------------------------------------------------------------------------

    def _touch(self, attempt: str) -> Call | None:
        call = self._calls.get(attempt)
        if call is not None:
            call.seq = self.seq
        return call

    def _touch_inbound(self, attempt: str) -> InboundCall | None:
        inbound = self._inbound.get(attempt)
        if inbound is not None:
            inbound.seq = self.seq
        return inbound

    def _mark_station(self, station: str) -> None:
        self._station_seq[station] = self.seq

    def _settle(
        self, call: Call, kind: EventKind, at: float, *, station: str | None = None
    ) -> list[Effect]:
        """The call's final event; its station (if any) is freed, or goes to wrap-up."""
        del self._calls[call.attempt_id]
        if call.attempt_id in self._waiting:
            self._waiting.remove(call.attempt_id)
        held = self.stations.holder(call.attempt_id)
        if held is not None:
            if call.phase is Phase.BRIDGED:
                self.stations.hang_up(held, call.attempt_id)
                station = station or held
            else:
                self.stations.release(held, call.attempt_id)
        if kind is not EventKind.HUNG_UP and kind is not EventKind.LOST:
            station = None
        return [TelephonyEvent(kind, at, call.attempt_id, station), *self._assign()]

    def _assign(self) -> list[Effect]:
        """Give free stations to the people waiting, first come first."""
        effects: list[Effect] = []
        if self._holding:
            return effects
        for attempt in list(self._waiting):
            channel = self._waiting_channel(attempt)
            if channel is None:
                self._waiting.remove(attempt)
                continue
            station = self.stations.pick(attempt)
            if station is None:
                break
            self._waiting.remove(attempt)
            effects.append(SetStation(attempt, channel, station))
        return effects

    def _waiting_channel(self, attempt: str) -> str | None:
        """Where to name a station for this person in line; None: not waiting any more."""
        inbound = self._inbound.get(attempt)
        if inbound is not None:
            return None if inbound.bridged else inbound.channel
        call = self._calls.get(attempt)
        if call is None or call.phase is not Phase.WAITING or call.station is not None:
            return None
        return call.channel
