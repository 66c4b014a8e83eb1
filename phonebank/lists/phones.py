"""Phone numbers as people write them → E.164, type, country and IANA time zone.

Pure: no I/O. `normalize(raw, region="FR", postal_code=None)` never raises; it
returns a `Phone` or a `Rejection` with a stable reason code.

French habits handled: separators (spaces, dots, dashes, slashes), `+33`,
`0033`, `+33(0)6…`, and overseas numbers written the national way (`0692…`,
`0262…` are Réunion, +262): phonenumbers alone reads those as invalid or as
metropolitan numbers under region FR, so the overseas prefixes are routed to
their own region first (see OVERSEAS_PREFIXES).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum
from functools import lru_cache
from typing import NamedTuple

import phonenumbers
from phonenumbers import PhoneNumberType
from phonenumbers import timezone as pn_timezone

from phonebank.db.enums import PhoneType

# Regions that share the French national numbering habit (0 + 9 digits).
FRENCH_REGIONS = frozenset({"FR", "RE", "YT", "GP", "MQ", "GF", "PM", "BL", "MF"})

# National significant number prefixes (after the leading 0) of the overseas
# departments, from the ARCEP numbering plan. Under region FR, phonenumbers
# either rejects them or takes some (0596, 0269, 0508) for metropolitan lines.
OVERSEAS_PREFIXES: dict[str, str] = {
    "262": "RE",
    "263": "RE",
    "692": "RE",
    "693": "RE",
    "269": "YT",
    "639": "YT",
    "590": "GP",
    "690": "GP",
    "691": "GP",
    "596": "MQ",
    "696": "MQ",
    "697": "MQ",
    "594": "GF",
    "694": "GF",
    "508": "PM",
}

# The zone of a region that has one (phonenumbers lists Mayotte beside Réunion
# for +262 69x mobiles: the region tells them apart).
REGION_ZONES: dict[str, str] = {
    "FR": "Europe/Paris",
    "RE": "Indian/Reunion",
    "YT": "Indian/Mayotte",
    "GP": "America/Guadeloupe",
    "MQ": "America/Martinique",
    "GF": "America/Cayenne",
    "PM": "America/Miquelon",
    "BL": "America/St_Barthelemy",
    "MF": "America/Marigot",
    "NC": "Pacific/Noumea",
    "WF": "Pacific/Wallis",
    "MC": "Europe/Monaco",
}

# Separators people put in numbers: whitespace (every character the pattern `\s`
# matches, all below U+3001: tests/unit/test_lists_phones.py), . - / and _. Deleted by
# str.translate, four times faster than a regular expression.
_SEPARATOR_CHARS = "".join(chr(c) for c in range(0x3001) if chr(c).isspace()) + ".-/\u202f_"
_DROP_SEPARATORS = str.maketrans("", "", _SEPARATOR_CHARS)
_TRUNK_IN_BRACKETS = re.compile(r"^\+(\d{1,3})\(0\)")
_UNKNOWN_ZONE = "Etc/Unknown"
MAX_RAW = 64


class RejectReason(StrEnum):
    EMPTY = "empty"
    NOT_A_NUMBER = "not_a_number"
    TOO_SHORT = "too_short"
    TOO_LONG = "too_long"
    INVALID = "invalid"
    PREMIUM_RATE = "premium_rate"


_REASON_TEXT = {
    RejectReason.EMPTY: "empty",
    RejectReason.NOT_A_NUMBER: "not a phone number",
    RejectReason.TOO_SHORT: "too short",
    RejectReason.TOO_LONG: "too long",
    RejectReason.INVALID: "not a valid number in the numbering plan",
    RejectReason.PREMIUM_RATE: "premium-rate number (never dialled)",
}


class Phone(NamedTuple):
    # A tuple, not a frozen dataclass: an import makes one per number, and a tuple is
    # made in a third of the time.
    e164: str
    type: PhoneType
    # ISO 3166-1 alpha-2 region of the number (RE for +262 692…), or "" if none.
    country: str
    # The zone calling windows use; `zones` holds every candidate when it is a guess.
    time_zone: str
    zones: tuple[str, ...]
    zone_from_postal_code: bool = False

    @property
    def zone_certain(self) -> bool:
        return len(self.zones) == 1


@dataclass(frozen=True)
class Rejection:
    raw: str
    reason: RejectReason

    def __str__(self) -> str:
        return f"{self.raw!r}: {_REASON_TEXT[self.reason]}"


_TYPES = {
    PhoneNumberType.MOBILE: PhoneType.MOBILE,
    PhoneNumberType.FIXED_LINE: PhoneType.FIXED,
    PhoneNumberType.VOIP: PhoneType.VOIP,
}


def postal_code_zone(postal_code: str | None) -> str | None:
    """The zone a French postal code lies in (overseas included), or None if not French."""
    if not postal_code:
        return None
    code = postal_code.strip().replace(" ", "")
    if len(code) != 5 or not (code.isdigit() or code[:2] in ("2A", "2B")):
        return None
    if code.startswith("97"):
        if code in ("97133",):
            return "America/St_Barthelemy"
        if code in ("97150",):
            return "America/Marigot"
        return {
            "971": "America/Guadeloupe",
            "972": "America/Martinique",
            "973": "America/Cayenne",
            "974": "Indian/Reunion",
            "975": "America/Miquelon",
            "976": "Indian/Mayotte",
        }.get(code[:3])
    if code.startswith("98"):
        return {
            "980": "Europe/Monaco",
            "986": "Pacific/Wallis",
            "987": "Pacific/Tahiti",
            "988": "Pacific/Noumea",
        }.get(code[:3])
    return "Europe/Paris"


def _clean(raw: str) -> str:
    text = raw.translate(_DROP_SEPARATORS)
    if "(" in text or ")" in text:
        # "+33(0)6…": the bracketed trunk 0 must go, or the number gets one digit too many.
        text = _TRUNK_IN_BRACKETS.sub(r"+\1", text)
        text = text.replace("(", "").replace(")", "")
    if text.startswith("00"):
        text = "+" + text[2:]
    return text


def _overseas_region(cleaned: str, region: str) -> tuple[str, str] | None:
    """(national text, overseas region) when a French-style number is an overseas one."""
    if cleaned.startswith("+33"):
        nsn = cleaned[3:]
    elif region in FRENCH_REGIONS and cleaned.startswith("0") and not cleaned.startswith("00"):
        nsn = cleaned[1:]
    elif region in FRENCH_REGIONS and len(cleaned) == 9 and cleaned.isdigit():
        # A spreadsheet stored the number as a number and dropped its leading 0.
        nsn = cleaned
    else:
        return None
    if len(nsn) != 9:
        return None
    target = OVERSEAS_PREFIXES.get(nsn[:3])
    if target == "PM":
        # Saint-Pierre-et-Miquelon has 6-digit numbers behind +508: "05 08 41 23 45".
        return ("+508" + nsn[3:], target)
    return ("0" + nsn, target) if target else None


def _parse(text: str, region: str) -> phonenumbers.PhoneNumber | RejectReason:
    try:
        return phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException as exc:
        if exc.error_type == phonenumbers.NumberParseException.TOO_SHORT_NSN:
            return RejectReason.TOO_SHORT
        if exc.error_type == phonenumbers.NumberParseException.TOO_LONG:
            return RejectReason.TOO_LONG
        return RejectReason.NOT_A_NUMBER


def _zones(number: phonenumbers.PhoneNumber, country: str) -> tuple[str, ...]:
    if country in REGION_ZONES:
        return (REGION_ZONES[country],)
    zones = tuple(z for z in pn_timezone.time_zones_for_number(number) if z != _UNKNOWN_ZONE)
    if zones:
        return zones
    # Non-geographic numbers: the zones of the country as a whole.
    example = phonenumbers.example_number(country) if country else None
    if example is not None:
        found = pn_timezone.time_zones_for_number(example)
        return tuple(z for z in found if z != _UNKNOWN_ZONE)
    return ()


_new_tuple = tuple.__new__

# A list holds a few thousand postal codes at most; each one's zone is worked out once.
_postal_zone = lru_cache(maxsize=1 << 14)(postal_code_zone)


def _with_postal_code(phone: Phone, postal_code: str | None) -> Phone:
    postal_zone = _postal_zone(postal_code)
    if postal_zone is None:
        return phone
    # A French mobile or non-geographic number follows its owner; a fixed line
    # stays where the number says. Several candidate zones: the postal code
    # picks, if it names one of them.
    zones = phone.zones
    movable = phone.country in FRENCH_REGIONS and phone.type != PhoneType.FIXED
    if movable or (len(zones) > 1 and postal_zone in zones):
        if zones == (postal_zone,):
            return phone
        moved = (phone.e164, phone.type, phone.country, postal_zone, (postal_zone,), True)
        return _new_tuple(Phone, moved)
    return phone


def normalize_exact(raw: str, region: str = "FR") -> Phone | Rejection:
    """The number alone, always through phonenumbers (no postal code, no memo)."""
    raw = (raw or "")[:MAX_RAW]
    cleaned = _clean(raw)
    if not cleaned:
        return Rejection(raw, RejectReason.EMPTY)
    if not any(ch.isdigit() for ch in cleaned):
        return Rejection(raw, RejectReason.NOT_A_NUMBER)
    region = region.upper()
    number: phonenumbers.PhoneNumber | RejectReason | None = None
    overseas = _overseas_region(cleaned, region)
    if overseas is not None:
        candidate = _parse(overseas[0], overseas[1])
        if isinstance(candidate, phonenumbers.PhoneNumber) and phonenumbers.is_valid_number(
            candidate
        ):
            number = candidate
    if number is None:
        number = _parse(cleaned, region)
    if isinstance(number, RejectReason):
        return Rejection(raw, number)
    if not phonenumbers.is_valid_number(number):
        return Rejection(raw, RejectReason.INVALID)
    kind = phonenumbers.number_type(number)
    if kind == PhoneNumberType.PREMIUM_RATE:
        return Rejection(raw, RejectReason.PREMIUM_RATE)
    country = phonenumbers.region_code_for_number(number) or ""
    zones = _zones(number, country) or ("UTC",)
    e164 = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    return Phone(e164, _TYPES.get(kind, PhoneType.UNKNOWN), country, zones[0], zones)


# French numbers written as 0 + 9 digits (or +33 / 0033 + 9 digits) make up nearly
# every row of a French list, and phonenumbers takes ~30 µs each. In the metadata
# of France and its overseas departments every pattern for 9-digit numbers is a
# prefix of at most 5 digits followed by free digits (e.g. "59(?:0(?:0[1-68]..."
# then "\d{4}"), so the answer for one number holds for every number sharing its
# first 5 digits: it is computed once per prefix (at most 100,000) and reused.
# Saint-Pierre-et-Miquelon (05 08, rewritten to 6 digits) always takes the long
# way. tests/unit/test_lists_phones.py checks the memo against the long way.
_NOT_MEMOISED = "-"
# 5-digit prefix → (E.164 prefix, type, region, zones, movable), a RejectReason, or
# _NOT_MEMOISED. `movable`: a number that follows its owner (see _with_postal_code).
_Memo = tuple[str, PhoneType, str, tuple[str, ...], bool]
_memo: dict[str, _Memo | RejectReason | str] = {}


def _french_nsn(cleaned: str) -> str | None:
    """The 9 digits after 0, +33 or 0033 of a French number written that way, else None.
    ASCII digits only: phonenumbers reads other scripts' digits, the memo does not."""
    length = len(cleaned)
    if length == 10 and cleaned[0] == "0":
        nsn = cleaned[1:]
    elif length == 12 and cleaned.startswith("+33"):
        nsn = cleaned[3:]
    elif length == 13 and cleaned.startswith("0033"):
        nsn = cleaned[4:]
    else:
        return None
    if nsn.isascii() and nsn.isdigit() and nsn[0] != "0" and not nsn.startswith("508"):
        return nsn
    return None


