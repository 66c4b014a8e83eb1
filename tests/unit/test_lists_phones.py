"""Phone normalisation: French habits, overseas departments, postal codes, properties."""

from __future__ import annotations

import re
import sys
from zoneinfo import available_timezones

import phonenumbers
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from phonebank.db.enums import PhoneType
from phonebank.lists import phones
from phonebank.lists.phones import (
    Phone,
    Rejection,
    RejectReason,
    normalize,
    normalize_exact,
    postal_code_zone,
)

ZONES = available_timezones() | {"UTC"}


def ok(raw: str, region: str = "FR", postal_code: str | None = None) -> Phone:
    result = normalize(raw, region, postal_code)
    assert isinstance(result, Phone), f"{raw!r} rejected: {result}"
    return result


@pytest.mark.parametrize(
    "raw",
    [
        "06 12 34 56 78",
        "06.12.34.56.78",
        "06-12-34-56-78",
        "0612345678",
        "+33 6 12 34 56 78",
        "+33612345678",
        "0033 6 12 34 56 78",
        "0033612345678",
        "+33(0)6 12 34 56 78",
        "+33 (0)6.12.34.56.78",
        " 06\u00a012 34 56 78 ",
    ],
)
def test_french_habits_all_give_the_same_mobile(raw: str) -> None:
    phone = ok(raw)
    assert phone.e164 == "+33612345678"
    assert phone.type == PhoneType.MOBILE
    assert phone.country == "FR"
    assert phone.time_zone == "Europe/Paris"


def test_fixed_and_voip_types() -> None:
    assert ok("01 42 68 53 00").type == PhoneType.FIXED
    assert ok("09 70 12 34 56").type == PhoneType.VOIP


@pytest.mark.parametrize(
    ("raw", "e164", "country", "zone", "kind"),
    [
        ("0692 12 34 56", "+262692123456", "RE", "Indian/Reunion", PhoneType.MOBILE),
        ("0262 16 12 34", "+262262161234", "RE", "Indian/Reunion", PhoneType.FIXED),
        ("0639 01 23 45", "+262639012345", "YT", "Indian/Mayotte", PhoneType.MOBILE),
        ("0269 60 12 34", "+262269601234", "YT", "Indian/Mayotte", PhoneType.FIXED),
        ("0690 00 12 34", "+590690001234", "GP", "America/Guadeloupe", PhoneType.MOBILE),
        ("0590 20 12 34", "+590590201234", "GP", "America/Guadeloupe", PhoneType.FIXED),
        ("0696 20 12 34", "+596696201234", "MQ", "America/Martinique", PhoneType.MOBILE),
        ("0596 30 12 34", "+596596301234", "MQ", "America/Martinique", PhoneType.FIXED),
        ("0694 20 12 34", "+594694201234", "GF", "America/Cayenne", PhoneType.MOBILE),
        ("0594 10 12 34", "+594594101234", "GF", "America/Cayenne", PhoneType.FIXED),
        ("05 08 41 23 45", "+508412345", "PM", "America/Miquelon", PhoneType.FIXED),
        ("+262 692 12 34 56", "+262692123456", "RE", "Indian/Reunion", PhoneType.MOBILE),
        # Written with +33 by mistake: still the overseas number.
        ("+33 6 92 12 34 56", "+262692123456", "RE", "Indian/Reunion", PhoneType.MOBILE),
    ],
)
def test_overseas_numbers_written_nationally(
    raw: str, e164: str, country: str, zone: str, kind: PhoneType
) -> None:
    phone = ok(raw)
    assert (phone.e164, phone.country, phone.time_zone, phone.type) == (e164, country, zone, kind)
    assert phone.zone_certain


def test_postal_code_moves_a_mobile_but_not_a_fixed_line() -> None:
    mobile = ok("06 12 34 56 78", postal_code="97400")
    assert mobile.time_zone == "Indian/Reunion"
    assert mobile.zone_from_postal_code
    fixed = ok("01 42 68 53 00", postal_code="97400")
    assert fixed.time_zone == "Europe/Paris"
    assert ok("06 12 34 56 78", postal_code="75011").time_zone == "Europe/Paris"


@pytest.mark.parametrize(
    ("code", "zone"),
    [
        ("97100", "America/Guadeloupe"),
        ("97200", "America/Martinique"),
        ("97300", "America/Cayenne"),
        ("97400", "Indian/Reunion"),
        ("97500", "America/Miquelon"),
        ("97600", "Indian/Mayotte"),
        ("97133", "America/St_Barthelemy"),
        ("20000", "Europe/Paris"),
        ("2A004", "Europe/Paris"),
        ("SW1A", None),
        ("", None),
        (None, None),
    ],
)
def test_postal_code_zone(code: str | None, zone: str | None) -> None:
    assert postal_code_zone(code) == zone


