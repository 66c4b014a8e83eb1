"""What /healthz and the status page report: the database and the Asterisk link."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from phonebank import __version__


class LinkState(Protocol):
    """Anything that knows whether the AMI link is up (the AMI client, the simulator)."""

    @property
    def connected(self) -> bool: ...


@dataclass(frozen=True)
class HealthReport:
    database: str  # "ok" or the error text
    asterisk: str  # "connected" or "disconnected"
    version: str
    uptime_s: float

    @property
    def healthy(self) -> bool:
        # Asterisk may restart under us and the service recovers by itself, so only a
        # database we cannot reach makes the service unhealthy.
        return self.database == "ok"

    def as_dict(self) -> dict[str, object]:
        return {
            "status": "ok" if self.healthy else "error",
            "database": self.database,
            "asterisk": self.asterisk,
            "version": self.version,
            "uptime_s": round(self.uptime_s, 1),
        }


class HealthService:
    def __init__(
        self,
        ping_database: Callable[[], None],
        link: LinkState,
        clock: Callable[[], float],
    ) -> None:
        self._ping_database = ping_database
        self._link = link
        self._clock = clock
        self._started = clock()

    async def check(self) -> HealthReport:
        try:
            await asyncio.wait_for(asyncio.to_thread(self._ping_database), timeout=5)
            database = "ok"
        except Exception as exc:  # any failure to reach the database is the report itself
            database = f"error: {type(exc).__name__}: {exc}"[:300]
        return HealthReport(
            database=database,
            asterisk="connected" if self._link.connected else "disconnected",
            version=__version__,
            uptime_s=self._clock() - self._started,
        )
