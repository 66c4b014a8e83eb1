"""The Originate the engine's call becomes, as docs/telephony.md describes it (pure).

`CallSettings` are a campaign's telephony choices; `originate_request` turns an
attempt, a number and those settings into the channel, the variables and the
Originate's own time-out. Empty settings leave the dialplan's defaults
(extensions.conf globals) in force.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from phonebank.ami.snapshot import ATTEMPT_VARIABLE
from phonebank.telephony.signals import OUTBOUND_CONTEXT

ANSWERED_CONTEXT = "phonebank-answered"
# What the dialplan's outbound extension `_[+0-9].` accepts; anything else would
# also be able to change the Local channel string.
_NUMBER = re.compile(r"\+?[0-9]{2,20}")
_STATION = re.compile(r"[0-9]{1,10}")  # the dialplan's stations are numbers (FILTER(0-9))
# The Originate waits this much longer than the ring time, so that the dialplan's
# Dial() times out first and says why (PhonebankDialFailed NOANSWER).
ORIGINATE_MARGIN_S = 10


@dataclass(frozen=True, slots=True)
class CallSettings:
    """One campaign's calls. Empty strings and None: the dialplan's default."""

    caller_id: str  # the number shown to the voter (PHONEBANK_CALLERID)
    caller_id_name: str = ""
    trunk: str = ""  # "" = asterisk.trunk (carrier or analog); "sim" = the simulated network
    ring_seconds: int = 30
    amd: str = ""  # AMD() arguments, comma-separated; "" = amd.conf
    amd_enabled: bool = True  # False: every answer is a person, put through at once
    machine: str = "hangup"  # "message": leave the voicemail message
    station_wait_ms: int | None = None  # how long a person may wait (dialplan: 1200)
    record: bool = False
    lang: str = ""  # folder of phonebank's prompts: fr, en
    voicemail: str = ""  # the campaign's message, path without extension
    safe_harbor: str = ""  # the campaign's safe-harbor recording

    def __post_init__(self) -> None:
        if self.ring_seconds < 1:
            raise ValueError(f"ring_seconds must be at least 1, got {self.ring_seconds}")
        if self.machine not in {"hangup", "message"}:
            raise ValueError(f"machine must be 'hangup' or 'message', got {self.machine!r}")
        if self.station_wait_ms is not None and self.station_wait_ms < 0:
            raise ValueError(f"station_wait_ms must not be negative, got {self.station_wait_ms}")


@dataclass(frozen=True, slots=True)
class OriginateRequest:
    channel: str
    context: str
    exten: str
    variables: dict[str, str]
    timeout_ms: int


def valid_number(number: str) -> bool:
    return _NUMBER.fullmatch(number) is not None


def originate_request(
    attempt_id: str, number: str, settings: CallSettings, station: str | None = None
) -> OriginateRequest:
    """The Originate for one attempt; `number` must pass `valid_number`.

    `station`: the station reserved for this call (preview), named to the dialplan
    in the Originate itself, so the voter is put through the instant they answer."""
    if not valid_number(number):
        raise ValueError(f"not a dialable number: {number!r}")
    if station is not None and not _STATION.fullmatch(station):
        raise ValueError(f"not a station number: {station!r}")
    variables = {
        ATTEMPT_VARIABLE: attempt_id,
        "PHONEBANK_CALLERID": settings.caller_id,
        "PHONEBANK_RING_SECONDS": str(settings.ring_seconds),
        "PHONEBANK_MACHINE": settings.machine,
    }
    optional = {
        "PHONEBANK_CALLERID_NAME": settings.caller_id_name,
        "PHONEBANK_TRUNK": settings.trunk,
        "PHONEBANK_AMD": settings.amd,
        "PHONEBANK_LANG": settings.lang,
        "PHONEBANK_VOICEMAIL": settings.voicemail,
        "PHONEBANK_SAFE_HARBOR": settings.safe_harbor,
        "PHONEBANK_RECORD": "yes" if settings.record else "",
        "PHONEBANK_AMD_ENABLED": "" if settings.amd_enabled else "no",
        "PHONEBANK_STATION_WAIT_MS": (
            str(settings.station_wait_ms) if settings.station_wait_ms is not None else ""
        ),
    }
    variables.update({name: value for name, value in optional.items() if value})
    if station is not None:
        variables["PHONEBANK_STATION"] = station
    return OriginateRequest(
        channel=f"Local/{number}@{OUTBOUND_CONTEXT}/n",
        context=ANSWERED_CONTEXT,
        exten="s",
        variables=variables,
        timeout_ms=(settings.ring_seconds + ORIGINATE_MARGIN_S) * 1000,
    )
