"""Pure decisions of the send queues: retry backoff and the rate limit (clock passed in)."""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from datetime import datetime, timedelta


@dataclass(frozen=True)
class Backoff:
    """Delay before attempt n+1 after n failures: base·2^(n-1), capped; give up after max."""

    base: timedelta = timedelta(seconds=30)
    cap: timedelta = timedelta(hours=1)
    max_attempts: int = 5

    def delay(self, failures: int) -> timedelta:
        delay: timedelta = self.base * (2 ** max(0, failures - 1))
        return min(self.cap, delay)

    def next_attempt(self, now: datetime, failures: int) -> datetime | None:
        """When to try again after `failures` failures, or None to give up."""
        if failures >= self.max_attempts:
            return None
        return now + self.delay(failures)


class RateLimit:
    """At most `per_minute` sends in any sliding minute; 0 means no limit."""

    def __init__(self, per_minute: int) -> None:
        self.per_minute = per_minute
        self._sent: deque[datetime] = deque()

    def wait(self, now: datetime) -> float:
        """Seconds to wait before the next send may go (0 when it may go now)."""
        if self.per_minute <= 0:
            return 0.0
        window = timedelta(minutes=1)
        while self._sent and now - self._sent[0] >= window:
            self._sent.popleft()
        if len(self._sent) < self.per_minute:
            return 0.0
        return (self._sent[0] + window - now).total_seconds()

    def record(self, now: datetime) -> None:
        self._sent.append(now)