def _memo_entry(nsn: str) -> _Memo | RejectReason | str:
    key = nsn[:5]
    hit = _memo.get(key)
    if hit is None:
        exact = normalize_exact("0" + nsn, "FR")
        if isinstance(exact, Rejection):
            hit = exact.reason
        elif exact.e164.endswith(nsn) and len(exact.e164) - len(nsn) <= 4:
            movable = exact.country in FRENCH_REGIONS and exact.type != PhoneType.FIXED
            hit = (exact.e164[: -len(nsn)], exact.type, exact.country, exact.zones, movable)
        else:
            hit = _NOT_MEMOISED
        _memo[key] = hit
    return hit


def normalize_fast(raw: str, region: str, postal_code: str | None = None) -> Phone | None:
    """normalize()'s answer for a French number whose prefix is memoised (nearly every
    number of a French list), or None when only normalize() can say."""
    if region != "FR":
        return None
    # The common case in one piece, without the calls of the general path: it runs for
    # every number of a list. The same answer as the general path (property-tested).
    nsn = _french_nsn(raw.translate(_DROP_SEPARATORS))
    if nsn is None:
        return None
    hit = _memo_entry(nsn)
    if type(hit) is not tuple:
        return None
    prefix, kind, country, zones, movable = hit
    if postal_code:
        zone = _postal_zone(postal_code)
        if (
            zone is not None
            and (movable or (len(zones) > 1 and zone in zones))
            and not (len(zones) == 1 and zones[0] == zone)
        ):
            return _new_tuple(Phone, (prefix + nsn, kind, country, zone, (zone,), True))
    # tuple.__new__: a NamedTuple's own __new__ is Python code, three times slower.
    return _new_tuple(Phone, (prefix + nsn, kind, country, zones[0], zones, False))


def normalize(raw: str, region: str = "FR", postal_code: str | None = None) -> Phone | Rejection:
    """Normalise one number as written; `region` is the default for national numbers."""
    raw = (raw or "")[:MAX_RAW]
    found = normalize_fast(raw, region, postal_code)
    if found is not None:
        return found
    # "+33(0)6…" and other spellings the fast path takes once cleaned; else the long way
    # (which also says why a number is refused).
    found = normalize_fast(_clean(raw), region, postal_code) if region == "FR" else None
    if found is not None:
        return found
    result = normalize_exact(raw, region)
    if isinstance(result, Rejection):
        return result
    return _with_postal_code(result, postal_code)
