"""parse_event on plain dicts, and the property that it never raises."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from phonebank.ami.events import (
    KNOWN_EVENTS,
    AgentCalled,
    AgentConnect,
    AmiEvent,
    BridgeEnter,
    BridgeLeave,
    DialBegin,
    DialEnd,
    FullyBooted,
    Hangup,
    Newchannel,
    Newstate,
    OriginateResponse,
    Shutdown,
    UnknownEvent,
    UserEvent,
    VarSet,
    parse_event,
)
from phonebank.ami.wire import format_message, split_messages

CHANNEL = {
    "Channel": "Local/echo@phonebank-test-00000001;1",
    "ChannelState": "6",
    "ChannelStateDesc": "Up",
    "CallerIDNum": "0262000000",
    "CallerIDName": "Campaign",
    "ConnectedLineNum": "<unknown>",
    "ConnectedLineName": "<unknown>",
    "Language": "en",
    "AccountCode": "",
    "Context": "phonebank-test",
    "Exten": "echo",
    "Priority": "2",
    "Uniqueid": "1700000000.11",
    "Linkedid": "1700000000.10",
}


def test_newchannel_with_channel_variables() -> None:
    event = parse_event(
        {"Event": "Newchannel", **CHANNEL, "ChanVariable": ["PHONEBANK_ATTEMPT=a-17", "EMPTY="]}
    )
    assert isinstance(event, Newchannel)
    assert event.name == "Newchannel"
    assert event.channel.name == "Local/echo@phonebank-test-00000001;1"
    assert event.channel.state == 6 and event.channel.state_desc == "Up"
    assert event.channel.uniqueid == "1700000000.11" and event.channel.linkedid == "1700000000.10"
    assert event.channel.priority == 2 and event.channel.caller_id_num == "0262000000"
    assert event.channel.variables == {"PHONEBANK_ATTEMPT": "a-17", "EMPTY": ""}
    assert event.attempt_id == "a-17"
    assert event.fields["chanvariable"] == "PHONEBANK_ATTEMPT=a-17\nEMPTY="


def test_header_names_are_case_insensitive_and_a_single_variable_is_a_string() -> None:
    event = parse_event(
        {
            "event": "Newstate",
            "CHANNEL": "PJSIP/x-1",
            "UniqueID": "9.1",
            "chanvariable": "PHONEBANK_ATTEMPT=b-2",
        }
    )
    assert isinstance(event, Newstate)
    assert event.channel.uniqueid == "9.1" and event.attempt_id == "b-2"


def test_old_style_chanvariable_with_channel_in_the_header_name() -> None:
    event = parse_event(
        {
            "Event": "Hangup",
            "Channel": "SIP/a-1",
            "Uniqueid": "1.2",
            "ChanVariable(SIP/a-1)": "PHONEBANK_ATTEMPT=c-3",
        }
    )
    assert event.attempt_id == "c-3"


def test_hangup_cause() -> None:
    event = parse_event(
        {"Event": "Hangup", **CHANNEL, "Cause": "16", "Cause-txt": "Normal Clearing"}
    )
    assert isinstance(event, Hangup)
    assert event.cause == 16 and event.cause_txt == "Normal Clearing"
    assert event.attempt_id is None


def test_dial_events_have_caller_and_destination() -> None:
    dest = {f"Dest{k}": v for k, v in CHANNEL.items()}
    begin = parse_event(
        {
            "Event": "DialBegin",
            **dest,
            "DialString": "echo@phonebank-test",
            "DestChanVariable": "PHONEBANK_ATTEMPT=d-4",
        }
    )
    assert isinstance(begin, DialBegin)
    assert begin.caller is None and begin.dest.uniqueid == "1700000000.11"
    assert begin.dial_string == "echo@phonebank-test" and begin.attempt_id == "d-4"
    end = parse_event({"Event": "DialEnd", **CHANNEL, **dest, "DialStatus": "ANSWER"})
    assert isinstance(end, DialEnd)
    assert end.caller is not None and end.caller.name == CHANNEL["Channel"]
    assert end.dial_status == "ANSWER"


def test_varset_of_the_attempt_variable_names_the_attempt() -> None:
    event = parse_event(
        {"Event": "VarSet", **CHANNEL, "Variable": "PHONEBANK_ATTEMPT", "Value": "e-5"}
    )
    assert isinstance(event, VarSet)
    assert event.variable == "PHONEBANK_ATTEMPT" and event.attempt_id == "e-5"
    global_set = parse_event({"Event": "VarSet", "Variable": "G", "Value": "1"})
    assert isinstance(global_set, VarSet) and global_set.channel is None


def test_user_event_keeps_custom_headers() -> None:
    event = parse_event(
        {"Event": "UserEvent", **CHANNEL, "UserEvent": "PhonebankAgi", "Result": "pong"}
    )
    assert isinstance(event, UserEvent)
    assert event.user_event == "PhonebankAgi" and event.fields["result"] == "pong"


def test_bridge_enter_and_leave() -> None:
    bridge = {
        "BridgeUniqueid": "b-1",
        "BridgeType": "basic",
        "BridgeTechnology": "simple_bridge",
        "BridgeCreator": "<unknown>",
        "BridgeName": "<unknown>",
        "BridgeNumChannels": "2",
    }
    enter = parse_event({"Event": "BridgeEnter", **bridge, **CHANNEL})
    assert isinstance(enter, BridgeEnter)
    assert enter.bridge.uniqueid == "b-1" and enter.bridge.num_channels == 2
    leave = parse_event({"Event": "BridgeLeave", **bridge, **CHANNEL})
    assert isinstance(leave, BridgeLeave) and leave.channel.uniqueid == "1700000000.11"


def test_originate_response() -> None:
    ok = parse_event(
        {
            "Event": "OriginateResponse",
            "ActionID": "attempt-1",
            "Response": "Success",
            "Channel": "Local/echo@phonebank-test-00000001;1",
            "Reason": "4",
            "Uniqueid": "1.1",
        }
    )
    assert isinstance(ok, OriginateResponse)
    assert ok.success and ok.reason == 4 and ok.action_id == "attempt-1"
    busy = parse_event({"Event": "OriginateResponse", "Response": "Failure", "Reason": "5"})
    assert isinstance(busy, OriginateResponse) and not busy.success and busy.reason == 5


def test_agent_events() -> None:
    dest = {f"Dest{k}": v for k, v in CHANNEL.items()}
    called = parse_event(
        {
            "Event": "AgentCalled",
            "Queue": "q1",
            "Interface": "Local/s1",
            "MemberName": "station-1",
            **dest,
        }
    )
    assert isinstance(called, AgentCalled)
    assert called.caller is None and called.agent is not None and called.queue == "q1"
    connect = parse_event(
        {"Event": "AgentConnect", **CHANNEL, **dest, "HoldTime": "1", "RingTime": "0"}
    )
    assert isinstance(connect, AgentConnect) and connect.hold_time == 1 and connect.ring_time == 0


def test_system_events() -> None:
    booted = parse_event(
        {"Event": "FullyBooted", "Status": "Fully Booted", "Uptime": "12", "LastReload": "12"}
    )
    assert isinstance(booted, FullyBooted) and booted.uptime == 12
    down = parse_event({"Event": "Shutdown", "Shutdown": "Cleanly", "Restart": "True"})
    assert isinstance(down, Shutdown) and down.restart


def test_unknown_and_malformed() -> None:
    unknown = parse_event({"Event": "Newexten", "Application": "Wait"})
    assert isinstance(unknown, UnknownEvent)
    assert unknown.name == "Newexten" and unknown.fields["application"] == "Wait"
    nameless = parse_event({})
    assert isinstance(nameless, UnknownEvent) and nameless.name == ""
    odd = parse_event(
        {
            "Event": "Hangup",
            "Cause": "sixteen",
            "ChannelState": "",
            "ChanVariable": "no equals sign",
        }
    )
    assert isinstance(odd, Hangup) and odd.cause is None and odd.channel.variables == {}


def test_events_are_frozen() -> None:
    event = parse_event({"Event": "Newchannel", **CHANNEL})
    try:
        event.name = "x"  # type: ignore[misc]
    except AttributeError:
        return
    raise AssertionError("events must be immutable")


def test_wire_round_trip() -> None:
    data = format_message(
        [("Event", "Newchannel"), ("ChanVariable", "A=1"), ("ChanVariable", "B=2")]
    )
    messages, rest = split_messages(b"Asterisk Call Manager/9.0.0\r\n" + data + b"Event: Hang")
    assert messages == [{"Event": "Newchannel", "ChanVariable": ["A=1", "B=2"]}]
    assert rest == b"Event: Hang"
    (channel,) = parse_event(messages[0]).channels()
    assert channel.variables == {"A": "1", "B": "2"}


_text = st.text(max_size=40)
_names = st.sampled_from(
    [
        "Event",
        "event",
        "Channel",
        "Uniqueid",
        "ChanVariable",
        "DestChanVariable",
        "Cause",
        "ChannelState",
        "Priority",
        "Reason",
        "BridgeNumChannels",
        "HoldTime",
        "Variable",
        "Value",
        "Response",
    ]
)
_event_names = st.sampled_from([*sorted(KNOWN_EVENTS), "Other"])


@given(st.dictionaries(st.one_of(_names, _text), _text))
def test_parse_event_never_raises_on_arbitrary_headers(headers: dict[str, str]) -> None:
    event = parse_event(headers)
    assert isinstance(event, AmiEvent)
    assert event.attempt_id is None or isinstance(event.attempt_id, str)


@given(_event_names, st.dictionaries(st.one_of(_names, _text), _text))
def test_parse_event_never_raises_on_known_events(name: str, headers: dict[str, str]) -> None:
    headers = {k: v for k, v in headers.items() if k.strip().lower() != "event"}
    event = parse_event({**headers, "Event": name})
    assert event.name == name
    for channel in event.channels():
        assert isinstance(channel.variables, dict)
