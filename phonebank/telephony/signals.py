"""What an AMI event means for the phone bank: a pure reading of the dialplan's events.

`read_signal(event)` turns one parsed AMI event into a small typed signal, or None
when the event says nothing the adapter acts on. It never raises and keeps no
state: which attempt or station a signal belongs to is taken from the event alone
(the `PHONEBANK_ATTEMPT` channel variable, the station's bridge name). What the
signals do to calls and stations is `phonebank.telephony.calls`.

The sources, per docs/telephony.md:

- `PhonebankAmd` → `Verdict` (HUMAN, NOTSURE, MACHINE, HANGUP) with the answered
  leg's channel, on which the station is later `Setvar`ed;
- `PhonebankDialFailed` → `DialFailed` (Dial()'s DIALSTATUS);
- `PhonebankBridged`, `PhonebankAbandoned`, `PhonebankStationAbsent`;
- `Hangup` of the answered leg (`Local/<number>@phonebank-outbound-…;1`), or its
  `ConfbridgeLeave` → `CallLeft`: the voter's side of the call is over;
- `ConfbridgeJoin` / `ConfbridgeLeave` of `phonebank-station-<n>` by a channel in the
  station context → `StationJoined` / `StationLeft` (the handset is in its bridge,
  or not); `PhonebankStationLogout` → `StationLeft` too. `PhonebankStationLogin` is
  not used: it comes a moment *before* the handset is in its bridge, and a station
  named then would be reported absent by the dialplan.
- `PhonebankStationKey` → `StationKey`.
- Call-backs (`phonebank-inbound`, key 2): `PhonebankInboundWaiting` →
  `InboundWaiting`, `PhonebankInboundBridged` → `InboundBridged`,
  `PhonebankInboundNobody` (no station in time) → `InboundGaveUp`. The dialplan
  gives the caller's channel an id of its own, `in-<uniqueid>` in
  `PHONEBANK_ATTEMPT` (`is_inbound`), so its `Hangup` or `ConfbridgeLeave` is a
  `CallLeft` too, whatever the channel's technology.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from phonebank.ami.events import AmiEvent, Hangup, UserEvent
from phonebank.ami.snapshot import ATTEMPT_VARIABLE, Headers, channel_variables
from phonebank.dialer.telephony import EventKind

STATION_BRIDGE_PREFIX = "phonebank-station-"
STATION_CONTEXT = "phonebank-stations"
OUTBOUND_CONTEXT = "phonebank-outbound"
# The id the dialplan gives a call-back (`in-${UNIQUEID}`): never one the engine placed.
INBOUND_PREFIX = "in-"


@dataclass(frozen=True, slots=True)
class Verdict:
    attempt_id: str
    status: str  # AMDSTATUS: HUMAN, NOTSURE, MACHINE, HANGUP
    channel: str  # the answered leg, where PHONEBANK_STATION is set


@dataclass(frozen=True, slots=True)
class DialFailed:
    attempt_id: str
    dial_status: str  # DIALSTATUS: BUSY, NOANSWER, CONGESTION, CHANUNAVAIL, CANCEL, …


@dataclass(frozen=True, slots=True)
class Bridged:
    attempt_id: str
    station: str


@dataclass(frozen=True, slots=True)
class Abandoned:
    attempt_id: str


@dataclass(frozen=True, slots=True)
class StationAbsent:
    """The station named for this attempt had no handset in its bridge."""

    attempt_id: str
    station: str


@dataclass(frozen=True, slots=True)
class CallLeft:
    """The answered leg hung up or left the station's bridge."""

    attempt_id: str
    channel: str


@dataclass(frozen=True, slots=True)
class InboundWaiting:
    """A caller pressed 2 for a volunteer: name a station on `channel` (AMI Setvar)."""

    attempt_id: str  # in-<uniqueid>
    channel: str


@dataclass(frozen=True, slots=True)
class InboundBridged:
    attempt_id: str
    station: str


@dataclass(frozen=True, slots=True)
class InboundGaveUp:
    """No station in time: the dialplan plays `nobody-free` and hangs up."""

    attempt_id: str


@dataclass(frozen=True, slots=True)
class StationJoined:
    station: str


@dataclass(frozen=True, slots=True)
class StationLeft:
    station: str


@dataclass(frozen=True, slots=True)
class StationKey:
    station: str
    key: str


Signal = (
    Verdict
    | DialFailed
    | Bridged
    | Abandoned
    | StationAbsent
    | CallLeft
    | StationJoined
    | StationLeft
    | StationKey
    | InboundWaiting
    | InboundBridged
    | InboundGaveUp
)


def station_of_bridge(name: str) -> str | None:
    """`phonebank-station-12` → "12"; None for any other conference."""
    if not name.startswith(STATION_BRIDGE_PREFIX):
        return None
    station = name[len(STATION_BRIDGE_PREFIX) :]
    return station if station.isdigit() else None


def is_answered_leg(channel: str) -> bool:
    """The `;1` half of the Originate's Local channel: it runs phonebank-answered."""
    return (
        channel.startswith("Local/")
        and f"@{OUTBOUND_CONTEXT}-" in channel
        and (channel.endswith(";1"))
    )


