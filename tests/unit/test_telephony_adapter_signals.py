"""The pure parts of the AMI adapter: reading the dialplan's events, the Originate, live views."""

from __future__ import annotations

import pytest

from phonebank.ami.events import parse_event
from phonebank.dialer.telephony import EventKind
from phonebank.telephony.calls import LiveView
from phonebank.telephony.originate import CallSettings, originate_request, valid_number
from phonebank.telephony.reconcile import live_view
from phonebank.telephony.signals import (
    Abandoned,
    Bridged,
    CallLeft,
    DialFailed,
    StationAbsent,
    StationJoined,
    StationKey,
    StationLeft,
    Verdict,
    dial_status_kind,
    is_answered_leg,
    originate_reason_kind,
    read_signal,
    station_of_bridge,
    verdict_kind,
)

VOTER = "Local/0100000001@phonebank-outbound-00000007;1"
STATION = "Local/7001@sim-station-00000000;2"


def user_event(name: str, channel: str = VOTER, attempt: str = "a1", **fields: str) -> object:
    headers = {
        "Event": "UserEvent",
        "UserEvent": name,
        "Channel": channel,
        "ChanVariable": f"PHONEBANK_ATTEMPT={attempt}",
        **{key.capitalize(): value for key, value in fields.items()},
    }
    return read_signal(parse_event(headers))


def conference(event: str, channel: str, context: str, attempt: str = "") -> object:
    return read_signal(
        parse_event(
            {
                "Event": event,
                "Conference": "phonebank-station-7001",
                "Channel": channel,
                "Context": context,
                "ChanVariable": f"PHONEBANK_ATTEMPT={attempt}",
            }
        )
    )


def test_the_dialplans_user_events_become_signals() -> None:
    assert user_event("PhonebankAmd", status="HUMAN") == Verdict("a1", "HUMAN", VOTER)
    assert user_event("PhonebankDialFailed", dialstatus="BUSY") == DialFailed("a1", "BUSY")
    assert user_event("PhonebankBridged", station="7001", waited="20") == Bridged("a1", "7001")
    assert user_event("PhonebankAbandoned", waited="1202") == Abandoned("a1")
    assert user_event("PhonebankStationAbsent", station="7002") == StationAbsent("a1", "7002")
    assert user_event("PhonebankStationLogout", STATION, "", station="7001") == StationLeft("7001")
    assert user_event("PhonebankStationKey", STATION, "", station="7001", key="3") == StationKey(
        "7001", "3"
    )


def test_the_attempt_header_wins_over_the_channel_variable() -> None:
    signal = read_signal(
        parse_event(
            {
                "Event": "UserEvent",
                "UserEvent": "PhonebankAmd",
                "Channel": VOTER,
                "Attempt": "from-header",
                "Status": "MACHINE",
            }
        )
    )
    assert signal == Verdict("from-header", "MACHINE", VOTER)


def test_events_the_adapter_does_not_act_on_are_none() -> None:
    # The station's own login comes before its handset is in the bridge: not used.
    assert user_event("PhonebankStationLogin", STATION, "", station="7001") is None
    assert user_event("PhonebankMachine", action="hangup") is None
    assert user_event("PhonebankAmd", attempt="") is None  # a call that is not ours
    assert read_signal(parse_event({"Event": "Newchannel", "Channel": VOTER})) is None
    assert read_signal(parse_event({})) is None


def test_a_hangup_counts_only_on_the_answered_leg_of_an_attempt() -> None:
    def hangup(channel: str, attempt: str = "a1") -> object:
        return read_signal(
            parse_event(
                {
                    "Event": "Hangup",
                    "Channel": channel,
                    "ChanVariable": f"PHONEBANK_ATTEMPT={attempt}",
                }
            )
        )

    assert hangup(VOTER) == CallLeft("a1", VOTER)
    assert hangup(VOTER.replace(";1", ";2")) is None  # the trunk side
    assert hangup("Local/0100000001@sim-pstn-00000009;1") is None
    assert hangup(VOTER, attempt="") is None


def test_conference_events_tell_stations_from_voters() -> None:
    assert conference("ConfbridgeJoin", STATION, "phonebank-stations") == StationJoined("7001")
    assert conference("ConfbridgeLeave", STATION, "phonebank-stations") == StationLeft("7001")
    assert conference("ConfbridgeLeave", VOTER, "phonebank-answered", "a9") == CallLeft("a9", VOTER)
    # A voter joining is PhonebankBridged's business; a coach barging in is nobody's.
    assert conference("ConfbridgeJoin", VOTER, "phonebank-answered", "a9") is None
    assert (
        conference("ConfbridgeJoin", "Local/737001@phonebank-coach-1;1", "phonebank-coach") is None
    )


def test_bridge_names_and_legs() -> None:
    assert station_of_bridge("phonebank-station-12") == "12"
    assert station_of_bridge("phonebank-station-") is None
    assert station_of_bridge("phonebank-station-x1") is None
    assert station_of_bridge("other") is None
    assert is_answered_leg(VOTER)
    assert not is_answered_leg("PJSIP/carrier-00000001")


