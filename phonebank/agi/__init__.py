"""AGI: handlers the dialplan calls, served over FastAGI or as a process AGI script."""

from __future__ import annotations

from phonebank.agi.fastagi import FastAgiServer
from phonebank.agi.registry import STATUS_VARIABLE, AgiHandler, AgiRegistry, default_registry
from phonebank.agi.session import AgiRequest, PhonebankAGI

__all__ = [
    "STATUS_VARIABLE",
    "AgiHandler",
    "AgiRegistry",
    "AgiRequest",
    "FastAgiServer",
    "PhonebankAGI",
    "default_registry",
]
