"""Typed AMI events for the dialer, and a pure parser from AMI headers to them.

`parse_event` takes the headers of one AMI event (a plain mapping, as received
from panoramisk or read back from a recorded transcript) and returns a frozen
dataclass. It never raises: anything it does not know becomes an `UnknownEvent`,
and a malformed number becomes `None`, because one odd event must never stop the
reader that serves every call in the office.

Header names are matched case-insensitively (Asterisk spells `Uniqueid`,
`UniqueID` and `Linkedid` differently across events). Repeated headers (e.g.
several `ChanVariable` lines) may arrive as a list; `fields` keeps them joined
with a newline.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from phonebank.ami.snapshot import (
    ATTEMPT_VARIABLE,
    NO_CHANNEL,
    Bridge,
    Channel,
    Headers,
    HeaderValue,
    bridge_snapshot,
    channel_snapshot,
    channel_variables,
    to_int,
)

__all__ = [
    "ATTEMPT_VARIABLE",
    "KNOWN_EVENTS",
    "AgentCalled",
    "AgentConnect",
    "AgentEvent",
    "AmiEvent",
    "Bridge",
    "BridgeEnter",
    "BridgeLeave",
    "Channel",
    "ChannelEvent",
    "DialBegin",
    "DialEnd",
    "DialEvent",
    "FullyBooted",
    "Hangup",
    "HeaderValue",
    "Newchannel",
    "Newstate",
    "OriginateResponse",
    "Shutdown",
    "UnknownEvent",
    "UserEvent",
    "VarSet",
    "parse_event",
]


@dataclass(frozen=True, kw_only=True)
class AmiEvent:
    """Base of every event: its AMI name and all its headers (lower-case keys)."""

    name: str
    fields: Mapping[str, str] = field(default_factory=dict, repr=False, compare=False)

    def channels(self) -> tuple[Channel, ...]:
        """The channel snapshots this event carries, the main channel first."""
        return ()

    @property
    def attempt_id(self) -> str | None:
        """The `PHONEBANK_ATTEMPT` of the first channel on the event that has one."""
        for channel in self.channels():
            if channel.attempt_id:
                return channel.attempt_id
        return None


@dataclass(frozen=True, kw_only=True)
class UnknownEvent(AmiEvent):
    """Any event the dialer does not model (or a message without `Event`)."""


@dataclass(frozen=True, kw_only=True)
class FullyBooted(AmiEvent):
    name: str = field(default="FullyBooted", init=False)
    status: str = ""
    uptime: int | None = None
    last_reload: int | None = None


@dataclass(frozen=True, kw_only=True)
class Shutdown(AmiEvent):
    name: str = field(default="Shutdown", init=False)
    shutdown: str = ""
    restart: bool = False


@dataclass(frozen=True, kw_only=True)
class ChannelEvent(AmiEvent):
    """An event about one channel."""

    channel: Channel = NO_CHANNEL

    def channels(self) -> tuple[Channel, ...]:
        return (self.channel,)


@dataclass(frozen=True, kw_only=True)
class Newchannel(ChannelEvent):
    name: str = field(default="Newchannel", init=False)


@dataclass(frozen=True, kw_only=True)
class Newstate(ChannelEvent):
    name: str = field(default="Newstate", init=False)


@dataclass(frozen=True, kw_only=True)
class Hangup(ChannelEvent):
    name: str = field(default="Hangup", init=False)
    cause: int | None = None
    cause_txt: str = ""


@dataclass(frozen=True, kw_only=True)
class VarSet(AmiEvent):
    name: str = field(default="VarSet", init=False)
    # None for a global variable.
    channel: Channel | None = None
    variable: str = ""
    value: str = ""

    def channels(self) -> tuple[Channel, ...]:
        return (self.channel,) if self.channel else ()

    @property
    def attempt_id(self) -> str | None:
        # The event that sets the attempt id carries it before channelvars do.
        if self.variable == ATTEMPT_VARIABLE and self.value:
            return self.value
        return super().attempt_id


@dataclass(frozen=True, kw_only=True)
class DialEvent(AmiEvent):
    # `caller` is absent when the dial was not made by a channel (an Originate).
    caller: Channel | None = None
    dest: Channel = NO_CHANNEL
    dial_string: str = ""

    def channels(self) -> tuple[Channel, ...]:
        return (self.dest, self.caller) if self.caller else (self.dest,)


@dataclass(frozen=True, kw_only=True)
class DialBegin(DialEvent):
    name: str = field(default="DialBegin", init=False)


@dataclass(frozen=True, kw_only=True)
class DialEnd(DialEvent):
    name: str = field(default="DialEnd", init=False)
    dial_status: str = ""
    forward: str = ""


@dataclass(frozen=True, kw_only=True)
class UserEvent(AmiEvent):
    """`UserEvent(name,Key: value,...)` from the dialplan; custom headers in `fields`."""

    name: str = field(default="UserEvent", init=False)
    user_event: str = ""
    channel: Channel | None = None

    def channels(self) -> tuple[Channel, ...]:
        return (self.channel,) if self.channel else ()


@dataclass(frozen=True, kw_only=True)
class BridgeEnter(ChannelEvent):
    name: str = field(default="BridgeEnter", init=False)
    bridge: Bridge = field(default_factory=Bridge)
    swap_uniqueid: str = ""


@dataclass(frozen=True, kw_only=True)
class BridgeLeave(ChannelEvent):
    name: str = field(default="BridgeLeave", init=False)
    bridge: Bridge = field(default_factory=Bridge)


@dataclass(frozen=True, kw_only=True)
class OriginateResponse(AmiEvent):
    """Final answer to an asynchronous Originate (matched to it by ActionID)."""

    name: str = field(default="OriginateResponse", init=False)
    action_id: str = ""
    success: bool = False
    # Asterisk's outgoing-call reason: 4 answered, 5 busy, 3 no answer, 8 congestion, 0 failure.
    reason: int | None = None
    channel_name: str = ""
    context: str = ""
    exten: str = ""
    application: str = ""
    data: str = ""
    uniqueid: str = ""
    caller_id_num: str = ""
    caller_id_name: str = ""
    # Reported as `ChanVariable(<channel>): NAME=value` on this event.
    variables: Mapping[str, str] = field(default_factory=dict)

    @property
    def attempt_id(self) -> str | None:
        return self.variables.get(ATTEMPT_VARIABLE) or None


@dataclass(frozen=True, kw_only=True)
class AgentEvent(AmiEvent):
    """app_queue's view of a member being rung / connected (`Dest*` is the agent)."""

    caller: Channel | None = None
    agent: Channel | None = None
    queue: str = ""
    interface: str = ""
    member_name: str = ""

    def channels(self) -> tuple[Channel, ...]:
        return tuple(c for c in (self.caller, self.agent) if c is not None)