@pytest.mark.parametrize(
    ("status", "kind"),
    [
        ("HUMAN", EventKind.ANSWERED_HUMAN),
        ("NOTSURE", EventKind.ANSWERED_HUMAN),
        ("MACHINE", EventKind.ANSWERED_MACHINE),
        ("HANGUP", EventKind.NO_ANSWER),
    ],
)
def test_amd_verdicts(status: str, kind: EventKind) -> None:
    assert verdict_kind(status) is kind


@pytest.mark.parametrize(
    ("status", "kind"),
    [
        ("BUSY", EventKind.BUSY),
        ("NOANSWER", EventKind.NO_ANSWER),
        ("CANCEL", EventKind.NO_ANSWER),
        ("CONGESTION", EventKind.INVALID),
        ("CHANUNAVAIL", EventKind.INVALID),
    ],
)
def test_dial_statuses(status: str, kind: EventKind) -> None:
    assert dial_status_kind(status) is kind


@pytest.mark.parametrize(
    ("reason", "kind"),
    [
        (5, EventKind.BUSY),
        (3, EventKind.NO_ANSWER),
        (1, EventKind.NO_ANSWER),
        (8, EventKind.INVALID),
        (0, EventKind.FAILED),
        (None, EventKind.FAILED),
    ],
)
def test_originate_reasons_when_the_dialplan_said_nothing(
    reason: int | None, kind: EventKind
) -> None:
    assert originate_reason_kind(reason) is kind


def test_the_originate_carries_the_campaigns_settings() -> None:
    settings = CallSettings(
        caller_id="0199000000", trunk="sim", ring_seconds=20, station_wait_ms=1500, record=True
    )
    request = originate_request("a7", "0612345678", settings)
    assert request.channel == "Local/0612345678@phonebank-outbound/n"
    assert (request.context, request.exten) == ("phonebank-answered", "s")
    assert request.variables == {
        "PHONEBANK_ATTEMPT": "a7",
        "PHONEBANK_CALLERID": "0199000000",
        "PHONEBANK_RING_SECONDS": "20",
        "PHONEBANK_MACHINE": "hangup",
        "PHONEBANK_TRUNK": "sim",
        "PHONEBANK_RECORD": "yes",
        "PHONEBANK_STATION_WAIT_MS": "1500",
    }
    # Longer than the ring time: the dialplan's Dial() says "no answer" first.
    assert request.timeout_ms == 30_000


def test_numbers_that_cannot_reach_the_dialplan_are_refused() -> None:
    assert valid_number("+33612345678") and valid_number("0612345678")
    for bad in ("", "1", "06 12", "0612@evil/n", "abc", "++33"):
        assert not valid_number(bad)
        with pytest.raises(ValueError, match="not a dialable number"):
            originate_request("a1", bad, CallSettings(caller_id="1"))


def test_call_settings_are_checked() -> None:
    with pytest.raises(ValueError, match="ring_seconds"):
        CallSettings(caller_id="1", ring_seconds=0)
    with pytest.raises(ValueError, match="machine"):
        CallSettings(caller_id="1", machine="beep")
    with pytest.raises(ValueError, match="station_wait_ms"):
        CallSettings(caller_id="1", station_wait_ms=-1)


def test_live_view_from_asterisks_lists() -> None:
    channels = [
        {"Event": "CoreShowChannel", "Channel": STATION, "ChanVariable": "PHONEBANK_ATTEMPT="},
        {
            "Event": "CoreShowChannel",
            "Channel": VOTER,
            "ChanVariable": "PHONEBANK_ATTEMPT=a1",
            "Application": "ConfBridge",
            "ApplicationData": "phonebank-station-7001,phonebank-bridge,phonebank-voter",
        },
        {
            "Event": "CoreShowChannel",
            "Channel": VOTER.replace(";1", ";2"),
            "ChanVariable": "PHONEBANK_ATTEMPT=a1",
            "Application": "Dial",
        },
        {
            "Event": "CoreShowChannel",
            "Channel": "Local/0400000001@phonebank-outbound-00000008;2",
            "ChanVariable": "PHONEBANK_ATTEMPT=a2\nOTHER=1",
            "Application": "Dial",
        },
        {"Event": "CoreShowChannelsComplete", "ListItems": "4"},
    ]
    rooms = [
        {"Event": "ConfbridgeListRooms", "Conference": "phonebank-station-7001", "Marked": "1"},
        # Only a coach left in it: no handset.
        {"Event": "ConfbridgeListRooms", "Conference": "phonebank-station-7002", "Marked": "0"},
        {"Event": "ConfbridgeListRooms", "Conference": "someone-else", "Marked": "1"},
    ]
    assert live_view(channels, rooms) == LiveView(
        attempts={"a1": "7001", "a2": None}, stations=frozenset({"7001"})
    )
