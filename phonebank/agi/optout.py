"""FastAGI `optout`: the caller pressed 1 on the call-back line, never call them again.

The handler only reads the caller's number and hands it to a `DncWriter`
given by the composition root (phonebank/service.py); it opens no database
itself. It sets PHONEBANK_OPTOUT on the channel: ADDED, ALREADY (was on the
list), or INVALID (no usable caller number: withheld, or not a phone number).
"""

from __future__ import annotations

import re
from typing import Protocol

from phonebank.agi.registry import AgiHandler, AgiRegistry
from phonebank.agi.session import AgiRequest

RESULT_VARIABLE = "PHONEBANK_OPTOUT"
_DIGITS = re.compile(r"^\+?[0-9]{6,15}$")


class DncWriter(Protocol):
    def __call__(self, e164: str, *, source: str, reason: str) -> bool:
        """Put e164 on the do-not-call list; True if it was not there yet. May block."""
        ...


def caller_e164(raw: str, country_code: str = "33") -> str | None:
    """The caller ID as E.164: +CC..., 00CC... and national 0XXXXXXXXX forms; None if unusable."""
    number = re.sub(r"[\s().-]", "", raw or "")
    if not _DIGITS.match(number):
        return None
    if number.startswith("+"):
        return number
    if number.startswith("00"):
        return "+" + number[2:]
    if number.startswith("0"):
        return f"+{country_code}{number[1:]}"
    return f"+{number}" if len(number) > 10 else None


def make_optout_handler(writer: DncWriter, *, country_code: str = "33") -> AgiHandler:
    def optout(request: AgiRequest) -> None:
        number = caller_e164(request.env.get("agi_callerid", ""), country_code)
        if number is None:
            request.set_variable(RESULT_VARIABLE, "INVALID")
            return
        added = writer(number, source="ivr", reason="pressed 1 on the call-back line")
        request.set_variable(RESULT_VARIABLE, "ADDED" if added else "ALREADY")

    return optout


def register_optout(registry: AgiRegistry, writer: DncWriter, *, country_code: str = "33") -> None:
    registry.register("optout", make_optout_handler(writer, country_code=country_code))
