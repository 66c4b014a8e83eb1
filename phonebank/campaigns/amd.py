"""A campaign's answering-machine detection settings (pure).

`campaigns.amd_settings` holds AMD() parameters under amd.conf's names, in
milliseconds, plus the measured `accuracy` the pacer uses
(phonebank.dialer.accounting). A missing key keeps amd.conf's default.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class AmdParameter:
    key: str
    default: int
    low: int
    high: int


# In AMD()'s argument order (docs/telephony.md, PHONEBANK_AMD).
PARAMETERS = (
    AmdParameter("initial_silence", 2500, 500, 10000),
    AmdParameter("greeting", 1500, 500, 10000),
    AmdParameter("after_greeting_silence", 800, 100, 5000),
    AmdParameter("total_analysis_time", 5000, 1000, 10000),
    AmdParameter("min_word_length", 100, 10, 1000),
    AmdParameter("between_words_silence", 50, 10, 1000),
    AmdParameter("maximum_number_of_words", 3, 1, 20),
    AmdParameter("silence_threshold", 256, 1, 32767),
    AmdParameter("maximum_word_length", 5000, 100, 10000),
)
KEYS = tuple(p.key for p in PARAMETERS)


def amd_arguments(settings: Mapping[str, Any] | None) -> str:
    """AMD()'s comma-separated arguments for PHONEBANK_AMD; "" when every value is
    the default (the dialplan then uses amd.conf)."""
    chosen = settings or {}
    values = []
    for parameter in PARAMETERS:
        value = chosen.get(parameter.key)
        ok = isinstance(value, int) and parameter.low <= value <= parameter.high
        values.append(value if ok else parameter.default)
    if all(v == p.default for v, p in zip(values, PARAMETERS, strict=True)):
        return ""
    return ",".join(str(v) for v in values)
