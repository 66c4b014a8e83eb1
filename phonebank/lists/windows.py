"""Calling windows in the callee's local time. Pure: the clock is passed in.

A window gives, per weekday, the local hours when calls may be placed, and an
optional holiday calendar whose days are closed. It is stored as JSON in
`campaigns.calling_window`:

    {"preset": "fr_voluntary"}
    {"days": {"mon": [["09:00", "12:00"], ["14:00", "19:30"]], "sat": [["10:00", "12:00"]]},
     "holidays": "FR"}
    {}                          (= the preset of the callee's country: `preset_for_country`)

Local wall-clock time decides (zoneinfo): on a DST change day the window opens
at the same wall time as any other day.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from itertools import pairwise
from typing import Any
from zoneinfo import ZoneInfo

from phonebank.lists.holidays import is_holiday

DAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_MINUTES_PER_DAY = 24 * 60
# Far enough for any window that opens at least once a year.
_SEARCH_DAYS = 400


class WindowError(ValueError):
    """A calling window definition that cannot be used; the message says where."""


@dataclass(frozen=True, order=True)
class Span:
    """[start, end) in minutes after local midnight; end may be 1440 (midnight)."""

    start: int
    end: int

    def __post_init__(self) -> None:
        if not 0 <= self.start < self.end <= _MINUTES_PER_DAY:
            raise WindowError(f"span {self.start}-{self.end} minutes is not within one day")


@dataclass(frozen=True)
class Window:
    # days[0] = Monday ... days[6] = Sunday; each a sorted tuple of non-overlapping spans.
    days: tuple[tuple[Span, ...], ...]
    holidays: str | None = None  # "FR": French public holidays are closed
    name: str = field(default="custom", compare=False)

    def spans_on(self, day: date, zone: str) -> tuple[Span, ...]:
        if is_holiday(self.holidays, day, zone):
            return ()
        return self.days[day.weekday()]


def _every(spans: tuple[Span, ...], weekdays: range) -> tuple[tuple[Span, ...], ...]:
    return tuple(spans if i in weekdays else () for i in range(7))


PRESETS: dict[str, Window] = {
    # US federal rule (TCPA/TSR): 8 a.m. to 9 p.m. local time, every day.
    "us": Window(_every((Span(8 * 60, 21 * 60),), range(7)), name="us"),
    # French practice for canvassing calls (the hours of the 2022 decree on
    # telephone prospecting, which campaigns follow voluntarily): weekdays
    # 10-13 and 14-20; never on Saturdays, Sundays or public holidays.
    "fr_voluntary": Window(
        _every((Span(10 * 60, 13 * 60), Span(14 * 60, 20 * 60)), range(5)),
        holidays="FR",
        name="fr_voluntary",
    ),
}

# Regions whose callees get the US preset when the campaign sets none; the rest get
# the French one (the project's home).
_NANP = {"US", "CA", "PR", "VI", "GU", "AS", "MP"}


def preset_for_country(country: str | None) -> Window:
    if country in _NANP:
        return PRESETS["us"]
    return PRESETS["fr_voluntary"]


def _parse_time(text: Any, where: str) -> int:
    if not isinstance(text, str):
        raise WindowError(f"{where}: expected a time as text like '09:30', got {text!r}")
    if text == "24:00":
        return _MINUTES_PER_DAY
    try:
        parsed = time.fromisoformat(text)
    except ValueError:
        raise WindowError(f"{where}: {text!r} is not a time (HH:MM)") from None
    return parsed.hour * 60 + parsed.minute


def _parse_spans(value: Any, where: str) -> tuple[Span, ...]:
    if not isinstance(value, list):
        raise WindowError(f"{where}: expected a list of [start, end] pairs, got {value!r}")
    spans = []
    for index, pair in enumerate(value):
        here = f"{where}[{index}]"
        if not isinstance(pair, list | tuple) or len(pair) != 2:
            raise WindowError(f"{here}: expected [start, end], got {pair!r}")
        start, end = _parse_time(pair[0], here), _parse_time(pair[1], here)
        if start >= end:
            raise WindowError(f"{here}: start {pair[0]} is not before end {pair[1]}")
        spans.append(Span(start, end))
    spans.sort()
    for before, after in pairwise(spans):
        if after.start < before.end:
            raise WindowError(f"{where}: spans overlap ({before} and {after})")
    return tuple(spans)


def _parse_holidays(value: Any) -> str | None:
    if value in (None, "", False):
        return None
    if value != "FR":
        raise WindowError(f"calling_window.holidays: only 'FR' is known, got {value!r}")
    return "FR"


def parse_window(data: Mapping[str, Any] | None, country: str | None = None) -> Window:
    """A Window from its JSON form; `{}`/None = the preset of the callee's country."""
    if not data:
        return preset_for_country(country)
    if not isinstance(data, Mapping):
        raise WindowError(f"calling_window: expected an object, got {data!r}")
    unknown = set(data) - {"preset", "days", "holidays"}
    if unknown:
        raise WindowError(f"calling_window: unknown key(s) {sorted(unknown)}")
    if "preset" in data:
        name = data["preset"]
        if name not in PRESETS:
            raise WindowError(
                f"calling_window.preset: unknown preset {name!r} (known: {sorted(PRESETS)})"
            )
        if "days" in data:
            raise WindowError("calling_window: give either 'preset' or 'days', not both")
        base = PRESETS[name]
        if "holidays" in data:
            return Window(base.days, _parse_holidays(data["holidays"]), name=base.name)
        return base
    days = data.get("days")
    if not isinstance(days, Mapping):
        raise WindowError("calling_window.days: expected an object such as {'mon': [[...]]}")
    bad = set(days) - set(DAY_NAMES)
    if bad:
        raise WindowError(f"calling_window.days: unknown day(s) {sorted(bad)}; use {DAY_NAMES}")
    per_day = tuple(
        _parse_spans(days[name], f"calling_window.days.{name}") if name in days else ()
        for name in DAY_NAMES
    )
    return Window(per_day, _parse_holidays(data.get("holidays")))