def test_default_region_is_a_parameter() -> None:
    us = ok("(212) 555-0123", region="US")
    assert us.e164 == "+12125550123"
    assert us.time_zone == "America/New_York"
    # Under US rules a French national number is not one.
    assert isinstance(normalize("06 12 34 56 78", region="US"), Rejection)


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ("", RejectReason.EMPTY),
        ("   ", RejectReason.EMPTY),
        ("n/a", RejectReason.NOT_A_NUMBER),
        ("12", RejectReason.INVALID),
        ("06 12 34", RejectReason.INVALID),
        ("08 99 12 34 56", RejectReason.PREMIUM_RATE),
        ("+33 6 12 34 56 78 90 12 34 56 78", RejectReason.TOO_LONG),
    ],
)
def test_rejections_carry_a_reason(raw: str, reason: RejectReason) -> None:
    result = normalize(raw)
    assert isinstance(result, Rejection)
    assert result.reason == reason
    assert raw.strip()[:5] in str(result) or not raw.strip()


def test_several_candidate_zones_are_all_kept() -> None:
    # A US toll-free number could ring anywhere in North America.
    phone = ok("+1 800 555 0199")
    assert len(phone.zones) > 1
    assert not phone.zone_certain
    assert phone.time_zone in phone.zones


_phone_text = st.text(alphabet="0123456789 +.-()/", max_size=25)


@settings(max_examples=400, deadline=None)
@given(raw=st.one_of(_phone_text, st.text(max_size=30)), postal=st.none() | st.text(max_size=6))
def test_never_raises_and_zone_is_valid(raw: str, postal: str | None) -> None:
    result = normalize(raw, "FR", postal)
    if isinstance(result, Phone):
        assert result.e164.startswith("+")
        assert result.time_zone in ZONES
        assert all(zone in ZONES for zone in result.zones)
    else:
        assert isinstance(result.reason, RejectReason)


_french_national = st.builds(
    lambda first, rest: f"0{first}{rest}",
    st.sampled_from("123456789"),
    st.text(alphabet="0123456789", min_size=8, max_size=8),
)


@settings(max_examples=400, deadline=None)
@given(number=_french_national, postal=st.sampled_from([None, "75011", "97400", "97200"]))
def test_idempotent_on_its_own_output(number: str, postal: str | None) -> None:
    first = normalize(number, "FR", postal)
    if isinstance(first, Phone):
        again = normalize(first.e164, "FR", postal)
        assert again == first
        # The E.164 form is what phonenumbers itself accepts as valid.
        assert phonenumbers.is_valid_number(phonenumbers.parse(first.e164))


@settings(max_examples=200, deadline=None)
@given(number=_french_national, region=st.sampled_from(["US", "DE", "GB", "RE"]))
def test_international_form_does_not_depend_on_the_default_region(number: str, region: str) -> None:
    first = normalize(number, "FR")
    if isinstance(first, Phone):
        assert normalize(first.e164, region) == first


_digits = st.text(alphabet="0123456789", min_size=4, max_size=4)


@settings(max_examples=1500, deadline=None)
@given(
    head=st.sampled_from("123456789"),
    middle=st.text(alphabet="0123456789", min_size=4, max_size=4),
    first=_digits,
    second=_digits,
)
def test_prefix_memo_agrees_with_phonenumbers(
    head: str, middle: str, first: str, second: str
) -> None:
    # The memo answers for a whole 5-digit prefix once one number of it was seen.
    prefix = "0" + head + middle
    normalize(prefix + first)
    assert normalize(prefix + second) == normalize_exact(prefix + second)
    international = "+33" + prefix[1:] + second
    assert normalize(international) == normalize_exact(international)


def test_prefix_memo_on_every_overseas_prefix() -> None:
    for nsn3 in (
        "262",
        "263",
        "692",
        "693",
        "269",
        "639",
        "590",
        "690",
        "691",
        "596",
        "696",
        "697",
        "594",
        "694",
    ):
        for middle in range(100):
            number = f"0{nsn3}{middle:02d}1234"
            normalize(f"0{nsn3}{middle:02d}9876")
            assert normalize(number) == normalize_exact(number), number


def test_separators_are_exactly_what_the_old_pattern_removed() -> None:
    # _clean deletes with str.translate what r"[\s.\-/\u00a0\u202f_]+" removed: every
    # character of the pattern, and no other, over the whole of Unicode.
    pattern = re.compile(r"[\s.\-/\u00a0\u202f_]")
    expected = {chr(c) for c in range(sys.maxunicode + 1) if pattern.match(chr(c))}
    assert set(phones._SEPARATOR_CHARS) == expected


@settings(max_examples=300, deadline=None)
@given(digits=st.text(alphabet="0123456789\u0660\u0661\u0662\u06f3\uff11", min_size=9, max_size=9))
def test_digits_of_other_scripts_take_the_long_way(digits: str) -> None:
    # The memo only reads ASCII digits; other scripts' digits go through phonenumbers.
    for raw in ("0" + digits, "+33" + digits):
        assert normalize(raw) == normalize_exact(raw)
