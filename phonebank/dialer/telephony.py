"""The seam between the dialer engine and the phones: the simulator or Asterisk.

The engine asks for a call with `originate(attempt_id, number, now)` and learns
what happened from `TelephonyEvent`s, each naming the attempt (the
`PHONEBANK_ATTEMPT` channel variable on the AMI side) and, once bridged, the
station. `originate` never blocks: the AMI adapter runs one task per dial
(panoramisk resolves an async Originate only when the call does), the simulator
schedules the call on its virtual clock.

On Asterisk (phonebank/telephony/adapter.py, docs/telephony.md "The AMI adapter"):
ANSWERED_* come from the dialplan's `PhonebankAmd` verdict, BUSY / NO_ANSWER /
INVALID from `PhonebankDialFailed` (or the failed Originate's reason), BRIDGED
from `PhonebankBridged`, ABANDONED from `PhonebankAbandoned`, HUNG_UP from the
answered leg's hang-up, STATION_* from the handset entering or leaving its bridge,
its keypad codes and the volunteer's screen. FAILED, LOST, STATION_LOGGED_OUT and
STATION_KEY exist only there (the simulator never loses a call).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol


class EventKind(StrEnum):
    ANSWERED_HUMAN = "answered_human"  # AMD said human: needs a station within the limit
    ANSWERED_MACHINE = "answered_machine"  # AMD said machine: hung up or message left
    BUSY = "busy"
    NO_ANSWER = "no_answer"
    INVALID = "invalid"  # the network refused the number
    BRIDGED = "bridged"  # the callee is talking to `station`
    ABANDONED = "abandoned"  # no station within the limit: safe-harbor message, hang-up
    HUNG_UP = "hung_up"  # a bridged call ended; `station` goes to wrap-up
    STATION_READY = "station_ready"  # the volunteer recorded the outcome (or logged in)
    STATION_PAUSED = "station_paused"
    # The call could not be placed (AMI down, Originate refused for a reason that is not
    # the callee's network): nobody was dialled, the lead is untouched.
    FAILED = "failed"
    # After a reconnect the attempt's channels were gone and no outcome had been seen
    # (Asterisk restarted mid-call). With `station`: it was bridged there.
    LOST = "lost"
    STATION_LOGGED_OUT = "station_logged_out"  # the handset left its bridge
    STATION_KEY = "station_key"  # a keypad code (`detail`: the key) other than *0


@dataclass(frozen=True, slots=True)
class TelephonyEvent:
    kind: EventKind
    at: float
    attempt_id: str | None = None
    station: str | None = None
    # STATION_KEY: the key pressed after `*`.
    detail: str | None = None


Listener = Callable[[TelephonyEvent], None]


class Telephony(Protocol):
    """What the engine needs from the phones."""

    def set_listener(self, listener: Listener) -> None:
        """Where events go; called once before the first originate."""

    def originate(
        self, attempt_id: str, number: str, now: float, *, station: str | None = None
    ) -> None:
        """Start a call for this attempt; its fate arrives as events.

        `station` (preview mode): the volunteer at that station asked for this call;
        the voter goes to that station alone, which is reserved for the call from
        now on (no other voter is given it). The engine never passes it."""