def is_inbound(attempt: str) -> bool:
    """A call-back's id, given by the dialplan, not an attempt of the engine."""
    return attempt.startswith(INBOUND_PREFIX)


def _left_leg(attempt: str, channel: str) -> bool:
    # The voter's side of a call: the answered leg of an Originate, or the caller's
    # own channel (the only one carrying a call-back's id: it is not inherited).
    return bool(attempt) and (is_answered_leg(channel) or is_inbound(attempt))


def verdict_kind(status: str) -> EventKind:
    """AMDSTATUS → event. NOTSURE is a person (hanging up on one is worse); HANGUP
    (the callee hung up while AMD listened) counts as no answer, so the number may be
    tried again."""
    status = status.upper()
    if status == "MACHINE":
        return EventKind.ANSWERED_MACHINE
    if status == "HANGUP":
        return EventKind.NO_ANSWER
    return EventKind.ANSWERED_HUMAN


def dial_status_kind(status: str) -> EventKind:
    """DIALSTATUS of the trunk's Dial() → event. CONGESTION and CHANUNAVAIL are the
    network refusing the number; CANCEL (our own Originate timeout) is no answer."""
    status = status.upper()
    if status == "BUSY":
        return EventKind.BUSY
    if status in {"CONGESTION", "CHANUNAVAIL", "INVALIDARGS"}:
        return EventKind.INVALID
    return EventKind.NO_ANSWER


def originate_reason_kind(reason: int | None) -> EventKind:
    """A failed Originate's reason, used only when the dialplan said nothing.

    Through a Local channel Asterisk reports 0 for every failure the dialplan saw
    (busy, no answer, congestion alike: PhonebankDialFailed tells them apart); the
    classic reasons are kept for a direct channel. 0 alone means the call could not
    be placed at all.
    """
    if reason == 5:
        return EventKind.BUSY
    if reason in {1, 3}:  # hung up before answer, or rang out
        return EventKind.NO_ANSWER
    if reason == 8:
        return EventKind.INVALID
    return EventKind.FAILED


def _attempt(fields: Mapping[str, str]) -> str:
    # `fields` joins repeated headers with newlines: one `NAME=value` per line.
    lines = fields.get("chanvariable", "").splitlines()
    return channel_variables(Headers({"chanvariable": lines}), "").get(ATTEMPT_VARIABLE, "")


def _user_signal(event: UserEvent) -> Signal | None:
    f = event.fields
    kind = event.user_event
    channel = event.channel.name if event.channel else ""
    attempt = f.get("attempt", "").strip() or (event.attempt_id or "")
    station = f.get("station", "").strip()
    if kind == "PhonebankAmd" and attempt:
        return Verdict(attempt, f.get("status", "").strip(), channel)
    if kind == "PhonebankDialFailed" and attempt:
        return DialFailed(attempt, f.get("dialstatus", "").strip())
    if kind == "PhonebankBridged" and attempt and station:
        return Bridged(attempt, station)
    if kind == "PhonebankAbandoned" and attempt:
        return Abandoned(attempt)
    if kind == "PhonebankStationAbsent" and attempt and station:
        return StationAbsent(attempt, station)
    if kind == "PhonebankInboundWaiting" and is_inbound(attempt):
        # The event's own Channel header (its channel snapshot) comes first; the
        # dialplan's `Channel:` field repeats it (repeated headers join with newlines).
        named = f.get("channel", "").strip().splitlines()
        return InboundWaiting(attempt, channel or (named[0].strip() if named else ""))
    if kind == "PhonebankInboundBridged" and is_inbound(attempt) and station:
        return InboundBridged(attempt, station)
    if kind == "PhonebankInboundNobody" and is_inbound(attempt):
        return InboundGaveUp(attempt)
    if kind == "PhonebankStationLogout" and station:
        return StationLeft(station)
    key = f.get("key", "").strip()
    if kind == "PhonebankStationKey" and station and key:
        return StationKey(station, key)
    return None


def read_signal(event: AmiEvent) -> Signal | None:
    """The signal one AMI event carries, if any."""
    if isinstance(event, UserEvent):
        return _user_signal(event)
    if isinstance(event, Hangup):
        attempt = event.attempt_id
        if attempt and _left_leg(attempt, event.channel.name):
            return CallLeft(attempt, event.channel.name)
        return None
    if event.name in {"ConfbridgeJoin", "ConfbridgeLeave"}:
        fields = event.fields
        station = station_of_bridge(fields.get("conference", "").strip())
        if station is None:
            return None
        channel = fields.get("channel", "").strip()
        if fields.get("context", "").strip() == STATION_CONTEXT:
            joined = event.name == "ConfbridgeJoin"
            return StationJoined(station) if joined else StationLeft(station)
        attempt = _attempt(fields)
        if event.name == "ConfbridgeLeave" and _left_leg(attempt, channel):
            return CallLeft(attempt, channel)
    return None
