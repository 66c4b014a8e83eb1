"""French public holidays, computed (no data file): fixed dates, Easter-based ones,
and the abolition-of-slavery day of each overseas department."""

from __future__ import annotations

from datetime import date, timedelta
from functools import lru_cache

_FIXED = ((1, 1), (5, 1), (5, 8), (7, 14), (8, 15), (11, 1), (11, 11), (12, 25))

# Abolition of slavery, a public holiday in each overseas department (law of 1983).
_OVERSEAS_EXTRA: dict[str, tuple[int, int]] = {
    "Indian/Reunion": (12, 20),
    "America/Guadeloupe": (5, 27),
    "America/St_Barthelemy": (10, 9),
    "America/Marigot": (5, 28),
    "America/Martinique": (5, 22),
    "America/Cayenne": (6, 10),
    "Indian/Mayotte": (4, 27),
}

# Alsace-Moselle (Good Friday, 26 December) is not told apart: phone numbers do not say it.


def easter_sunday(year: int) -> date:
    """Gregorian Easter (anonymous Gregorian algorithm, a.k.a. Meeus/Jones/Butcher)."""
    a = year % 19
    b, c = divmod(year, 100)
    d, e = divmod(b, 4)
    f = (b + 8) // 25
    g = (b - f + 1) // 3
    h = (19 * a + b - d - g + 15) % 30
    i, k = divmod(c, 4)
    ell = (32 + 2 * e + 2 * i - h - k) % 7
    m = (a + 11 * h + 22 * ell) // 451
    month, day = divmod(h + ell - 7 * m + 114, 31)
    return date(year, month, day + 1)


@lru_cache(maxsize=256)
def french_holidays(year: int, zone: str = "Europe/Paris") -> frozenset[date]:
    """Public holidays of the year where the callee lives (zone tells overseas apart)."""
    easter = easter_sunday(year)
    days = {date(year, month, day) for month, day in _FIXED}
    days.add(easter + timedelta(days=1))  # Easter Monday
    days.add(easter + timedelta(days=39))  # Ascension
    days.add(easter + timedelta(days=50))  # Whit Monday
    extra = _OVERSEAS_EXTRA.get(zone)
    if extra is not None:
        days.add(date(year, *extra))
    return frozenset(days)


def is_holiday(calendar: str | None, day: date, zone: str) -> bool:
    if calendar == "FR":
        return day in french_holidays(day.year, zone)
    return False
