"""Asterisk Manager Interface adapter: typed events and a supervised client."""

from __future__ import annotations

from phonebank.ami.client import AmiClient, ConnectionState
from phonebank.ami.errors import (
    AmiActionError,
    AmiAuthError,
    AmiConnectError,
    AmiDisconnected,
    AmiError,
    AmiNotConnected,
    AmiTimeout,
)
from phonebank.ami.events import ATTEMPT_VARIABLE, AmiEvent, parse_event
from phonebank.ami.subscription import EventSubscription

__all__ = [
    "ATTEMPT_VARIABLE",
    "AmiActionError",
    "AmiAuthError",
    "AmiClient",
    "AmiConnectError",
    "AmiDisconnected",
    "AmiError",
    "AmiEvent",
    "AmiNotConnected",
    "AmiTimeout",
    "ConnectionState",
    "EventSubscription",
    "parse_event",
]
