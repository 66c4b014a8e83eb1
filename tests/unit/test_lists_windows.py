"""Calling windows: presets, holidays, custom hours, DST, JSON form, properties."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from phonebank.lists.holidays import easter_sunday, french_holidays
from phonebank.lists.windows import (
    PRESETS,
    Window,
    WindowError,
    is_callable_at,
    next_opening,
    parse_window,
    preset_for_country,
    window_to_json,
)

FR = PRESETS["fr_voluntary"]
US = PRESETS["us"]


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def test_french_preset_weekday_hours_in_paris() -> None:
    # Monday 23 November 2026; Paris is UTC+1 in winter.
    assert not is_callable_at(FR, "Europe/Paris", utc("2026-11-23T08:59"))
    assert is_callable_at(FR, "Europe/Paris", utc("2026-11-23T09:00"))
    assert not is_callable_at(FR, "Europe/Paris", utc("2026-11-23T12:30"))  # lunch
    assert is_callable_at(FR, "Europe/Paris", utc("2026-11-23T18:59"))
    assert not is_callable_at(FR, "Europe/Paris", utc("2026-11-23T19:00"))
    assert not is_callable_at(FR, "Europe/Paris", utc("2026-11-22T12:00"))  # Sunday
    assert not is_callable_at(FR, "Europe/Paris", utc("2026-11-21T12:00"))  # Saturday


def test_reunion_is_not_paris() -> None:
    # 06:30 UTC: 07:30 in Paris (closed), 10:30 in Réunion (open).
    now = utc("2026-11-23T06:30")
    assert not is_callable_at(FR, "Europe/Paris", now)
    assert is_callable_at(FR, "Indian/Reunion", now)
    assert next_opening(FR, "Europe/Paris", now) == utc("2026-11-23T09:00")


def test_french_public_holidays_are_closed() -> None:
    assert easter_sunday(2026) == date(2026, 4, 5)
    assert easter_sunday(2024) == date(2024, 3, 31)
    days = french_holidays(2026)
    assert {date(2026, 4, 6), date(2026, 5, 14), date(2026, 5, 25), date(2026, 7, 14)} <= days
    # Ascension Thursday 14 May 2026 at 11:00 Paris.
    assert not is_callable_at(FR, "Europe/Paris", utc("2026-05-14T09:00"))
    assert next_opening(FR, "Europe/Paris", utc("2026-05-14T09:00")) == utc("2026-05-15T08:00")
    # 20 December is a holiday in Réunion only (Sunday in 2026: take 2027, a Monday).
    assert date(2027, 12, 20) in french_holidays(2027, "Indian/Reunion")
    assert date(2027, 12, 20) not in french_holidays(2027, "Europe/Paris")
    assert not is_callable_at(FR, "Indian/Reunion", utc("2027-12-20T08:00"))
    assert is_callable_at(FR, "Europe/Paris", utc("2027-12-20T10:00"))


def test_us_preset_every_day_eight_to_nine() -> None:
    assert is_callable_at(US, "America/New_York", utc("2026-11-22T13:00"))  # Sunday 8:00
    assert not is_callable_at(US, "America/New_York", utc("2026-11-22T12:59"))
    assert not is_callable_at(US, "America/Los_Angeles", utc("2026-11-22T13:00"))
    assert preset_for_country("US") is US
    assert preset_for_country("RE") is FR
    assert parse_window({}, "CA") is US


def test_dst_wall_time_is_kept() -> None:
    # 10:00 Paris is 09:00 UTC in winter and 08:00 UTC in summer (change on 29 March 2026).
    assert next_opening(FR, "Europe/Paris", utc("2026-03-27T05:00")) == utc("2026-03-27T09:00")
    assert next_opening(FR, "Europe/Paris", utc("2026-03-28T05:00")) == utc("2026-03-30T08:00")


def test_window_starting_in_a_dst_gap_opens_when_the_gap_ends() -> None:
    window = parse_window({"days": {"sun": [["02:30", "04:00"]]}})
    # 02:30 does not exist in Paris on 29 March 2026: the clock jumps from 02:00 to 03:00.
    opening = next_opening(window, "Europe/Paris", utc("2026-03-28T23:00"))
    assert opening == utc("2026-03-29T01:00")
    assert is_callable_at(window, "Europe/Paris", opening)


def test_custom_window_and_json_round_trip() -> None:
    data = {"days": {"mon": [["14:00", "19:30"], ["09:00", "12:00"]], "sat": [["10:00", "24:00"]]}}
    window = parse_window(data)
    assert window.days[0][0].start == 9 * 60
    assert window_to_json(window) == {
        "days": {"mon": [["09:00", "12:00"], ["14:00", "19:30"]], "sat": [["10:00", "24:00"]]}
    }
    assert parse_window(window_to_json(window)) == window
    assert window_to_json(FR) == {"preset": "fr_voluntary"}
    assert parse_window({"preset": "us", "holidays": "FR"}).holidays == "FR"


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"preset": "uk"}, "unknown preset 'uk'"),
        ({"days": {"monday": []}}, "unknown day(s) ['monday']"),
        ({"days": {"mon": [["10:00"]]}}, "calling_window.days.mon[0]: expected [start, end]"),
        ({"days": {"mon": [["10h", "12:00"]]}}, "'10h' is not a time"),
        ({"days": {"mon": [["12:00", "10:00"]]}}, "is not before end"),
        ({"days": {"mon": [["10:00", "12:00"], ["11:00", "13:00"]]}}, "spans overlap"),
        ({"days": "weekdays"}, "calling_window.days: expected an object"),
        ({"hours": []}, "unknown key(s) ['hours']"),
        ({"preset": "us", "days": {}}, "not both"),
        ({"days": {}, "holidays": "DE"}, "only 'FR' is known"),
    ],
)
def test_parse_errors_say_where(data: dict[str, object], message: str) -> None:
    with pytest.raises(WindowError) as caught:
        parse_window(data)
    assert message in str(caught.value)


def test_never_open_window_has_no_opening() -> None:
    assert next_opening(parse_window({"days": {}}), "UTC", utc("2026-01-01T00:00")) is None


def test_naive_clock_is_refused() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        is_callable_at(FR, "Europe/Paris", datetime(2026, 1, 1, 12))


_ZONES = st.sampled_from(
    [
        "Europe/Paris",
        "Indian/Reunion",
        "America/Martinique",
        "America/New_York",
        "Australia/Lord_Howe",
        "America/Santiago",
        "Asia/Kathmandu",
        "UTC",
    ]
)
_instants = st.datetimes(
    min_value=datetime(2024, 1, 1), max_value=datetime(2030, 12, 31), timezones=st.just(UTC)
)


@st.composite
def _windows(draw: st.DrawFn) -> Window:
    days: dict[str, list[list[str]]] = {}
    for name in ("mon", "tue", "wed", "thu", "fri", "sat", "sun"):
        points = sorted(draw(st.sets(st.integers(0, 96), max_size=4)))
        pairs = [points[i : i + 2] for i in range(0, len(points) - 1, 2)]
        days[name] = [
            [f"{a * 15 // 60:02d}:{a * 15 % 60:02d}", f"{b * 15 // 60:02d}:{b * 15 % 60:02d}"]
            if b < 96
            else [f"{a * 15 // 60:02d}:{a * 15 % 60:02d}", "24:00"]
            for a, b in pairs
        ]
    holidays = draw(st.sampled_from([None, "FR"]))
    return parse_window({"days": days, "holidays": holidays})


_any_window = st.one_of(st.sampled_from([FR, US]), _windows())


@settings(max_examples=300, deadline=None)
@given(window=_any_window, tz=_ZONES, now=_instants)
def test_callable_only_inside_local_hours(window: Window, tz: str, now: datetime) -> None:
    local = now.astimezone(ZoneInfo(tz))
    minute = local.hour * 60 + local.minute
    inside = any(s.start <= minute < s.end for s in window.spans_on(local.date(), tz))
    assert is_callable_at(window, tz, now) == inside


@settings(max_examples=300, deadline=None)
@given(window=_any_window, tz=_ZONES, now=_instants)
def test_next_opening_is_callable_and_nothing_earlier_is(
    window: Window, tz: str, now: datetime
) -> None:
    opening = next_opening(window, tz, now)
    if opening is None:
        assert not any(window.days)
        return
    assert opening >= now
    assert is_callable_at(window, tz, opening)
    # Sample the gap: every quarter-hour boundary before the opening is closed.
    probe = now
    while probe < opening and probe < now + timedelta(days=8):
        assert not is_callable_at(window, tz, probe), probe
        probe = (probe + timedelta(minutes=15)).replace(second=0, microsecond=0)
        probe -= timedelta(minutes=probe.minute % 15)
        if probe <= now:
            probe += timedelta(minutes=15)
