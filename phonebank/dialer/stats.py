"""What the pacer learns during the day: outcome shares and time distributions.

Every estimate starts from a prior (worth a few dozen observations) so the first
minutes of a day are paced sensibly, and moves to the day's own data as calls end.
Distributions are empirical (no shape assumed): the answer-time mix of a real list
is lumpy (mobiles answer fast, landlines after voicemail-like delays), and talk
times are skewed, so a fitted exponential would mislead the conditional estimates
the pacer relies on (P(a volunteer who has talked for 3 minutes frees up in 20 s)).
"""

from __future__ import annotations

import bisect
import math
from collections import deque
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum


class CallOutcome(StrEnum):
    """How an originated line resolved (after answering-machine detection)."""

    HUMAN = "human"
    MACHINE = "machine"
    BUSY = "busy"
    NO_ANSWER = "no_answer"
    INVALID = "invalid"


def lognormal_quantiles(mean: float, cv: float, count: int) -> list[float]:
    """`count` evenly spaced quantiles of a lognormal, used as prior pseudo-samples."""
    sigma2 = math.log(1.0 + cv * cv)
    mu = math.log(mean) - sigma2 / 2.0
    sigma = math.sqrt(sigma2)
    out = []
    for i in range(count):
        p = (i + 0.5) / count
        out.append(math.exp(mu + sigma * _normal_ppf(p)))
    return out


