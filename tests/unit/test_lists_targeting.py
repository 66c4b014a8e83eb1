"""Targeting conditions: parsing, errors, JSON round trip, age bounds."""

from __future__ import annotations

from datetime import date

import pytest

from phonebank.db.enums import SupportLevel
from phonebank.lists.errors import TargetError
from phonebank.lists.targeting import Target, birth_date_bounds, from_json, parse_where, to_json


def test_parse_all_conditions_and_round_trip() -> None:
    target = parse_where(
        [
            "support=undecided,indécis,2",
            "city=Saint-Étienne,Lyon",
            "postal_code=75011,974*",
            "precinct=0112",
            "age=18-35",
            "tag=vip,bénévole",
            "never_contacted",
            "not_contacted_since=2026-10-01",
        ]
    )
    assert target.support == (
        SupportLevel.UNDECIDED,
        SupportLevel.UNDECIDED,
        SupportLevel.LEAN_SUPPORTER,
    )
    assert target.cities == ("saint etienne", "lyon")
    assert target.postal_codes == ("75011", "974*")
    assert (target.min_age, target.max_age) == (18, 35)
    assert target.never_contacted
    assert target.not_contacted_since == date(2026, 10, 1)
    assert from_json(to_json(target)) == target
    assert from_json({}) == Target()


@pytest.mark.parametrize(
    ("item", "message"),
    [
        ("colour=red", "unknown condition 'colour'"),
        ("support=maybe", "unknown support level 'maybe'"),
        ("age=old", "expected a range"),
        ("age=40-20", "lower bound is above"),
        ("city=", "expected city=VALUE"),
        ("not_contacted_since=yesterday", "expected a date"),
        ("never_contacted=no", "takes no value"),
    ],
)
def test_errors_name_the_item(item: str, message: str) -> None:
    with pytest.raises(TargetError) as caught:
        parse_where([item])
    assert message in str(caught.value)


def test_age_bounds_in_whole_years() -> None:
    today = date(2026, 11, 23)
    earliest, latest = birth_date_bounds(parse_where(["age=18-35"]), today)
    # 18 if born on or before 2008-11-23; still 35 if born after 1990-11-23.
    assert latest == date(2008, 11, 23)
    assert earliest == date(1990, 11, 24)
    assert birth_date_bounds(parse_where(["age=65-"]), today) == (None, date(1961, 11, 23))
    # Born 1997-02-28: 31 on 2028-02-28, too old on the 29th; born 1997-03-01: still 30.
    leap = birth_date_bounds(parse_where(["age=-30"]), date(2028, 2, 29))
    assert leap == (date(1997, 3, 1), None)