@dataclass(frozen=True, kw_only=True)
class AgentCalled(AgentEvent):
    name: str = field(default="AgentCalled", init=False)


@dataclass(frozen=True, kw_only=True)
class AgentConnect(AgentEvent):
    name: str = field(default="AgentConnect", init=False)
    hold_time: int | None = None
    ring_time: int | None = None


def _channel_or_blank(headers: Headers) -> Channel:
    return channel_snapshot(headers) or NO_CHANNEL


def _parse_known(kind: str, h: Headers, flat: dict[str, str]) -> AmiEvent | None:
    if kind == "fullybooted":
        return FullyBooted(
            fields=flat,
            status=h.get("status"),
            uptime=to_int(h.get("uptime")),
            last_reload=to_int(h.get("lastreload")),
        )
    if kind == "shutdown":
        return Shutdown(
            fields=flat,
            shutdown=h.get("shutdown"),
            restart=h.get("restart").lower() in {"true", "yes", "1"},
        )
    if kind == "newchannel":
        return Newchannel(fields=flat, channel=_channel_or_blank(h))
    if kind == "newstate":
        return Newstate(fields=flat, channel=_channel_or_blank(h))
    if kind == "hangup":
        return Hangup(
            fields=flat,
            channel=_channel_or_blank(h),
            cause=to_int(h.get("cause")),
            cause_txt=h.get("cause-txt"),
        )
    if kind == "varset":
        return VarSet(
            fields=flat,
            channel=channel_snapshot(h),
            variable=h.get("variable"),
            value=h.get("value"),
        )
    if kind in {"dialbegin", "dialend"}:
        dest = channel_snapshot(h, "dest") or NO_CHANNEL
        if kind == "dialbegin":
            return DialBegin(
                fields=flat, caller=channel_snapshot(h), dest=dest, dial_string=h.get("dialstring")
            )
        return DialEnd(
            fields=flat,
            caller=channel_snapshot(h),
            dest=dest,
            dial_string=h.get("dialstring"),
            dial_status=h.get("dialstatus"),
            forward=h.get("forward"),
        )
    if kind == "userevent":
        return UserEvent(fields=flat, user_event=h.get("userevent"), channel=channel_snapshot(h))
    if kind == "bridgeenter":
        return BridgeEnter(
            fields=flat,
            channel=_channel_or_blank(h),
            bridge=bridge_snapshot(h),
            swap_uniqueid=h.get("swapuniqueid"),
        )
    if kind == "bridgeleave":
        return BridgeLeave(fields=flat, channel=_channel_or_blank(h), bridge=bridge_snapshot(h))
    if kind == "originateresponse":
        return OriginateResponse(
            fields=flat,
            action_id=h.get("actionid"),
            success=h.get("response").lower() == "success",
            reason=to_int(h.get("reason")),
            channel_name=h.get("channel"),
            context=h.get("context"),
            exten=h.get("exten"),
            application=h.get("application"),
            data=h.get("data"),
            uniqueid=h.get("uniqueid"),
            caller_id_num=h.get("calleridnum"),
            caller_id_name=h.get("calleridname"),
            variables=channel_variables(h, ""),
        )
    if kind == "agentcalled":
        return AgentCalled(
            fields=flat,
            caller=channel_snapshot(h),
            agent=channel_snapshot(h, "dest"),
            queue=h.get("queue"),
            interface=h.get("interface"),
            member_name=h.get("membername"),
        )
    if kind == "agentconnect":
        return AgentConnect(
            fields=flat,
            caller=channel_snapshot(h),
            agent=channel_snapshot(h, "dest"),
            queue=h.get("queue"),
            interface=h.get("interface"),
            member_name=h.get("membername"),
            hold_time=to_int(h.get("holdtime")),
            ring_time=to_int(h.get("ringtime")),
        )
    return None


# The events `parse_event` turns into their own classes (AMI spelling).
KNOWN_EVENTS: frozenset[str] = frozenset(
    {
        "FullyBooted",
        "Shutdown",
        "Newchannel",
        "Newstate",
        "Hangup",
        "VarSet",
        "DialBegin",
        "DialEnd",
        "UserEvent",
        "BridgeEnter",
        "BridgeLeave",
        "OriginateResponse",
        "AgentCalled",
        "AgentConnect",
    }
)


def parse_event(message: Mapping[str, HeaderValue]) -> AmiEvent:
    """Turn one AMI event's headers into its typed event; never raises."""
    headers = Headers(message)
    flat = headers.flat()
    name = headers.get("event")
    parsed = _parse_known(name.lower(), headers, flat)
    return parsed if parsed is not None else UnknownEvent(name=name, fields=flat)
