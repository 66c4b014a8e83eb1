"""Coaching rules: which extension of `phonebank-coach` a mode dials, which handsets a
supervisor may name. Pure; the AMI and the database are in coach_service.py.

The supervisor's handset is originated into `phonebank-coach` with `71<station>`
(listen), `72<station>` (whisper to the volunteer) or `73<station>` (barge: talk to
both); see docs/telephony.md.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

COACH_CONTEXT = "phonebank-coach"
_STATION = re.compile(r"[0-9]{1,16}")
# The station inventory's rules (admin/stations.py): an FXS port or a SIP endpoint.
_CHANNEL = re.compile(r"DAHDI/[0-9]+|PJSIP/[A-Za-z0-9_.-]{1,64}")


class Mode(StrEnum):
    LISTEN = "listen"
    WHISPER = "whisper"
    BARGE = "barge"


_CODES = {Mode.LISTEN: "71", Mode.WHISPER: "72", Mode.BARGE: "73"}


class CoachError(Exception):
    """A refused coaching request; `code` is stable (the web layer translates it)."""

    def __init__(self, code: str, detail: str = "") -> None:
        super().__init__(f"{code}: {detail}" if detail else code)
        self.code = code


@dataclass(frozen=True)
class Handset:
    """Where to ring the supervisor: a station's handset, or a channel typed in full."""

    station: str | None = None
    channel: str | None = None

    def __str__(self) -> str:
        return self.station or self.channel or ""


def parse_mode(text: str) -> Mode:
    try:
        return Mode(text)
    except ValueError:
        raise CoachError("bad_mode", text[:16]) from None


def parse_station(text: str) -> str:
    text = text.strip()
    if not _STATION.fullmatch(text):
        raise CoachError("bad_station", text[:16])
    return text


def parse_handset(text: str) -> Handset:
    """A station number ("12") or a channel ("PJSIP/supervisor", "DAHDI/16")."""
    text = text.strip()
    if not text:
        raise CoachError("no_handset")
    if _STATION.fullmatch(text):
        return Handset(station=text)
    if _CHANNEL.fullmatch(text):
        return Handset(channel=text)
    raise CoachError("bad_handset", text[:64])


def coach_exten(mode: Mode, station: str) -> str:
    """The `phonebank-coach` extension that coaches `station` in `mode`."""
    return _CODES[mode] + parse_station(station)


def check_target(handset: Handset, station: str) -> None:
    # A supervisor at a station's handset cannot coach that station's own call.
    if handset.station is not None and handset.station == station:
        raise CoachError("same_station", station)
