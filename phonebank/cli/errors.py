"""Errors a subcommand raises to end with a message instead of a traceback."""

from __future__ import annotations


class CommandError(Exception):
    """A failure the user can act on; printed without a traceback."""

    def __init__(self, message: str, exit_code: int = 1) -> None:
        super().__init__(message)
        self.exit_code = exit_code
