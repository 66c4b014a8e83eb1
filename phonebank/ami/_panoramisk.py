"""panoramisk 1.4, with its reconnect and re-send switched off.

We keep panoramisk for what it does well — framing, matching answers to
actions by ActionID, multi-message responses — and take the connection's life
out of its hands, because in 1.4:

- `Manager.connection_lost` schedules its own reconnect after a fixed
  `reconnect_timeout` (no backoff, and it retries a refused login forever);
- `AMIProtocol.close` moves every action that had no answer yet to
  `Manager.awaiting_actions`, and `send_awaiting_actions` (run on the next
  `FullyBooted`) sends them again: an Originate lost in a disconnect would
  place the call twice;
- actions that had a first answer (an async Originate waiting for its
  `OriginateResponse`) are dropped from the table and their future never
  resolves;
- after our own `close()` the protocol is marked closed, so the later
  `connection_lost` never reaches the manager.

`GuardedProtocol` fails every pending future with `AmiDisconnected` when the
connection ends, never queues anything for re-sending, and reports the loss
exactly once. `QuietManager` never reconnects nor re-sends by itself.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any

from panoramisk import Manager
from panoramisk.ami_protocol import AMIProtocol

from phonebank.ami.errors import AmiDisconnected

log = logging.getLogger("phonebank.ami")


class _EveryAction:
    """A `forgetable_actions` that contains every action: nothing is kept for re-sending."""

    def __contains__(self, item: object) -> bool:
        return True


class QuietManager(Manager):  # type: ignore[misc]
    """panoramisk's Manager used only to dispatch events; never reconnects nor re-sends."""

    def __init__(self, **config: Any) -> None:
        super().__init__(forgetable_actions=_EveryAction(), log=log, **config)

    async def send_awaiting_actions(self, *_: Any) -> None:
        # Registered by Manager.__init__ on FullyBooted; re-sending is exactly what we forbid.
        self.awaiting_actions.clear()

    def connection_lost(self, exc: Any) -> None:
        # The client's supervisor reconnects; panoramisk's fixed-delay retry stays off.
        self._connected = False

    def connect(self, *args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("QuietManager does not connect by itself; AmiClient owns the connection")


class GuardedProtocol(AMIProtocol):  # type: ignore[misc]
    """One AMI connection: pending actions fail on loss, nothing is re-sent."""

    closed: bool
    responses: dict[str, Any]

    def __init__(
        self, manager: QuietManager, where: str, on_lost: Callable[[GuardedProtocol, object], None]
    ) -> None:
        super().__init__()
        self._manager = manager
        self._where = where
        self._on_lost = on_lost
        self._reported = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        super().connection_made(transport)
        # What Manager.connection_made would set, minus its login, pinger and resend.
        self.factory = self._manager
        self.log = log
        self.config = self._manager.config
        self.encoding = "utf8"

    def send(self, data: Any, as_list: bool | None = None) -> asyncio.Future[Any]:
        # None lets panoramisk detect multi-message answers; AMIProtocol's default (False)
        # would resolve an async Originate on its first "successfully queued" reply.
        if self.closed:
            raise AmiDisconnected(f"the AMI connection to {self._where} is closed")
        future: asyncio.Future[Any] = super().send(data, as_list=as_list)
        return future

    def forget(self, action_id: str) -> None:
        """Drop a pending action (its caller gave up waiting)."""
        action = self.responses.pop(action_id, None)
        if action is not None:
            self.responses.pop(action.id, None)

    def _fail_pending(self) -> None:
        pending = {id(action): action for action in self.responses.values()}
        self.responses.clear()
        for action in pending.values():
            if not action.future.done():
                name = action.get("action", "?")
                action.future.set_exception(
                    AmiDisconnected(
                        f"the AMI connection to {self._where} was lost while {name} "
                        f"(ActionID {action.action_id}) waited for its answer; it was not re-sent"
                    )
                )
                # Mark it retrieved: nobody may be awaiting it (e.g. a Ping).
                action.future.exception()

    def close(self) -> None:
        self._fail_pending()
        if not self.closed:
            self.closed = True
            self.transport.close()

    def abort(self) -> None:
        """Drop the socket at once (the peer stopped answering; do not wait to flush)."""
        self._fail_pending()
        self.closed = True
        self.transport.abort()

    def connection_lost(self, exc: object) -> None:
        # Also called by AMIProtocol.handle_message on a `Shutdown` event, with that event.
        self.close()
        if not self._reported:
            self._reported = True
            self._on_lost(self, exc)
