"""How long to wait before the next reconnect attempt (pure)."""

from __future__ import annotations


def reconnect_delay(attempt: int, minimum: float, maximum: float, unit_random: float) -> float:
    """Seconds before reconnect attempt `attempt` (0 for the first after a drop).

    Exponential from `minimum`, capped at `maximum`, with "equal jitter": a
    random point in the upper half of the step, so that several dialers that
    lost the same Asterisk do not all knock at once. `unit_random` is in [0, 1).
    """
    if not 0 < minimum <= maximum:
        raise ValueError(
            f"reconnect delays need 0 < minimum <= maximum, "
            f"got minimum={minimum} and maximum={maximum}"
        )
    ceiling = min(maximum, minimum * 2.0 ** min(max(attempt, 0), 60))
    jittered = ceiling / 2 + ceiling / 2 * min(max(unit_random, 0.0), 1.0)
    return min(maximum, max(minimum, jittered))
