"""FastAGI `optout`: the caller pressed 1 on the call-back line, never call them again.

The handler only reads the caller's number and hands it to a `DncWriter`
given by the composition root (phonebank/service.py); it opens no database
itself. It sets PHONEBANK_OPTOUT on the channel: ADDED, ALREADY (was on the
list), or INVALID (no usable caller number: withheld, or not a phone number).
"""

from __future__ import annotations

from typing import Protocol

from phonebank.agi.registry import AgiHandler, AgiRegistry
from phonebank.agi.session import AgiRequest
from phonebank.lists.phones import Phone, normalize

RESULT_VARIABLE = "PHONEBANK_OPTOUT"


class DncWriter(Protocol):
    def __call__(self, e164: str, *, source: str, reason: str) -> bool:
        """Put e164 on the do-not-call list; True if it was not there yet. May block."""
        ...


def caller_e164(raw: str, region: str = "FR") -> str | None:
    """The caller ID in E.164, normalised as list numbers are; None when unusable.

    Going through the lists' normaliser matters: a caller from Réunion shows as
    0692…, which is +262692…, not +33692….
    """
    phone = normalize(raw or "", region)
    return phone.e164 if isinstance(phone, Phone) else None


def make_optout_handler(writer: DncWriter, *, region: str = "FR") -> AgiHandler:
    def optout(request: AgiRequest) -> None:
        number = caller_e164(request.env.get("agi_callerid", ""), region)
        if number is None:
            request.set_variable(RESULT_VARIABLE, "INVALID")
            return
        added = writer(number, source="ivr", reason="pressed 1 on the call-back line")
        request.set_variable(RESULT_VARIABLE, "ADDED" if added else "ALREADY")

    return optout


def register_optout(registry: AgiRegistry, writer: DncWriter, *, region: str = "FR") -> None:
    registry.register("optout", make_optout_handler(writer, region=region))
