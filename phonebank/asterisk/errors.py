"""Errors of the Asterisk sandbox and of config rendering; each says what and where."""

from __future__ import annotations


class AsteriskError(RuntimeError):
    """Base of the errors below."""


class RenderError(AsteriskError):
    """A setting cannot be turned into a valid Asterisk configuration."""


class RootBuildError(AsteriskError):
    """The Debian root for the chrooted Asterisk could not be built."""


class SandboxError(AsteriskError):
    """The sandbox Asterisk could not be started, reached or stopped."""
