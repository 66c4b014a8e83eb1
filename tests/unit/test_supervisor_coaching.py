"""Coaching rules: the extension each mode dials, the handsets a supervisor may name."""

from __future__ import annotations

import pytest

from phonebank.supervisor.coaching import (
    CoachError,
    Handset,
    Mode,
    check_target,
    coach_exten,
    parse_handset,
    parse_mode,
    parse_station,
)


def test_each_mode_dials_its_code_then_the_station() -> None:
    assert coach_exten(Mode.LISTEN, "12") == "7112"
    assert coach_exten(Mode.WHISPER, "3") == "723"
    assert coach_exten(Mode.BARGE, "9107") == "739107"


@pytest.mark.parametrize("bad", ["", "12a", "1 2", "1234567890123456789", "*", "12;Hangup"])
def test_a_station_is_digits_only(bad: str) -> None:
    with pytest.raises(CoachError) as caught:
        parse_station(bad)
    assert caught.value.code == "bad_station"


def test_modes() -> None:
    assert parse_mode("whisper") is Mode.WHISPER
    with pytest.raises(CoachError) as caught:
        parse_mode("spy")
    assert caught.value.code == "bad_mode"


def test_a_handset_is_a_station_number_or_a_channel() -> None:
    assert parse_handset(" 16 ") == Handset(station="16")
    assert parse_handset("PJSIP/supervisor-1") == Handset(channel="PJSIP/supervisor-1")
    assert parse_handset("DAHDI/16") == Handset(channel="DAHDI/16")
    assert str(parse_handset("DAHDI/16")) == "DAHDI/16"


@pytest.mark.parametrize(
    ("typed", "code"),
    [
        ("", "no_handset"),
        ("Local/hold@phonebank-test/n", "bad_handset"),  # no dialplan of one's choosing
        ("PJSIP/a,b", "bad_handset"),
        ("SIP/x", "bad_handset"),
        ("DAHDI/g1", "bad_handset"),
    ],
)
def test_other_handsets_are_refused(typed: str, code: str) -> None:
    with pytest.raises(CoachError) as caught:
        parse_handset(typed)
    assert caught.value.code == code


def test_a_station_cannot_coach_itself() -> None:
    check_target(Handset(station="4"), "5")
    check_target(Handset(channel="PJSIP/4"), "4")
    with pytest.raises(CoachError) as caught:
        check_target(Handset(station="4"), "4")
    assert caught.value.code == "same_station"
