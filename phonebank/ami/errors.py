"""Errors of the AMI adapter; each message says what failed and where."""

from __future__ import annotations

from collections.abc import Mapping


class AmiError(Exception):
    """Something went wrong talking to the Asterisk manager interface."""


class AmiConnectError(AmiError):
    """Asterisk's AMI could not be reached, or the session did not come up."""


class AmiAuthError(AmiConnectError):
    """Asterisk refused the AMI username/secret."""


class AmiNotConnected(AmiError):
    """An action was asked for while there is no live AMI session; it was not sent."""


class AmiDisconnected(AmiError):
    """The AMI session dropped while an action was waiting for its answer.

    The action is never re-sent; whether it took effect is unknown (for an
    Originate, reconcile by the attempt id on the channel).
    """


class AmiTimeout(AmiError):
    """No answer to an action in time; it was not re-sent."""


class AmiActionError(AmiError):
    """Asterisk answered an action with an error."""

    def __init__(self, message: str, response: Mapping[str, str] | None = None) -> None:
        super().__init__(message)
        self.response: Mapping[str, str] = dict(response or {})
