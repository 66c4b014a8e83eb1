"""The `reference` policy: an optimal pacer for the exponential approximation.

State: (b busy volunteers, r ringing lines). Talk plus wrap-up is exponential of
the scenario's mean; a line resolves at an exponential rate of the scenario's
mean ringing time, and is a human with the scenario's human share. A human who
finds every volunteer busy is abandoned at once. In each state the policy tops
the ringing lines up to a level; it maximises busy volunteers minus λ·abandons
(average reward, relative value iteration on the uniformised chain), and λ is
swept by bisection until the chain's own abandon rate meets the target. The
policy knows nothing of elapsed talk or ring times — that is what the
`phonebank` pacer adds — and no call outcome in advance.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from phonebank.dialer.floor import FloorSnapshot
from phonebank.dialer.pacing import capped
from phonebank.dialer.scenario import Scenario
from phonebank.dialer.stats import FloorStats


@dataclass(frozen=True)
class ReferenceModel:
    agents: int
    service_rate: float  # 1 / (mean talk + wrap-up)
    ring_rate: float  # 1 / mean ringing time of a line
    human: float
    max_ringing: int

    @classmethod
    def from_scenario(cls, sc: Scenario) -> ReferenceModel:
        o = sc.outcomes
        ring = (o["human"] + o["machine"]) * min(sc.answer_seconds.expected(), sc.no_answer_timeout)
        ring += (o["busy"] + o["invalid"]) * sc.fail_seconds.expected()
        ring += o["no_answer"] * sc.no_answer_timeout
        cap = sc.lines if sc.lines is not None else 10**6
        return cls(
            agents=sc.agents,
            service_rate=1.0 / (sc.talk_seconds.expected() + sc.wrap_seconds.expected()),
            ring_rate=1.0 / ring,
            human=o["human"] * sc.amd_accuracy,
            max_ringing=min(cap, 3 * sc.agents + 10),
        )


def _solve(
    m: ReferenceModel, penalty: float, tol: float = 1e-7, iters: int = 20000
) -> NDArray[np.int64]:
    """Relative value iteration; returns the ringing level to top up to, per (b, r)."""
    n, rmax = m.agents, m.max_ringing
    b = np.arange(n + 1, dtype=float)[:, None]
    r = np.arange(rmax + 1, dtype=float)[None, :]
    lam = n * m.service_rate + rmax * m.ring_rate
    free = b * m.service_rate / lam
    resolve = r * m.ring_rate / lam
    full = (b == n).astype(float)
    reward = (b - penalty * r * m.ring_rate * m.human * full) / lam
    v = np.zeros((n + 1, rmax + 1))
    w = v
    for _ in range(iters):
        down = np.vstack([v[:1], v[:-1]])  # V(b − 1, r)
        up = np.vstack([v[1:], v[-1:]])  # V(min(b + 1, n), r)
        up_r = np.hstack([up[:, :1], up[:, :-1]])  # ... with r − 1
        same_r = np.hstack([v[:, :1], v[:, :-1]])  # V(b, r − 1)
        w = (
            reward
            + free * down
            + resolve * (m.human * up_r + (1 - m.human) * same_r)
            + (1 - free - resolve) * v
        )
        # Topping up: the best post-decision value at any level r' >= r.
        new = np.maximum.accumulate(w[:, ::-1], axis=1)[:, ::-1]
        new -= new[0, 0]
        if np.max(np.abs(new - v)) < tol:
            v = new
            break
        v = new
    best = np.zeros((n + 1, rmax + 1), dtype=np.int64)
    for i in range(n + 1):
        row = w[i]
        level = rmax
        for j in range(rmax, -1, -1):
            if row[j] > row[level] + 1e-12:
                level = j
            best[i, j] = level
    return best


def _abandon_rate(m: ReferenceModel, levels: NDArray[np.int64]) -> tuple[float, float]:
    """Stationary (abandon rate, occupancy) of the chain under a top-up policy."""
    n, rmax = m.agents, m.max_ringing
    b = np.arange(n + 1, dtype=float)[:, None]
    r = np.arange(rmax + 1, dtype=float)[None, :]
    lam = n * m.service_rate + rmax * m.ring_rate
    free = np.broadcast_to(b * m.service_rate / lam, (n + 1, rmax + 1))
    resolve = np.broadcast_to(r * m.ring_rate / lam, (n + 1, rmax + 1))
    rows = np.repeat(np.arange(n + 1), rmax + 1)
    cols = levels.reshape(-1)
    pi = np.full((n + 1, rmax + 1), 1.0 / ((n + 1) * (rmax + 1)))
    post = pi
    for _ in range(50000):
        post = np.zeros_like(pi)
        np.add.at(post, (rows, cols), pi.reshape(-1))
        nxt = (1 - free - resolve) * post
        nxt[:-1] += (free * post)[1:]
        moved = resolve * post
        nxt[1:, :-1] += m.human * moved[:-1, 1:]
        nxt[-1, :-1] += m.human * moved[-1, 1:]  # all busy: the human is dropped
        nxt[:, :-1] += (1 - m.human) * moved[:, 1:]
        if np.max(np.abs(nxt - pi)) < 1e-13:
            pi = nxt
            break
        pi = nxt
    humans = float(np.sum(resolve * post)) * m.human
    dropped = float(np.sum((resolve * post)[-1])) * m.human
    busy = float(np.sum(post * b))
    return (dropped / humans if humans > 0 else 0.0), busy / n


def solve_reference(m: ReferenceModel, target: float, steps: int = 12) -> NDArray[np.int64]:
    """Sweep the abandon penalty (bisection on a log scale) until the target is met."""
    low, high = 0.0, 1e4
    best = _solve(m, high)
    for _ in range(steps):
        mid = (low + high) / 2 if low else high / 8
        levels = _solve(m, mid)
        rate, _ = _abandon_rate(m, levels)
        if rate <= target:
            best, high = levels, mid
        else:
            low = mid
    return best


class ReferencePolicy:
    name = "reference"

    def __init__(self, levels: NDArray[np.int64]) -> None:
        self.levels = levels

    def decide(self, snapshot: FloorSnapshot, stats: FloorStats, now: float) -> int:
        busy = snapshot.active_stations - snapshot.ready
        n, rmax = self.levels.shape[0] - 1, self.levels.shape[1] - 1
        ringing = min(snapshot.ringing, rmax)
        level = int(self.levels[min(max(busy, 0), n), ringing])
        return capped(snapshot, level - snapshot.ringing)
