"""Abandon accounting: per campaign, per day and over a rolling 30 days.

An abandoned call is a live answer (a human, as far as anyone knows) not put
through to a volunteer within the campaign's connect limit (2 s by default).
Humans that answering-machine detection took for machines hear nothing either,
so an estimate of them is counted too. With AMD accuracy `a` (the share of
answers it classifies right, either way), h human and m machine verdicts come
from H true humans and M true machines with h = aH + (1−a)M and m = (1−a)H + aM,
so H = (a·h − (1−a)·m) / (2a − 1) and the false positives are (1−a)·H (clamped to
[0, m]). They count as live answers and as abandons.
"""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import dataclass
from datetime import date, timedelta

ROLLING_DAYS = 30


def estimated_false_positives(
    *, human_verdicts: int, machine_verdicts: int, accuracy: float
) -> float:
    """Expected humans among the machine verdicts, for an AMD of this accuracy."""
    if not 0.5 < accuracy <= 1.0:
        raise ValueError(f"AMD accuracy must be in (0.5, 1], got {accuracy}")
    if accuracy == 1.0:
        return 0.0
    humans = (accuracy * human_verdicts - (1 - accuracy) * machine_verdicts) / (2 * accuracy - 1)
    return min(float(machine_verdicts), max(0.0, (1 - accuracy) * humans))


@dataclass(frozen=True)
class AbandonFigures:
    live_answers: int
    abandoned: int
    false_positives: float

    @property
    def rate(self) -> float:
        answers = self.live_answers + self.false_positives
        return (self.abandoned + self.false_positives) / answers if answers > 0 else 0.0


@dataclass
class _Tally:
    live_answers: int = 0
    abandoned: int = 0
    human_verdicts: int = 0
    machine_verdicts: int = 0


class AbandonLedger:
    """Counts per (campaign, day in the campaign's time zone)."""

    def __init__(self, amd_accuracy: float = 1.0) -> None:
        estimated_false_positives(human_verdicts=0, machine_verdicts=0, accuracy=amd_accuracy)
        self.amd_accuracy = amd_accuracy
        self._days: dict[tuple[Hashable, date], _Tally] = {}

    def _tally(self, campaign: Hashable, day: date) -> _Tally:
        return self._days.setdefault((campaign, day), _Tally())

    def record_human_verdict(self, campaign: Hashable, day: date) -> None:
        self._tally(campaign, day).human_verdicts += 1

    def record_machine_verdict(self, campaign: Hashable, day: date) -> None:
        self._tally(campaign, day).machine_verdicts += 1

    def record_live_answer(self, campaign: Hashable, day: date, *, abandoned: bool) -> None:
        tally = self._tally(campaign, day)
        tally.live_answers += 1
        tally.abandoned += int(abandoned)

    def day(self, campaign: Hashable, day: date) -> AbandonFigures:
        return self._figures(campaign, [day])

    def rolling(self, campaign: Hashable, today: date, days: int = ROLLING_DAYS) -> AbandonFigures:
        """The `days` days ending with `today` (included)."""
        return self._figures(campaign, [today - timedelta(days=i) for i in range(days)])

    def _figures(self, campaign: Hashable, days: list[date]) -> AbandonFigures:
        live = abandoned = humans = machines = 0
        for d in days:
            tally = self._days.get((campaign, d))
            if tally is None:
                continue
            live += tally.live_answers
            abandoned += tally.abandoned
            humans += tally.human_verdicts
            machines += tally.machine_verdicts
        fp = estimated_false_positives(
            human_verdicts=humans, machine_verdicts=machines, accuracy=self.amd_accuracy
        )
        return AbandonFigures(live_answers=live, abandoned=abandoned, false_positives=fp)

    def over_target(self, campaign: Hashable, today: date, target: float) -> bool:
        """True when the day or the rolling window is above the target."""
        return (
            self.day(campaign, today).rate > target or self.rolling(campaign, today).rate > target
        )
