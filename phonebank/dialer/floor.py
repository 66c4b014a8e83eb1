"""A snapshot of the call floor, as the pacer sees it at one instant.

Times are seconds on the engine's clock (monotonic in production, virtual in the
simulator); `since` fields say when the current state began.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from phonebank.db.enums import DialMode

DEFAULT_CONNECT_LIMIT = 2.0


class StationState(StrEnum):
    READY = "ready"  # logged in, waiting for a call
    TALKING = "talking"  # bridged to a callee
    WRAP_UP = "wrap_up"  # call over, recording the outcome
    PAUSED = "paused"  # logged in but not taking calls


class LineState(StrEnum):
    RINGING = "ringing"  # originated, no answer yet
    WAITING = "waiting"  # a human answered and waits for a station (2 s rule running)


@dataclass(frozen=True, slots=True)
class StationView:
    state: StationState
    since: float


@dataclass(frozen=True, slots=True)
class LineView:
    state: LineState
    since: float


@dataclass(frozen=True, slots=True)
class CampaignSettings:
    """What the pacer needs to know of a campaign."""

    mode: DialMode = DialMode.PREDICTIVE
    lines_cap: int | None = None  # trunk channels this campaign may hold at once
    abandon_target: float = 0.03
    connect_limit: float = DEFAULT_CONNECT_LIMIT
    # The Originate timeout: a line still ringing then ends as "no answer".
    ring_timeout: float = 25.0
    # Share of answers AMD classifies right; below 1, some humans are hung up as machines.
    amd_accuracy: float = 1.0

    def __post_init__(self) -> None:
        if self.lines_cap is not None and self.lines_cap < 1:
            raise ValueError(f"lines_cap must be at least 1, got {self.lines_cap}")
        if not 0.0 <= self.abandon_target <= 1.0:
            raise ValueError(f"abandon_target must be in [0, 1], got {self.abandon_target}")
        if self.connect_limit <= 0 or self.ring_timeout <= 0:
            raise ValueError("connect_limit and ring_timeout must be positive")
        if not 0.5 < self.amd_accuracy <= 1.0:
            raise ValueError(f"amd_accuracy must be in (0.5, 1], got {self.amd_accuracy}")


@dataclass(frozen=True, slots=True)
class FloorSnapshot:
    settings: CampaignSettings
    stations: tuple[StationView, ...] = ()
    # Lines that may still need a station: ringing, or answered by a human and waiting.
    lines: tuple[LineView, ...] = ()
    # Calls bridged to a station (they hold a trunk channel too).
    bridged: int = 0

    def count(self, state: StationState) -> int:
        return sum(1 for s in self.stations if s.state is state)

    @property
    def ready(self) -> int:
        return self.count(StationState.READY)

    @property
    def active_stations(self) -> int:
        """Logged in and not paused: the volunteers calls are paced for."""
        return sum(1 for s in self.stations if s.state is not StationState.PAUSED)

    @property
    def ringing(self) -> int:
        return sum(1 for line in self.lines if line.state is LineState.RINGING)

    @property
    def waiting(self) -> int:
        return sum(1 for line in self.lines if line.state is LineState.WAITING)

    @property
    def lines_in_use(self) -> int:
        return len(self.lines) + self.bridged

    def lines_free(self) -> int:
        """Trunk channels still free under the cap (a large number without a cap)."""
        cap = self.settings.lines_cap
        return 10**6 if cap is None else max(0, cap - self.lines_in_use)
