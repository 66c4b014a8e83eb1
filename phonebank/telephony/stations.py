"""Which station takes the next voter: the pool of handsets, pure and clock-free.

A station can take a call when it is *present* (its handset is in its bridge),
*available* (the volunteer is ready: not paused, not in wrap-up) and *free* (no
call reserved for it or bridged to it). Among those, the one ready longest gets
the call. A station holds at most one call at a time, and a call at most one
station: `pick`, `reserve`, `take` and `release` keep both sides of that pairing
together.

A preview call `reserve`s its station when it is dialled, before anyone answers:
the volunteer chose that voter, so from then on `pick` passes that station over.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator
from dataclasses import dataclass


@dataclass(slots=True)
class StationState:
    present: bool = False
    available: bool = False
    since: float = 0.0  # when it last became available
    call: str | None = None  # the attempt reserved for it or bridged to it
    bridged: bool = False  # `call` is in its bridge (not just reserved)
    last_call: str | None = None  # the call its keypad codes are about

    @property
    def free(self) -> bool:
        return self.present and self.available and self.call is None


class StationPool:
    """Stations by number; `allowed` (the inventory) limits which ones count."""

    def __init__(self, allowed: Collection[str] | None = None) -> None:
        self._allowed = frozenset(allowed) if allowed is not None else None
        self._stations: dict[str, StationState] = {}
        self._holder: dict[str, str] = {}  # attempt -> station

    def allowed(self, station: str) -> bool:
        return self._allowed is None or station in self._allowed

    def get(self, station: str) -> StationState | None:
        return self._stations.get(station)

    def __iter__(self) -> Iterator[tuple[str, StationState]]:
        return iter(list(self._stations.items()))

    def present(self) -> frozenset[str]:
        return frozenset(name for name, s in self._stations.items() if s.present)

    def holder(self, attempt: str) -> str | None:
        """The station reserved for (or bridged to) this attempt."""
        return self._holder.get(attempt)

    def _state(self, station: str) -> StationState:
        return self._stations.setdefault(station, StationState())

    # -- presence ----------------------------------------------------------------------------

    def join(self, station: str, at: float) -> bool:
        """The handset is in its bridge: present and ready. True if it was absent."""
        if not self.allowed(station):
            return False
        state = self._state(station)
        if state.present:
            return False
        state.present, state.available, state.since = True, True, at
        return True

    def leave(self, station: str) -> tuple[bool, str | None, bool]:
        """The handset left: (it was present, the call it held, that call was bridged)."""
        state = self._stations.get(station)
        if state is None or not state.present:
            return False, None, False
        call, bridged = state.call, state.bridged
        self._drop_call(station, state)
        state.present = state.available = False
        return True, call, bridged

    # -- the volunteer's own say -------------------------------------------------------------

    def set_available(self, station: str, ready: bool, at: float) -> bool:
        """Ready or paused (screen, or *0). True when the floor should hear of it:
        a change, on a present station, that is not on a call."""
        if not self.allowed(station):
            return False
        state = self._state(station)
        if state.call is not None and state.bridged:
            # On a call: a pause is remembered (no wrap-up ends in "ready" by itself);
            # "ready" means nothing until the call is over.
            if not ready:
                state.available = False
            return False
        if ready == state.available:
            return False
        state.available = ready
        if ready:
            state.since = at
        return state.present

    # -- calls -------------------------------------------------------------------------------

    def pick(self, attempt: str) -> str | None:
        """Reserve the free station ready longest for this attempt (None: none free)."""
        if attempt in self._holder:
            return self._holder[attempt]
        free = [(s.since, name) for name, s in self._stations.items() if s.free]
        if not free:
            return None
        _, station = min(free)
        self._stations[station].call = attempt
        self._holder[attempt] = station
        return station

    def can_reserve(self, station: str) -> bool:
        """A call may be dialled for this station alone: its handset is there, it holds none."""
        state = self._stations.get(station)
        return self.allowed(station) and state is not None and state.present and state.call is None

    def reserve(self, station: str, attempt: str) -> bool:
        """Hold this station for `attempt` from the dial on (preview); False if it cannot."""
        if self._holder.get(attempt) == station:
            return True
        if attempt in self._holder or not self.can_reserve(station):
            return False
        self._stations[station].call = attempt
        self._holder[attempt] = station
        return True

    def take(self, station: str, attempt: str, *, remember: bool = True) -> tuple[bool, str | None]:
        """The dialplan put `attempt` into this station's bridge.

        `remember=False` (a call-back) leaves `last_call`, what the station's keypad
        codes are about, on the last call the engine placed.

        Returns (accepted, displaced): not accepted when the station already has
        another call in its bridge (the pool keeps that one); `displaced` is another
        attempt whose reservation this took over, which needs a station again.
        """
        state = self._state(station)
        if state.call is not None and state.call != attempt and state.bridged:
            return False, None
        previous = self._holder.get(attempt)
        if previous is not None and previous != station:
            self.release(previous, attempt)
        displaced = state.call if state.call != attempt else None
        if displaced is not None:
            self._holder.pop(displaced, None)
        state.call, state.bridged = attempt, True
        if remember:
            state.last_call = attempt
        self._holder[attempt] = station
        return True, displaced

    def release(self, station: str, attempt: str) -> None:
        """A reservation that will not be used: the station is free again, still ready."""
        state = self._stations.get(station)
        if state is not None and state.call == attempt:
            self._drop_call(station, state)

    def hang_up(self, station: str, attempt: str) -> None:
        """The call is over: the station goes to wrap-up until the volunteer is ready."""
        state = self._stations.get(station)
        if state is not None and state.call == attempt:
            self._drop_call(station, state)
            state.available = False

    def _drop_call(self, station: str, state: StationState) -> None:
        if state.call is not None and self._holder.get(state.call) == station:
            del self._holder[state.call]
        state.call, state.bridged = None, False
