"""Which volunteer sits at which station: the pairing rules, the clock passed in.

The pairing lives in the browser as a signed cookie bound to the user (so a
volunteer whose session expired finds their station again after logging back
in), and in this book, which says who holds each station now. A station held by
another volunteer who is still active (a screen open, or seen within `idle`
seconds) is refused until a supervisor releases it; after a restart the book is
rebuilt from the cookies the screens present.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass

from phonebank.volunteer.errors import VolunteerError

PAIR_COOKIE = "phonebank_station"
IDLE_SECONDS = 15 * 60.0


@dataclass
class Holder:
    user_id: int
    name: str
    since: float
    seen: float
    screens: int = 0


class PairingBook:
    """One per process; every call comes from the event loop."""

    def __init__(self, idle: float = IDLE_SECONDS) -> None:
        self._idle = idle
        self._holders: dict[str, Holder] = {}

    def _active(self, holder: Holder, now: float) -> bool:
        return holder.screens > 0 or now - holder.seen < self._idle

    def holder(self, station: str, now: float) -> Holder | None:
        holder = self._holders.get(station)
        return holder if holder is not None and self._active(holder, now) else None

    def pair(self, station: str, user_id: int, name: str, now: float) -> None:
        """Take `station` for `user_id`; raises 'station_taken' if someone else holds it."""
        holder = self.holder(station, now)
        if holder is not None and holder.user_id != user_id:
            raise VolunteerError("station_taken", station)
        for other, held in list(self._holders.items()):
            # One station per volunteer: pairing another one leaves the first.
            if held.user_id == user_id and other != station and held.screens == 0:
                del self._holders[other]
        if holder is None:
            self._holders[station] = Holder(user_id, name, since=now, seen=now)
        else:
            holder.seen = now

    def confirm(self, station: str, user_id: int, name: str, now: float) -> bool:
        """A screen shows its cookie: still this user's station? Takes it back if free."""
        holder = self.holder(station, now)
        if holder is None:
            self._holders[station] = Holder(user_id, name, since=now, seen=now)
            return True
        if holder.user_id != user_id:
            return False
        holder.seen = now
        return True

    def unpair(self, station: str, user_id: int) -> None:
        holder = self._holders.get(station)
        if holder is not None and holder.user_id == user_id:
            del self._holders[station]

    def release(self, station: str) -> Holder | None:
        """A supervisor frees the station, whoever holds it."""
        return self._holders.pop(station, None)

    def screen_opened(self, station: str, now: float) -> None:
        holder = self._holders.get(station)
        if holder is not None:
            holder.screens += 1
            holder.seen = now

    def screen_closed(self, station: str, now: float) -> None:
        holder = self._holders.get(station)
        if holder is not None:
            holder.screens = max(0, holder.screens - 1)
            holder.seen = now

    def holders(self, now: float) -> dict[str, Holder]:
        return {s: h for s, h in self._holders.items() if self._active(h, now)}


def _sign(key: bytes, payload: str) -> str:
    return hmac.new(key, b"station:" + payload.encode(), hashlib.sha256).hexdigest()


def encode_pairing(key: bytes, station: str, user_id: int, now: float) -> str:
    payload = f"{station}|{user_id}|{int(now)}"
    return f"{payload}|{_sign(key, payload)}"


def decode_pairing(
    key: bytes, cookie: str | None, user_id: int, now: float, max_age: float
) -> str | None:
    """The station of a genuine, fresh cookie issued to `user_id`; else None."""
    if not cookie or cookie.count("|") != 3:
        return None
    station, uid, issued, signature = cookie.split("|")
    if not hmac.compare_digest(_sign(key, f"{station}|{uid}|{issued}"), signature):
        return None
    try:
        if int(uid) != user_id or not 0 <= now - int(issued) <= max_age:
            return None
    except ValueError:
        return None
    return station
