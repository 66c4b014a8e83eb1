"""Opening one AMI session: TCP connect, Login, event filters, FullyBooted.

Used by `AmiClient` for the first connection and every reconnect. Each step
has its own deadline and its own error message, so a log line says whether
Asterisk was unreachable, refused the secret, or never finished booting.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from phonebank.ami._panoramisk import GuardedProtocol, QuietManager
from phonebank.ami.errors import AmiAuthError, AmiConnectError, AmiDisconnected, AmiTimeout

log = logging.getLogger("phonebank.ami")


@dataclass(frozen=True)
class SessionSettings:
    host: str
    port: int
    username: str
    secret: str
    # None: every event the AMI user may read.
    event_names: frozenset[str] | None
    connect_timeout: float
    action_timeout: float
    boot_timeout: float

    @property
    def where(self) -> str:
        return f"{self.host}:{self.port}"


async def send_and_wait(
    protocol: GuardedProtocol, action: dict[str, Any], what: str, within: float
) -> Any:
    """Send `action` once and wait for its answer; on timeout, forget it (never re-sent)."""
    action.setdefault("ActionID", f"phonebank-{uuid.uuid4().hex}")
    future = protocol.send(action)
    try:
        async with asyncio.timeout(within):
            return await future
    except TimeoutError:
        protocol.forget(str(action["ActionID"]))
        raise AmiTimeout(
            f"no answer from Asterisk to {what} within {within:g} s; it was not re-sent"
        ) from None


async def open_session(
    settings: SessionSettings,
    manager: QuietManager,
    on_lost: Callable[[GuardedProtocol, object], None],
    booted: asyncio.Future[None],
) -> tuple[GuardedProtocol, bool]:
    """A logged-in, booted session, and whether Asterisk filters events for us.

    `booted` is resolved by the caller's event handler on FullyBooted (which
    Asterisk sends right after a successful Login once it has started).
    """
    where = settings.where
    loop = asyncio.get_running_loop()
    try:
        async with asyncio.timeout(settings.connect_timeout):
            _, protocol = await loop.create_connection(
                lambda: GuardedProtocol(manager, where, on_lost), settings.host, settings.port
            )
    except (OSError, TimeoutError) as exc:
        raise AmiConnectError(
            f"cannot reach the Asterisk manager interface at {where}: {exc or 'timed out'}"
        ) from exc
    assert isinstance(protocol, GuardedProtocol)
    try:
        reply = await send_and_wait(
            protocol,
            {
                "Action": "Login",
                "Username": settings.username,
                "Secret": settings.secret,
                "Events": "on",
            },
            "Login",
            settings.action_timeout,
        )
        if not reply.success:
            raise AmiAuthError(
                f"Asterisk at {where} refused AMI login as "
                f"{settings.username!r}: {reply.get('message') or reply}"
            )
        filtered = await _install_filters(protocol, settings)
        try:
            async with asyncio.timeout(settings.boot_timeout):
                await booted
        except TimeoutError:
            raise AmiConnectError(
                f"logged in to {where} but Asterisk did not report "
                f"FullyBooted within {settings.boot_timeout:g} s"
            ) from None
    except BaseException as exc:
        protocol.close()
        if isinstance(exc, AmiDisconnected):
            raise AmiConnectError(
                f"Asterisk at {where} closed the AMI session while logging in"
            ) from exc
        raise
    return protocol, filtered


async def _install_filters(protocol: GuardedProtocol, settings: SessionSettings) -> bool:
    """Ask Asterisk to send only our events (needs the `system` right; else we filter)."""
    if settings.event_names is None:
        return False
    replies = await asyncio.gather(
        *(
            send_and_wait(
                protocol,
                {
                    "Action": "Filter",
                    "Operation": "Add",
                    "MatchCriteria": f"name({name})",
                    "Filter": "",
                },
                "Filter",
                settings.action_timeout,
            )
            for name in sorted(settings.event_names)
        )
    )
    refused = [r for r in replies if not r.success]
    if refused:
        log.info(
            "Asterisk at %s refused AMI event filters (%s); filtering events here",
            settings.where,
            refused[0].get("message", "?"),
        )
    return not refused
