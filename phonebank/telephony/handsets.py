"""Simulated handsets: a station's handset taken off the hook through the dialplan.

A `Local/<station>@sim-station` channel running Application Wait is a handset
lifted and left off the hook for `seconds` (no time-out of a test extension); the
station context answers it at once and puts it in the station's bridge. Used by
the demo floor and the telephony benchmark, where there are no telephones.
"""

from __future__ import annotations

from phonebank.ami.client import AmiClient


def handset_channel(station: str) -> str:
    return f"Local/{station}@sim-station/n"


async def lift_handset(ami: AmiClient, station: str, seconds: int) -> None:
    """Take the station's simulated handset off the hook; AmiError if Asterisk refuses."""
    await ami.action(
        {
            "Action": "Originate",
            "Channel": handset_channel(station),
            "Application": "Wait",
            "Data": str(seconds),
        }
    )
