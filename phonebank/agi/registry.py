"""Which handler serves which AGI script name; the same registry for FastAGI and process AGI."""

from __future__ import annotations

import logging
from collections.abc import Callable

from asterisk.agi import AGIHangup

from phonebank.agi.session import SCRIPT_NAME, AgiRequest

log = logging.getLogger("phonebank.agi")

AgiHandler = Callable[[AgiRequest], None]

# Set on the channel after every request, for the dialplan to check.
STATUS_VARIABLE = "PHONEBANK_AGI_STATUS"


class AgiRegistry:
    """Script name → handler. Handlers run in a worker thread and may block."""

    def __init__(self) -> None:
        self._handlers: dict[str, AgiHandler] = {}

    def register(self, script: str, handler: AgiHandler) -> None:
        if not SCRIPT_NAME.match(script):
            raise ValueError(f"AGI script name {script!r} must be letters, digits, '_', '-', '.'")
        if script in self._handlers:
            raise ValueError(f"AGI script {script!r} already has a handler")
        self._handlers[script] = handler

    def handler(self, script: str) -> Callable[[AgiHandler], AgiHandler]:
        """Decorator form of `register`."""

        def add(handler: AgiHandler) -> AgiHandler:
            self.register(script, handler)
            return handler

        return add

    def names(self) -> list[str]:
        return sorted(self._handlers)

    def serve(self, request: AgiRequest) -> str:
        """Run the handler for `request.script`; returns and sets the status on the channel.

        OK, UNKNOWN_SCRIPT, ERROR (the handler raised; logged) or HANGUP (the
        caller went away; nothing more can be said to the channel).
        """
        handler = self._handlers.get(request.script)
        if handler is None:
            log.warning(
                "AGI request for unknown script %r on %s (known: %s)",
                request.script,
                request.channel,
                ", ".join(self.names()),
            )
            status = "UNKNOWN_SCRIPT"
        else:
            try:
                handler(request)
                status = "OK"
            except AGIHangup:
                log.info("channel %s hung up during AGI %r", request.channel, request.script)
                return "HANGUP"
            except Exception:
                log.exception("AGI handler %r failed on %s", request.script, request.channel)
                status = "ERROR"
        try:
            request.set_variable(STATUS_VARIABLE, status)
        except AGIHangup:
            return "HANGUP"
        return status


def ping(request: AgiRequest) -> None:
    """Health check: proves the dialplan reaches phonebank's AGI and can set variables."""
    request.set_variable("PHONEBANK_AGI", "pong")


def default_registry() -> AgiRegistry:
    """The handlers every phonebank process serves."""
    registry = AgiRegistry()
    registry.register("ping", ping)
    return registry
