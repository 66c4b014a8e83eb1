"""Preview mode's bookkeeping: which station holds which offered lead (pure, clock passed in).

A station has at most one slot: *claiming* (a lead is being claimed for it),
*offered* (its volunteer sees the contact), *starting* (they clicked "Call"; the
attempt row is being written) or *dialling* (the call is placed, until it ends).
The book never does I/O; the `Previewer` claims, offers, withdraws and dials as
its answers say.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from phonebank.dialer.repo import ClaimedLead

# Nobody clicked within this long: the offer is withdrawn and its lead released.
OFFER_SECONDS = 300.0


class Stage(enum.Enum):
    CLAIMING = "claiming"
    OFFERED = "offered"
    STARTING = "starting"
    DIALLING = "dialling"


class Withdrawal(enum.StrEnum):
    """Why an offer was taken back."""

    NOT_READY = "not_ready"  # the station paused, went to wrap-up or logged out
    WINDOW = "window"  # the callee's calling window closed
    EXPIRED = "expired"  # nobody clicked within OFFER_SECONDS
    STOPPED = "stopped"  # the campaign's runner is stopping


@dataclass(slots=True)
class Slot:
    stage: Stage
    since: float
    lead: ClaimedLead | None = None
    attempt: str | None = None


@dataclass(frozen=True, slots=True)
class Taken:
    """An offer taken back, or a dial that ended: its station and lead."""

    station: str
    lead: ClaimedLead
    reason: Withdrawal | None = None


class PreviewBook:
    def __init__(self, offer_seconds: float = OFFER_SECONDS) -> None:
        self.offer_seconds = offer_seconds
        self._slots: dict[str, Slot] = {}

    def slot(self, station: str) -> Slot | None:
        return self._slots.get(station)

    def offered(self) -> dict[str, ClaimedLead]:
        """The leads on offer now, by station."""
        return {
            station: slot.lead
            for station, slot in self._slots.items()
            if slot.stage is Stage.OFFERED and slot.lead is not None
        }

    # -- offering ----------------------------------------------------------------------------

    def wanting(self, ready: Iterable[str]) -> list[str]:
        """Stations that may get an offer (ready, a screen watching) and hold nothing."""
        return sorted(station for station in set(ready) if station not in self._slots)

    def claiming(self, stations: Iterable[str], now: float) -> None:
        for station in stations:
            if station not in self._slots:
                self._slots[station] = Slot(Stage.CLAIMING, now)

    def claimed(
        self, leads: Iterable[ClaimedLead], ready: Iterable[str], now: float
    ) -> tuple[list[Taken], list[ClaimedLead]]:
        """Give the claimed leads to the stations they were claimed for that are still
        ready; returns the offers to make and the leads nobody needs any more."""
        still = set(ready)
        claiming = sorted(s for s, slot in self._slots.items() if slot.stage is Stage.CLAIMING)
        for station in claiming:
            del self._slots[station]  # one without a lead asks again at the next step
        takers = [station for station in claiming if station in still]
        offers: list[Taken] = []
        spare: list[ClaimedLead] = []
        for lead in leads:
            if not takers:
                spare.append(lead)
                continue
            station = takers.pop(0)
            self._slots[station] = Slot(Stage.OFFERED, now, lead)
            offers.append(Taken(station, lead))
        return offers, spare

    def stale(
        self, now: float, ready: Iterable[str], callable_now: Callable[[ClaimedLead], bool]
    ) -> list[Taken]:
        """Offers to take back now: station no longer ready, window closed, or too old."""
        still = set(ready)
        taken: list[Taken] = []
        for station, slot in sorted(self._slots.items()):
            lead = slot.lead
            if slot.stage is not Stage.OFFERED or lead is None:
                continue
            if station not in still:
                reason = Withdrawal.NOT_READY
            elif not callable_now(lead):
                reason = Withdrawal.WINDOW
            elif now - slot.since >= self.offer_seconds:
                reason = Withdrawal.EXPIRED
            else:
                continue
            del self._slots[station]
            taken.append(Taken(station, lead, reason))
        return taken

    def withdraw_all(self) -> list[Taken]:
        """The runner stops: every offer is taken back, pending claims forgotten."""
        taken = [Taken(s, lead, Withdrawal.STOPPED) for s, lead in sorted(self.offered().items())]
        for station, slot in list(self._slots.items()):
            if slot.stage in (Stage.CLAIMING, Stage.OFFERED):
                del self._slots[station]
        return taken

    # -- dialling ----------------------------------------------------------------------------

    def dial(self, station: str, entry_id: int) -> ClaimedLead | None:
        """The volunteer clicked "Call" on `entry_id`: its lead, if that is the offer now.

        Anything else (an older offer, a second click, another station's lead) is None."""
        slot = self._slots.get(station)
        lead = slot.lead if slot is not None else None
        if slot is None or slot.stage is not Stage.OFFERED or lead is None:
            return None
        if lead.entry_id != entry_id:
            return None
        slot.stage = Stage.STARTING
        return lead

    def started(self, station: str, attempt: str) -> None:
        slot = self._slots.get(station)
        if slot is not None and slot.stage is Stage.STARTING:
            slot.stage, slot.attempt = Stage.DIALLING, attempt

    def not_started(self, station: str) -> None:
        slot = self._slots.get(station)
        if slot is not None and slot.stage is Stage.STARTING:
            del self._slots[station]

    def ended(self, attempt: str) -> Taken | None:
        """The call dialled for a station ended: the station may get the next offer."""
        for station, slot in self._slots.items():
            if slot.stage is Stage.DIALLING and slot.attempt == attempt and slot.lead is not None:
                del self._slots[station]
                return Taken(station, slot.lead)
        return None

    def dialling(self) -> set[str]:
        return {s.attempt for s in self._slots.values() if s.attempt is not None}
