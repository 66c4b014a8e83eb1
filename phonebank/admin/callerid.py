"""Caller ID checks (pure): a usable number, and France's ranges for automated calling.

ARCEP decision n° 2022-1583 of 1 September 2022 (amending the national numbering
plan, in force since 1 January 2023) forbids systems that place calls automatically
to many people ("systèmes automatisés d'appels") from presenting mobile (06/07) or
ordinary geographic and 09 numbers: they must present a number from the ranges set
aside for them — 0162, 0163, 0270, 0271, 0377, 0378, 0424, 0425, 0568, 0569, 0948,
0949 in metropolitan France; 09475 (Guadeloupe, Saint-Martin, Saint-Barthélemy),
09476 (Guyane), 09477 (Martinique), 09478 and 09479 (La Réunion, Mayotte) overseas.
The Conseil d'État (6 June 2024, Syntec Conseil) upheld that it also covers polls and
surveys, not only sales calls; a progressive or predictive phone bank is such a
system. See arcep.fr, press releases of 5 September 2022 and 13 June 2024.
"""

from __future__ import annotations

import phonenumbers

AUTOMATED_CALLING_PREFIXES = (
    "162",
    "163",
    "270",
    "271",
    "377",
    "378",
    "424",
    "425",
    "568",
    "569",
    "948",
    "949",
    "9475",
    "9476",
    "9477",
    "9478",
    "9479",
)
# Country codes of the French numbering plan (metropolitan France and the overseas
# departments that have their own country code).
FRENCH_PLAN_CODES = frozenset({33, 262, 269, 508, 590, 594, 596})


def normalize_caller_id(typed: str, region: str = "FR") -> str | None:
    """The number in E.164 (+33162000000), or None when it is not a phone number."""
    try:
        number = phonenumbers.parse(typed, region)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_possible_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def is_french(e164: str) -> bool:
    try:
        number = phonenumbers.parse(e164, None)
    except phonenumbers.NumberParseException:
        return False
    return number.country_code in FRENCH_PLAN_CODES


def arcep_automated_range(e164: str) -> bool:
    """True when a French number lies in the ranges for automated calling systems."""
    try:
        number = phonenumbers.parse(e164, None)
    except phonenumbers.NumberParseException:
        return False
    national = phonenumbers.national_significant_number(number)
    return number.country_code in FRENCH_PLAN_CODES and national.startswith(
        AUTOMATED_CALLING_PREFIXES
    )


def needs_arcep_warning(e164: str | None) -> bool:
    """Warn (never refuse) when a French caller ID is outside those ranges: even in
    preview mode the calls leave through the phone bank's system, and a campaign
    that switches to predictive later keeps its caller ID."""
    return bool(e164) and is_french(e164 or "") and not arcep_automated_range(e164 or "")