def window_to_json(window: Window) -> dict[str, Any]:
    if window.name in PRESETS and PRESETS[window.name] == window:
        return {"preset": window.name}

    def hhmm(minutes: int) -> str:
        return f"{minutes // 60:02d}:{minutes % 60:02d}"

    out: dict[str, Any] = {
        "days": {
            DAY_NAMES[i]: [[hhmm(s.start), hhmm(s.end)] for s in spans]
            for i, spans in enumerate(window.days)
            if spans
        }
    }
    if window.holidays:
        out["holidays"] = window.holidays
    return out


def _require_aware(now: datetime) -> None:
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError("now must be timezone-aware")


def is_callable_at(window: Window, tz: str, now_utc: datetime) -> bool:
    """May a callee living in zone `tz` be called at the instant `now_utc`?"""
    _require_aware(now_utc)
    local = now_utc.astimezone(ZoneInfo(tz))
    minute = local.hour * 60 + local.minute
    return any(s.start <= minute < s.end for s in window.spans_on(local.date(), tz))


def _first_callable(window: Window, tz: str, lo: datetime, hi: datetime) -> datetime:
    """Bisect [lo, hi] (lo not callable, hi callable) down to the second: DST gaps."""
    while hi - lo > timedelta(seconds=1):
        mid = lo + (hi - lo) / 2
        if is_callable_at(window, tz, mid):
            hi = mid
        else:
            lo = mid
    return hi


def next_opening(window: Window, tz: str, now_utc: datetime) -> datetime | None:
    """The first instant at or after `now_utc` when the callee may be called (UTC).

    None when the window never opens (no hours on any day within a year).
    """
    _require_aware(now_utc)
    now_utc = now_utc.astimezone(UTC)
    if is_callable_at(window, tz, now_utc):
        return now_utc
    zone = ZoneInfo(tz)
    local_day = now_utc.astimezone(zone).date()
    for offset in range(_SEARCH_DAYS):
        day = local_day + timedelta(days=offset)
        for span in window.spans_on(day, tz):
            wall = datetime.combine(day, time()) + timedelta(minutes=span.start)
            # fold=0/1 give the two readings of a wall time in a DST gap or overlap.
            early = wall.replace(tzinfo=zone, fold=1).astimezone(UTC)
            late = wall.replace(tzinfo=zone, fold=0).astimezone(UTC)
            lo, hi = min(early, late), max(early, late)
            if hi < now_utc:
                continue
            start = max(lo, now_utc)
            if is_callable_at(window, tz, start):
                return start
            # The start falls in a DST gap: the window opens when the gap ends.
            if is_callable_at(window, tz, hi):
                return _first_callable(window, tz, start, hi)
    return None
