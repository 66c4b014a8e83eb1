"""Reading Asterisk's own account of live calls and stations (pure).

On every AMI login the adapter asks `CoreShowChannels` (every channel, each with
its `PHONEBANK_ATTEMPT` from manager.conf `channelvars`, its application and
that application's data) and `ConfbridgeListRooms` (each conference with its
count of *marked* users: a station's handset joins its bridge marked). Both need
only the `reporting` read right. `live_view` turns the replies into a `LiveView`
for `CallBook.reconcile`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from phonebank.ami.snapshot import ATTEMPT_VARIABLE, Headers, channel_variables, to_int
from phonebank.telephony.calls import LiveView
from phonebank.telephony.signals import is_answered_leg, is_inbound, station_of_bridge

Message = Mapping[str, str]


def _headers(message: Message) -> Headers:
    # The client joins repeated headers with newlines; one value per line again.
    return Headers({key: value.splitlines() for key, value in message.items()})


def live_view(channels: Iterable[Message], rooms: Iterable[Message]) -> LiveView:
    """From the `CoreShowChannel` and `ConfbridgeListRooms` list events."""
    attempts: dict[str, str | None] = {}
    for message in channels:
        headers = _headers(message)
        if headers.get("event").lower() != "coreshowchannel":
            continue
        attempt = channel_variables(headers, "").get(ATTEMPT_VARIABLE, "")
        if not attempt:
            continue
        station = None
        # The voter's side: an Originate's answered leg, or a call-back's own channel.
        voter = is_answered_leg(headers.get("channel")) or is_inbound(attempt)
        if headers.get("application").lower() == "confbridge" and voter:
            station = station_of_bridge(headers.get("applicationdata").split(",")[0])
        if attempts.get(attempt) is None:
            attempts[attempt] = station
    stations: set[str] = set()
    for message in rooms:
        headers = _headers(message)
        if headers.get("event").lower() != "confbridgelistrooms":
            continue
        station = station_of_bridge(headers.get("conference"))
        if station is not None and (to_int(headers.get("marked")) or 0) > 0:
            stations.add(station)
    return LiveView(attempts=attempts, stations=frozenset(stations))
