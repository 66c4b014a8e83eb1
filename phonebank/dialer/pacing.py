"""How many calls to place now: the `phonebank` predictive pacer and the simple modes.

The predictive pacer looks a few ring-times ahead. For each checkpoint h it
weighs the humans expected to answer by h (those on lines already ringing, given
how long each has rung, plus those of the n calls it might place now) against the
volunteers expected free by h + connect limit (ready ones, plus each talking or
wrapping-up volunteer's chance to finish, given how long they have been at it).
Abandons by h are the shortfall, (humans − volunteers)⁺, whose expectation is
taken under a normal approximation of the two sums of independent Bernoullis;
the worst checkpoint stands for the window (an idle volunteer carries over, so
abandons are a running maximum of the shortfall). It places the largest n whose
expected abandons per expected live answer stay under the aim: the campaign
target minus a margin for sampling noise that shrinks as answers are observed,
moved by feedback from the day's realised abandon rate. See docs/dialer.md.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Protocol

from phonebank.db.enums import DialMode
from phonebank.dialer.floor import FloorSnapshot, LineState, StationState
from phonebank.dialer.stats import CallOutcome, FloorStats


class Policy(Protocol):
    """A pacing policy: the floor and the clock in, the number of calls to place out."""

    name: str

    def decide(self, snapshot: FloorSnapshot, stats: FloorStats, now: float) -> int: ...


def capped(snapshot: FloorSnapshot, calls: int) -> int:
    """`calls`, cut to the trunk channels left under the campaign's cap (never negative)."""
    return max(0, min(calls, snapshot.lines_free()))


def progressive_calls(snapshot: FloorSnapshot) -> int:
    """One line per ready station, counting lines already ringing or waiting."""
    return capped(snapshot, snapshot.ready - len(snapshot.lines))


@dataclass(frozen=True)
class PacerTuning:
    checkpoints: tuple[float, ...] = (1.0, 3.0, 5.0, 7.0, 9.0, 12.0, 15.0, 18.0, 21.0, 24.0)
    # Margin for sampling noise: z · sqrt(t (1 − t) / (answers + pseudo)), at least floor.
    margin_z: float = 1.0
    margin_pseudo_answers: float = 100.0
    margin_floor: float = 0.002
    # Feedback: pace for aim · (aim / realised)^gain; the realised rate is trusted
    # in proportion answers / (answers + feedback_answers).
    feedback_gain: float = 3.0
    feedback_answers: float = 150.0
    max_calls_per_station: float = 6.0
    # Cold start: until this many lines have resolved, the outcome shares are mostly
    # the prior's guess, and a list far friendlier than the prior (more people
    # answering, faster) would be over-dialled. Lines beyond one per ready station
    # are allowed in proportion to what has been observed: with none, progressive.
    ramp_lines: float = 30.0
    # The worst checkpoint's expectation is below the expected running maximum.
    abandon_scale: float = 5.0


def _expected_excess(mu: float, var: float, k3: float) -> float:
    """E[max(X, 0)] for X of mean mu, variance var and third cumulant k3.

    A normal approximation with a first-order Edgeworth term for the skew: the sums
    of a few Bernoullis the pacer deals with have a far heavier right tail than a
    normal, and that tail is exactly where the abandons are.
    """
    if var <= 1e-12:
        return max(mu, 0.0)
    sigma = math.sqrt(var)
    c = -mu / sigma
    tail = 0.5 * math.erfc(c / math.sqrt(2.0))
    pdf = math.exp(-0.5 * c * c) / math.sqrt(2.0 * math.pi)
    skew = k3 / (var * sigma)
    return max(0.0, mu * tail + sigma * pdf + skew / 6.0 * sigma * c * pdf)


@dataclass(frozen=True, slots=True)
class _Window:
    base_mu: list[float]  # expected humans − volunteers at each checkpoint, before new calls
    base_var: list[float]
    base_k3: list[float]  # third cumulant (skew) of that difference
    new_q: list[float]  # P(a call placed now has a human on the line by the checkpoint)
    answers_base: float
    answers_new: float


