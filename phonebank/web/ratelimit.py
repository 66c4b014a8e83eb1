"""A sliding-window limiter for login attempts; pure, the clock passed in."""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field


@dataclass
class AttemptLimiter:
    """Allow at most `limit` failures per key within `window` seconds."""

    limit: int = 5
    window: float = 300.0
    _failures: dict[str, deque[float]] = field(default_factory=dict)

    def _prune(self, key: str, now: float) -> deque[float]:
        times = self._failures.setdefault(key, deque())
        while times and now - times[0] > self.window:
            times.popleft()
        if not times:
            # Keep the table from growing with every address that ever tried once.
            del self._failures[key]
            return deque()
        return times

    def blocked_for(self, key: str, now: float) -> float:
        """Seconds until `key` may try again; 0 when it may try now."""
        times = self._prune(key, now)
        if len(times) < self.limit:
            return 0.0
        return max(0.0, self.window - (now - times[0]))

    def record_failure(self, key: str, now: float) -> None:
        self._prune(key, now)
        self._failures.setdefault(key, deque()).append(now)

    def reset(self, key: str) -> None:
        self._failures.pop(key, None)
