"""Who a signed session cookie still stands for: the account's role as it is now.

Sessions are signed cookies, valid for hours. An admin who disables an account or
changes its role must not wait for the cookie to expire: each request of a logged-in
user checks the account's current role, cached for a few seconds per user so a busy
screen does not read the database on every request, and read off the event loop.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

# How stale a role may be: an admin's change reaches every open screen within this.
ROLE_TTL_SECONDS = 5.0

RoleLookup = Callable[[int], str | None]  # user id -> role, None when disabled or gone


class AccountRoles:
    def __init__(
        self, lookup: RoleLookup, clock: Callable[[], float], ttl: float = ROLE_TTL_SECONDS
    ) -> None:
        self._lookup = lookup
        self._clock = clock
        self._ttl = ttl
        self._cache: dict[int, tuple[str | None, float]] = {}

    async def role(self, user_id: int) -> str | None:
        now = self._clock()
        hit = self._cache.get(user_id)
        if hit is not None and now - hit[1] < self._ttl:
            return hit[0]
        role = await asyncio.to_thread(self._lookup, user_id)
        self._cache[user_id] = (role, now)
        return role

    def forget(self, user_id: int) -> None:
        """Drop a cached role (after a change made in this process)."""
        self._cache.pop(user_id, None)
