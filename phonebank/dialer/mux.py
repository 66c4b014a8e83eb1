"""One telephony (one Asterisk) shared by the runners of several active campaigns.

Each runner gets a `view`: its originates go to the shared telephony, and the
events of its attempts come back to it alone. Events about a station without an
attempt (ready, paused, logged out, a keypad code) go to the campaign
`station_campaign(station)` names, else to the campaign the station last took a
call for, else to the first campaign that registered. Asterisk puts a voter
through to any free handset whatever the campaign, so several predictive
campaigns on one floor share its volunteers: each pacer then counts the shared
ready stations as its own. Running one predictive campaign per floor at a time
avoids that.
"""

from __future__ import annotations

from collections.abc import Callable

from phonebank.dialer.telephony import EventKind, Listener, Telephony, TelephonyEvent

_ENDINGS = {
    EventKind.ANSWERED_MACHINE,
    EventKind.BUSY,
    EventKind.NO_ANSWER,
    EventKind.INVALID,
    EventKind.ABANDONED,
    EventKind.HUNG_UP,
    EventKind.FAILED,
    EventKind.LOST,
}


_MODES = {EventKind.STATION_READY, EventKind.STATION_PAUSED, EventKind.STATION_LOGGED_OUT}


class TelephonyMux:
    def __init__(
        self, telephony: Telephony, station_campaign: Callable[[str], int | None] | None = None
    ) -> None:
        self.telephony = telephony
        self._station_campaign = station_campaign
        self._listeners: dict[int, Listener] = {}
        self._owner: dict[str, int] = {}  # attempt -> campaign
        self._last: dict[str, int] = {}  # station -> campaign of its last call
        # The latest ready / paused / logged-out event of each station, replayed to a
        # runner that starts later (a volunteer logged in before the campaign began).
        self._modes: dict[str, TelephonyEvent] = {}
        telephony.set_listener(self.dispatch)

    def view(self, campaign_id: int) -> CampaignTelephony:
        return CampaignTelephony(self, campaign_id)

    def drop(self, campaign_id: int) -> None:
        self._listeners.pop(campaign_id, None)

    def dispatch(self, event: TelephonyEvent) -> None:
        if event.station is not None and event.kind in _MODES:
            self._modes[event.station] = event
        campaign = self._route(event)
        listener = self._listeners.get(campaign) if campaign is not None else None
        if listener is not None:
            listener(event)

    def _route(self, event: TelephonyEvent) -> int | None:
        attempt, station = event.attempt_id, event.station
        if attempt is not None and attempt in self._owner:
            campaign = self._owner[attempt]
            if event.kind in _ENDINGS:
                del self._owner[attempt]
            if station is not None:
                self._last[station] = campaign
            return campaign
        return self.station_owner(station) if station is not None else None

    def owner(self, attempt_id: str) -> int | None:
        """The campaign of a call in progress."""
        return self._owner.get(attempt_id)

    def station_owner(self, station: str) -> int | None:
        """The campaign a station's own events (and its screen's reports) go to."""
        named = self._station_campaign(station) if self._station_campaign else None
        if named is not None and named in self._listeners:
            return named
        if self._last.get(station) in self._listeners:
            return self._last[station]
        return next(iter(self._listeners), None)

    def _originate(
        self, campaign_id: int, attempt_id: str, number: str, now: float, station: str | None
    ) -> None:
        self._owner[attempt_id] = campaign_id
        if station is None:
            self.telephony.originate(attempt_id, number, now)
        else:
            self.telephony.originate(attempt_id, number, now, station=station)


class CampaignTelephony:
    """A campaign's share of the telephony (the `Telephony` protocol)."""

    def __init__(self, mux: TelephonyMux, campaign_id: int) -> None:
        self._mux = mux
        self._campaign_id = campaign_id

    def set_listener(self, listener: Listener) -> None:
        mux = self._mux
        mux._listeners[self._campaign_id] = listener
        for station, event in list(mux._modes.items()):
            named = mux._station_campaign(station) if mux._station_campaign else None
            owner = named if named is not None else mux.station_owner(station)
            if owner == self._campaign_id:
                listener(event)

    def originate(
        self, attempt_id: str, number: str, now: float, *, station: str | None = None
    ) -> None:
        self._mux._originate(self._campaign_id, attempt_id, number, now, station)

    def can_reserve(self, station: str) -> bool:
        """Whether a preview call may be dialled for `station` (True if the phones cannot say)."""
        check = getattr(self._mux.telephony, "can_reserve", None)
        return bool(check(station)) if callable(check) else True

    def station_mode(self, station: str, ready: bool, at: float) -> None:
        sink = getattr(self._mux.telephony, "station_mode", None)
        if callable(sink):
            sink(station, ready, at)
