"""Phone numbers as people write them → E.164, through the lists' normaliser."""

from __future__ import annotations

from phonebank.followup.errors import NumberError
from phonebank.lists.phones import Rejection, normalize


def to_e164(raw: str, region: str = "FR") -> str:
    """`06 12 34 56 78`, `+33 6…`, `0033 6…` → `+33612345678`; NumberError says why not."""
    result = normalize(raw, region)
    if isinstance(result, Rejection):
        raise NumberError(f"phone number {result}")
    return result.e164