class PhonebankPacer:
    """The predictive pacer (also serves progressive and preview campaigns)."""

    name = "phonebank"

    def __init__(self, tuning: PacerTuning | None = None) -> None:
        self.tuning = tuning or PacerTuning()

    def aim(self, stats: FloorStats, target: float) -> float:
        """The abandon rate to pace for now: target − noise margin, then feedback.

        The feedback is multiplicative on the day's realised rate (an integral of the
        error, since that rate is cumulative), so it also corrects the model's bias.
        """
        t = self.tuning
        answers = stats.live_answers
        margin = max(
            t.margin_floor,
            t.margin_z * math.sqrt(target * (1 - target) / (answers + t.margin_pseudo_answers)),
        )
        aim = max(0.0, target - margin)
        trust = answers / (answers + t.feedback_answers)
        # Before answers arrive, take the realised rate to be the aim itself.
        realised = trust * stats.abandon_rate + (1 - trust) * aim
        if realised > 0 and aim > 0:
            aim *= (aim / realised) ** t.feedback_gain
        return min(max(aim, 0.02 * target), target)

    def decide(self, snapshot: FloorSnapshot, stats: FloorStats, now: float) -> int:
        mode = snapshot.settings.mode
        if mode is DialMode.PREVIEW:
            return 0  # the volunteer dials from the screen
        if mode is DialMode.PROGRESSIVE:
            return progressive_calls(snapshot)
        active = snapshot.active_stations
        limit = min(snapshot.lines_free(), int(self.tuning.max_calls_per_station * active))
        learned = stats.shares.observed / self.tuning.ramp_lines
        if learned < 1.0:
            limit = min(limit, progressive_calls(snapshot) + int(learned * active))
        if limit <= 0:
            return 0
        window = self._window(snapshot, stats, now)
        aim = self.aim(stats, snapshot.settings.abandon_target)
        best = 0
        for n in range(1, limit + 1):
            abandons, answers = self._abandons(window, n)
            if answers <= 0 or abandons > aim * answers:
                break
            best = n
        return best

    def _abandons(self, window: _Window, n: int) -> tuple[float, float]:
        worst = 0.0
        for mu, var, k3, q in zip(
            window.base_mu, window.base_var, window.base_k3, window.new_q, strict=True
        ):
            v = q * (1 - q)
            worst = max(worst, _expected_excess(mu + n * q, var + n * v, k3 + n * v * (1 - 2 * q)))
        return worst * self.tuning.abandon_scale, window.answers_base + n * window.answers_new

    def _window(self, snapshot: FloorSnapshot, stats: FloorStats, now: float) -> _Window:
        settings = snapshot.settings
        shares = stats.shares
        p_human = shares.share(CallOutcome.HUMAN)
        p_answer = p_human + shares.share(CallOutcome.MACHINE)
        p_fail = shares.share(CallOutcome.BUSY) + shares.share(CallOutcome.INVALID)
        p_none = shares.share(CallOutcome.NO_ANSWER)
        answer, fail, talk, wrap = stats.answer, stats.fail, stats.talk, stats.wrap
        wrap_mean = wrap.mean()
        checkpoints = self.tuning.checkpoints
        k = len(checkpoints)
        demand_mean, demand_var = [0.0] * k, [0.0] * k
        supply_mean, supply_var = [0.0] * k, [0.0] * k
        k3 = [0.0] * k  # demand adds its skew, supply (subtracted) removes its own
        waiting = 0
        for line in snapshot.lines:
            if line.state is LineState.WAITING:
                waiting += 1
                continue
            a = max(0.0, now - line.since)
            alive_answer = answer.survival(a)
            alive = p_answer * alive_answer + p_fail * fail.survival(a)
            alive += p_none if a < settings.ring_timeout else 0.0
            if alive <= 1e-9:
                continue
            for i, h in enumerate(checkpoints):
                q = p_human * (alive_answer - answer.survival(a + h)) / alive
                demand_mean[i] += q
                demand_var[i] += q * (1 - q)
                k3[i] += q * (1 - q) * (1 - 2 * q)
        ready = 0
        for station in snapshot.stations:
            if station.state is StationState.READY:
                ready += 1
                continue
            if station.state is StationState.PAUSED:
                continue
            a = max(0.0, now - station.since)
            for i, h in enumerate(checkpoints):
                reach = h + settings.connect_limit
                if station.state is StationState.TALKING:
                    f = talk.conditional_end(a, reach - wrap_mean) if reach > wrap_mean else 0.0
                else:
                    f = wrap.conditional_end(a, reach)
                supply_mean[i] += f
                supply_var[i] += f * (1 - f)
                k3[i] -= f * (1 - f) * (1 - 2 * f)
        return _Window(
            base_mu=[
                waiting + d - ready - s for d, s in zip(demand_mean, supply_mean, strict=True)
            ],
            base_var=[d + s for d, s in zip(demand_var, supply_var, strict=True)],
            base_k3=k3,
            new_q=[p_human * (1.0 - answer.survival(h)) for h in checkpoints],
            answers_base=waiting + demand_mean[-1],
            answers_new=p_human,
        )


class ProgressivePolicy:
    name = "progressive"

    def decide(self, snapshot: FloorSnapshot, stats: FloorStats, now: float) -> int:
        return progressive_calls(snapshot)