def _normal_ppf(p: float) -> float:
    """Inverse standard normal CDF (Acklam's rational approximation, |error| < 1.2e-9)."""
    a = (-39.69683028665376, 220.9460984245205, -275.9285104469687, 138.3577518672690,
         -30.66479806614716, 2.506628277459239)  # fmt: skip
    b = (-54.47609879822406, 161.5858368580409, -155.6989798598866, 66.80131188771972,
         -13.28068155288572)  # fmt: skip
    c = (-7.784894002430293e-03, -3.223964580411365e-01, -2.400758277161838, -2.549732539343734,
         4.374664141464968, 2.938163982698783)  # fmt: skip
    d = (7.784695709041462e-03, 3.224671290700398e-01, 2.445134137142996, 3.754408661907416)
    if p < 0.02425:
        q = math.sqrt(-2 * math.log(p))
        num = ((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]
        return num / ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1)
    if p > 1 - 0.02425:
        return -_normal_ppf(1 - p)
    q = p - 0.5
    r = q * q
    num = (((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * q
    return num / (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1)


class EmpiricalDistribution:
    """A duration distribution: prior pseudo-samples blended with recent observations."""

    def __init__(self, prior: Sequence[float], prior_weight: float, window: int = 2000) -> None:
        if not prior or prior_weight < 0 or window < 1:
            raise ValueError("a distribution needs prior samples, a weight >= 0 and a window >= 1")
        self._prior = sorted(prior)
        self._prior_weight = prior_weight
        self._window = window
        self._recent: deque[float] = deque()
        self._sorted: list[float] = []
        self._total = 0.0

    @property
    def count(self) -> int:
        return len(self._sorted)

    def add(self, value: float) -> None:
        value = max(0.0, value)
        self._recent.append(value)
        bisect.insort(self._sorted, value)
        self._total += value
        if len(self._recent) > self._window:
            old = self._recent.popleft()
            del self._sorted[bisect.bisect_left(self._sorted, old)]
            self._total -= old

    def survival(self, x: float) -> float:
        """P(X > x)."""
        prior = 1.0 - bisect.bisect_right(self._prior, x) / len(self._prior)
        n = len(self._sorted)
        if n == 0:
            return prior
        seen = 1.0 - bisect.bisect_right(self._sorted, x) / n
        return (self._prior_weight * prior + n * seen) / (self._prior_weight + n)

    def conditional_end(self, elapsed: float, within: float) -> float:
        """P(X <= elapsed + within | X > elapsed): it ends in the next `within` seconds."""
        alive = self.survival(elapsed)
        if alive <= 1e-12:
            return 1.0
        return max(0.0, min(1.0, 1.0 - self.survival(elapsed + within) / alive))

    def mean(self) -> float:
        prior_mean = sum(self._prior) / len(self._prior)
        n = len(self._sorted)
        return (self._prior_weight * prior_mean + self._total) / (self._prior_weight + n)


@dataclass
class OutcomeShares:
    """Shares of call outcomes with a Dirichlet prior (pseudo-counts)."""

    prior: dict[CallOutcome, float]
    counts: dict[CallOutcome, int] = field(default_factory=dict)

    def add(self, outcome: CallOutcome) -> None:
        self.counts[outcome] = self.counts.get(outcome, 0) + 1

    @property
    def observed(self) -> int:
        return sum(self.counts.values())

    def share(self, outcome: CallOutcome) -> float:
        total = sum(self.prior.values()) + self.observed
        return (self.prior.get(outcome, 0.0) + self.counts.get(outcome, 0)) / total


DEFAULT_SHARES = {
    CallOutcome.HUMAN: 0.2,
    CallOutcome.MACHINE: 0.2,
    CallOutcome.BUSY: 0.05,
    CallOutcome.NO_ANSWER: 0.5,
    CallOutcome.INVALID: 0.05,
}


@dataclass(frozen=True)
class Priors:
    """Start-of-day beliefs; each is worth `weight` observations."""

    shares: dict[CallOutcome, float] = field(default_factory=lambda: dict(DEFAULT_SHARES))
    share_weight: float = 40.0
    answer_mean: float = 12.0
    talk_mean: float = 120.0
    talk_cv: float = 1.0
    wrap_mean: float = 15.0
    fail_mean: float = 3.0
    weight: float = 20.0


class FloorStats:
    """The day's learned statistics, updated by the engine as lines and calls end."""

    def __init__(self, priors: Priors | None = None) -> None:
        p = priors or Priors()
        n = 50
        self.shares = OutcomeShares(prior={k: v * p.share_weight for k, v in p.shares.items()})
        # Seconds from originate to answer (human or machine, as AMD decides).
        self.answer = EmpiricalDistribution(lognormal_quantiles(p.answer_mean, 0.6, n), p.weight)
        # Seconds from originate to a busy / invalid verdict.
        self.fail = EmpiricalDistribution(lognormal_quantiles(p.fail_mean, 0.5, n), p.weight)
        self.talk = EmpiricalDistribution(lognormal_quantiles(p.talk_mean, p.talk_cv, n), p.weight)
        self.wrap = EmpiricalDistribution(lognormal_quantiles(p.wrap_mean, 0.5, n), p.weight)
        self.placed = 0
        self.live_answers = 0
        self.abandoned = 0
        # Humans AMD probably took for machines (estimated, see abandon.py): abandoned too.
        self.false_positives = 0.0
        # (time, dropped) of each human answer, for controllers that look at the last minute.
        self.recent_answers: deque[tuple[float, bool]] = deque()

    def record_placed(self, count: int = 1) -> None:
        self.placed += count

    def record_line(self, outcome: CallOutcome, seconds: float) -> None:
        """A line resolved `seconds` after it was originated."""
        self.shares.add(outcome)
        if outcome in (CallOutcome.HUMAN, CallOutcome.MACHINE):
            self.answer.add(seconds)
        elif outcome in (CallOutcome.BUSY, CallOutcome.INVALID):
            self.fail.add(seconds)

    def record_live_answer(self, now: float, abandoned: bool) -> None:
        self.live_answers += 1
        self.abandoned += int(abandoned)
        self.recent_answers.append((now, abandoned))
        while self.recent_answers and self.recent_answers[0][0] < now - 3600:
            self.recent_answers.popleft()

    def record_talk(self, seconds: float) -> None:
        self.talk.add(seconds)

    def record_wrap(self, seconds: float) -> None:
        self.wrap.add(seconds)

    @property
    def abandon_rate(self) -> float:
        """Abandoned ÷ live answers today, estimated AMD false positives included."""
        answers = self.live_answers + self.false_positives
        return (self.abandoned + self.false_positives) / answers if answers > 0 else 0.0


def mean(values: Iterable[float]) -> float:
    items = list(values)
    return sum(items) / len(items) if items else 0.0
