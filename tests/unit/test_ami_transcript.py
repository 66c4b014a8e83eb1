"""Replay an AMI transcript recorded from the real Asterisk 22 through parse_event.

Recorded with tests/fixtures/ami/record.py (originate Local/echo@phonebank-test
with PHONEBANK_ATTEMPT, channelvars = PHONEBANK_ATTEMPT in manager.conf).
"""

from __future__ import annotations

from pathlib import Path

from phonebank.ami.events import (
    AmiEvent,
    DialBegin,
    DialEnd,
    FullyBooted,
    Hangup,
    Newchannel,
    Newstate,
    OriginateResponse,
    UnknownEvent,
    VarSet,
    parse_event,
)
from phonebank.ami.wire import split_messages

FIXTURE = Path(__file__).parent.parent / "fixtures" / "ami" / "originate-echo.txt"
ATTEMPT = "fixture-attempt-1"
OUT, FAR = f"{ATTEMPT}-a", f"{ATTEMPT}-b"


def replay() -> list[AmiEvent]:
    messages, rest = split_messages(FIXTURE.read_bytes())
    assert rest == b""
    return [parse_event(m) for m in messages if "Event" in m]


def test_every_recorded_event_has_its_type() -> None:
    events = replay()
    assert not [e for e in events if isinstance(e, UnknownEvent)]
    assert isinstance(events[0], FullyBooted)


def test_the_outbound_channel_from_newchannel_to_hangup() -> None:
    mine = [e for e in replay() if OUT in {c.uniqueid for c in e.channels()}]
    assert [type(e) for e in mine] == [Newchannel, VarSet, DialBegin, Newstate, DialEnd, Hangup]
    # Newchannel precedes the Originate's variables: channelvars report the name, empty.
    first = mine[0]
    assert isinstance(first, Newchannel)
    assert first.channel.variables == {"PHONEBANK_ATTEMPT": ""} and first.attempt_id is None
    assert first.channel.name == "Local/echo@phonebank-test-00000000;1"
    assert all(e.attempt_id == ATTEMPT for e in mine[1:])
    dial_end = mine[4]
    assert isinstance(dial_end, DialEnd) and dial_end.caller is None
    assert dial_end.dest.uniqueid == OUT and dial_end.dial_status == "ANSWER"
    hangup = mine[-1]
    assert isinstance(hangup, Hangup) and hangup.cause == 16


def test_the_far_half_is_linked_and_gets_the_attempt() -> None:
    far = [e for e in replay() if FAR in {c.uniqueid for c in e.channels()}]
    assert isinstance(far[0], Newchannel) and far[0].channel.linkedid == OUT
    assert isinstance(far[-1], Hangup)
    # The Local channel copies the variable to its second half (a VarSet of its own).
    assert any(isinstance(e, VarSet) and e.attempt_id == ATTEMPT for e in far)


def test_originate_response_carries_the_action_and_the_attempt() -> None:
    (response,) = [e for e in replay() if isinstance(e, OriginateResponse)]
    assert response.success and response.reason == 4
    assert response.action_id == f"originate-{ATTEMPT}" and response.uniqueid == OUT
    assert response.attempt_id == ATTEMPT
