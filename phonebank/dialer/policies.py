"""Baseline pacing policies for the benchmark: fixed ratio and VICIdial's adaptive modes.

The VICIdial policies re-implement the public description of AST_VDadapt (the
adaptive dial-level process of VICIdial), as quoted in issue 5 and docs/dialer.md:
every second it samples ready agents and answered calls waiting for an agent and
keeps 15-sample moving averages; every 15 s it recomputes the dial level
DL ← DL · (1 + (ready − waiting + diff_target) / agents · intensity), clamped to
[1, 3]; it halves DL when over 50 % of the last minute's calls (at least 20)
dropped; once more than 50 calls were placed today with the day's drop rate over
target, it sets DL to 1.0 (hard limit) or tapers it by the time left in the day
(tapered). Every 2.5 s it places round(DL × agents) − calls in progress.
"""

from __future__ import annotations

from collections import deque

from phonebank.dialer.floor import FloorSnapshot
from phonebank.dialer.pacing import capped
from phonebank.dialer.stats import FloorStats


class FixedRatioPolicy:
    """Keep round(ratio × active volunteers) calls up, ringing or bridged."""

    name = "fixed_ratio"

    def __init__(self, ratio: float) -> None:
        self.ratio = ratio

    def decide(self, snapshot: FloorSnapshot, stats: FloorStats, now: float) -> int:
        target = round(self.ratio * snapshot.active_stations)
        return capped(snapshot, target - snapshot.lines_in_use)


class VicidialAdaptPolicy:
    """AST_VDadapt's dial level, with the hard-limit or the tapered drop guard."""

    tick_seconds = 0.5
    SAMPLES = 15
    RECOMPUTE = 15.0
    PLACE_EVERY = 2.5
    MAX_LEVEL = 3.0

    def __init__(
        self,
        *,
        tapered: bool,
        day_seconds: float,
        intensity: float = 1.0,
        diff_target: float = 0.0,
    ) -> None:
        self.tapered = tapered
        self.name = "vicidial_adapt_tapered" if tapered else "vicidial_adapt_hard_limit"
        self.day_seconds = day_seconds
        self.intensity = intensity
        self.diff_target = diff_target
        self.level = 1.0
        self._ready: deque[int] = deque(maxlen=self.SAMPLES)
        self._waiting: deque[int] = deque(maxlen=self.SAMPLES)
        self._next_sample = 0.0
        self._next_recompute = self.RECOMPUTE
        self._next_place = 0.0

    def decide(self, snapshot: FloorSnapshot, stats: FloorStats, now: float) -> int:
        if now >= self._next_sample:
            self._ready.append(snapshot.ready)
            self._waiting.append(snapshot.waiting)
            self._next_sample += 1.0
        if now >= self._next_recompute:
            self._recompute(snapshot, stats, now)
            self._next_recompute += self.RECOMPUTE
        if now < self._next_place:
            return 0
        self._next_place += self.PLACE_EVERY
        target = round(self.level * snapshot.active_stations)
        return capped(snapshot, target - snapshot.lines_in_use)

    def _recompute(self, snapshot: FloorSnapshot, stats: FloorStats, now: float) -> None:
        agents = snapshot.active_stations
        if agents and self._ready:
            ready = sum(self._ready) / len(self._ready)
            waiting = sum(self._waiting) / len(self._waiting)
            change = (ready - waiting + self.diff_target) / agents * self.intensity
            self.level *= 1.0 + change
        self.level = min(max(self.level, 1.0), self.MAX_LEVEL)
        minute = [dropped for at, dropped in stats.recent_answers if at >= now - 60.0]
        if len(minute) >= 20 and sum(minute) > 0.5 * len(minute):
            self.level = max(1.0, self.level / 2.0)
        if stats.placed > 50 and stats.abandon_rate > snapshot.settings.abandon_target:
            if self.tapered:
                left = max(0.0, 1.0 - now / self.day_seconds)
                self.level = 1.0 + (self.level - 1.0) * left
            else:
                self.level = 1.0
