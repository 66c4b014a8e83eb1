"""The AMI client: one supervised session to Asterisk, typed events, safe actions.

I/O only: it logs in, keeps the session alive, reconnects with backoff, hands
out events and sends actions. What to do with them is the dialer's business.

Rules it keeps (see docs/ami.md):
- an action is sent once, on the live session, or not at all: while
  disconnected, actions fail at once with `AmiNotConnected`, and an action
  waiting for its answer when the session drops fails with `AmiDisconnected`
  (never re-sent — an Originate sent twice is a voter called twice);
- the reader never waits for a consumer (see `EventSubscription`).
"""

from __future__ import annotations

import asyncio
import contextlib
import enum
import logging
import random as _random
import uuid
from collections.abc import Callable, Collection, Mapping
from typing import Any, BinaryIO

from phonebank.ami._panoramisk import GuardedProtocol, QuietManager
from phonebank.ami.backoff import reconnect_delay
from phonebank.ami.errors import (
    AmiActionError,
    AmiDisconnected,
    AmiError,
    AmiNotConnected,
    AmiTimeout,
)
from phonebank.ami.events import KNOWN_EVENTS, OriginateResponse, parse_event
from phonebank.ami.session import SessionSettings, open_session, send_and_wait
from phonebank.ami.subscription import EventSubscription
from phonebank.config import AsteriskConfig

log = logging.getLogger("phonebank.ami")


class ConnectionState(enum.Enum):
    DISCONNECTED = "disconnected"
    CONNECTING = "connecting"
    CONNECTED = "connected"
    CLOSED = "closed"


StateListener = Callable[[ConnectionState], None]


def _flatten(message: Mapping[str, Any]) -> dict[str, str]:
    """AMI headers as plain strings; repeated headers joined by newlines."""
    return {str(k): "\n".join(v) if isinstance(v, list) else str(v) for k, v in message.items()}


class AmiClient:
    """A supervised AMI session. `await connect()`, then use; `await close()` at the end."""

    def __init__(
        self,
        *,
        host: str,
        port: int,
        username: str,
        secret: str,
        reconnect_min: float = 0.5,
        reconnect_max: float = 30.0,
        random: Callable[[], float] = _random.random,
        event_names: Collection[str] | None = KNOWN_EVENTS,
        ping_interval: float = 10.0,
        action_timeout: float = 10.0,
        connect_timeout: float = 5.0,
        boot_timeout: float = 60.0,
        transcript: BinaryIO | None = None,
    ) -> None:
        reconnect_delay(0, reconnect_min, reconnect_max, 0.0)  # validates the bounds now
        self._settings = SessionSettings(
            host=host,
            port=port,
            username=username,
            secret=secret,
            # None: every event the AMI user may read; else only these (filtered by
            # Asterisk when it allows, here otherwise).
            event_names=frozenset(event_names) if event_names is not None else None,
            connect_timeout=connect_timeout,
            action_timeout=action_timeout,
            boot_timeout=boot_timeout,
        )
        self.where = self._settings.where
        self._reconnect = (reconnect_min, reconnect_max)
        self._random = random
        self._event_names = self._settings.event_names
        self._ping_interval = ping_interval
        # `transcript` receives every byte read from Asterisk (to record test fixtures).
        self._manager = QuietManager(host=host, port=port, save_stream=transcript)
        self._manager.register_event("*", self._on_message)
        self._protocol: GuardedProtocol | None = None
        self._booted: asyncio.Future[None] | None = None
        self._lost = asyncio.Event()
        self._state = ConnectionState.DISCONNECTED
        self._listeners: list[StateListener] = []
        self._subscriptions: list[EventSubscription] = []
        self._supervisor: asyncio.Task[None] | None = None
        self._keepalive: asyncio.Task[None] | None = None
        self.server_filters = False
        # Sessions logged in so far (the first connection and every reconnect).
        self.sessions = 0

    @classmethod
    def from_config(
        cls, asterisk: AsteriskConfig, *, secret: str | None = None, **options: Any
    ) -> AmiClient:
        """A client for `[asterisk]` settings; `secret` overrides an empty `ami_secret`."""
        chosen = secret if secret is not None else asterisk.ami_secret
        if not chosen:
            raise AmiError(
                "no AMI secret: set asterisk.ami_secret (PHONEBANK_ASTERISK_AMI_SECRET) "
                "or start the sandbox, which generates one"
            )
        return cls(
            host=asterisk.ami_host,
            port=asterisk.ami_port,
            username=asterisk.ami_username,
            secret=chosen,
            reconnect_min=asterisk.reconnect_min,
            reconnect_max=asterisk.reconnect_max,
            **options,
        )

    # -- state -------------------------------------------------------------------------------

    @property
    def state(self) -> ConnectionState:
        return self._state

    @property
    def connected(self) -> bool:
        return self._state is ConnectionState.CONNECTED

    def add_state_listener(self, listener: StateListener) -> Callable[[], None]:
        """Call `listener(state)` on every change; returns a function that removes it."""
        self._listeners.append(listener)
        return lambda: self._listeners.remove(listener) if listener in self._listeners else None

    def _set_state(self, state: ConnectionState) -> None:
        if state is self._state:
            return
        self._state = state
        log.info("AMI session to %s: %s", self.where, state.value)
        for listener in list(self._listeners):
            try:
                listener(state)
            except Exception:  # a listener's bug must not take the connection down
                log.exception("AMI state listener %r failed", listener)

    # -- connection --------------------------------------------------------------------------

    async def connect(self) -> None:
        """Connect and log in now (raising `AmiConnectError`/`AmiAuthError`), then supervise."""
        self._check_unstarted()
        await self._open()
        self._supervisor = asyncio.create_task(
            self._supervise(immediate=False), name=f"ami-supervisor {self.where}"
        )

    async def start(self) -> None:
        """Supervise without waiting: connect in the background and keep retrying.

        For the service, which must come up (and report "disconnected") while
        Asterisk is down; `connected` and the state listeners tell when it is up.
        """
        self._check_unstarted()
        self._lost.set()
        self._supervisor = asyncio.create_task(
            self._supervise(immediate=True), name=f"ami-supervisor {self.where}"
        )

    def _check_unstarted(self) -> None:
        if self._supervisor is not None or self._state is ConnectionState.CLOSED:
            raise AmiError(f"AMI client for {self.where} was already started")

    async def _open(self) -> None:
        self._set_state(ConnectionState.CONNECTING)
        booted: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._booted = booted

        def lost(protocol: GuardedProtocol, reason: object) -> None:
            # Lost while opening: unblock this attempt's wait for FullyBooted.
            if not booted.done():
                booted.set_exception(AmiDisconnected(f"{self.where} closed the AMI session"))
                booted.exception()
            self._connection_lost(protocol, reason)

        try:
            protocol, self.server_filters = await open_session(
                self._settings, self._manager, lost, booted
            )
        except BaseException:
            self._set_state(ConnectionState.DISCONNECTED)
            raise
        self._protocol = self._manager.protocol = protocol
        self.sessions += 1
        self._lost.clear()
        self._set_state(ConnectionState.CONNECTED)
        self._keepalive = asyncio.create_task(self._keep_alive(protocol), name="ami-keepalive")

    async def _await(
        self,
        protocol: GuardedProtocol,
        action: dict[str, Any],
        what: str,
        within: float | None = None,
    ) -> Any:
        limit = self._settings.action_timeout if within is None else within
        try:
            return await send_and_wait(protocol, action, what, limit)
        except AmiTimeout as exc:
            raise AmiTimeout(f"{exc} (Asterisk at {self.where})") from None

    def _connection_lost(self, protocol: GuardedProtocol, reason: object) -> None:
        if protocol is not self._protocol:
            return  # a session that never came up, or an old one
        self._protocol = None
        if self._keepalive is not None:
            self._keepalive.cancel()
        if self._state is ConnectionState.CONNECTED:
            log.warning("AMI session to %s lost (%s)", self.where, reason or "socket closed")
            self._set_state(ConnectionState.DISCONNECTED)
            self._lost.set()

    async def _supervise(self, *, immediate: bool) -> None:
        low, high = self._reconnect
        while True:
            await self._lost.wait()
            attempt = 0
            while True:
                if not immediate:
                    await asyncio.sleep(reconnect_delay(attempt, low, high, self._random()))
                immediate = False
                try:
                    await self._open()
                except AmiError as exc:  # a refused login too: the secret may be changing
                    log.warning(
                        "connecting to Asterisk AMI at %s failed (try %d): %s",
                        self.where,
                        attempt + 1,
                        exc,
                    )
                    attempt += 1
                    continue
                break

    async def _keep_alive(self, protocol: GuardedProtocol) -> None:
        """Ping; a silent peer (half-open TCP) is dropped so that the supervisor reconnects."""
        while not protocol.closed:
            await asyncio.sleep(self._ping_interval)
            try:
                await self._await(protocol, {"Action": "Ping"}, "Ping")
            except AmiTimeout:
                log.warning("AMI session to %s does not answer Ping; dropping it", self.where)
                protocol.abort()
                return
            except AmiDisconnected:
                return

    async def close(self) -> None:
        """Log off and stop; ends every event subscription. Idempotent."""
        if self._state is ConnectionState.CLOSED:
            return
        for task in (self._supervisor, self._keepalive):
            if task is not None:
                task.cancel()
        protocol, self._protocol = self._protocol, None
        if protocol is not None and not protocol.closed:
            with contextlib.suppress(AmiError):  # it is going away anyway
                await self._await(protocol, {"Action": "Logoff"}, "Logoff", within=1.0)
            protocol.close()
        self._set_state(ConnectionState.CLOSED)
        for subscription in list(self._subscriptions):
            subscription.close()

    # -- events ------------------------------------------------------------------------------

    def events(
        self, *, names: Collection[str] | None = None, maxsize: int = 10_000
    ) -> EventSubscription:
        """Subscribe now; `async for event in client.events(): ...`."""
        subscription = EventSubscription(maxsize, names, self._subscriptions.remove)
        self._subscriptions.append(subscription)
        if self._state is ConnectionState.CLOSED:
            subscription.close()
        return subscription

    def _on_message(self, _manager: object, message: Mapping[str, Any]) -> None:
        # Runs inside the socket reader: parse, fan out, never wait.
        name = str(message.get("Event", ""))
        if name == "FullyBooted" and self._booted is not None and not self._booted.done():
            self._booted.set_result(None)
        if self._event_names is not None and name not in self._event_names:
            return
        event = parse_event(message)
        for subscription in list(self._subscriptions):
            subscription.offer(event)

    # -- actions -----------------------------------------------------------------------------

    def _live(self, what: str) -> GuardedProtocol:
        protocol = self._protocol
        if not self.connected or protocol is None or protocol.closed:
            raise AmiNotConnected(f"not connected to Asterisk at {self.where}; {what} was not sent")
        return protocol

    async def action(
        self, action: Mapping[str, str | list[str]], *, within: float | None = None
    ) -> list[dict[str, str]]:
        """Send any AMI action; its response (and list events, if any) as plain dicts."""
        name = str(action.get("Action", "?"))
        payload = dict(action)
        if not any(key.lower() == "async" for key in payload):
            # panoramisk 1.4 takes a reply ending "successfully queued" (PlayDTMF, …)
            # for the start of an event list unless the action says Async: false, and
            # its reader then fails with KeyError('async').
            payload["Async"] = "false"
        reply = await self._await(self._live(name), payload, name, within)
        messages = reply if isinstance(reply, list) else [reply]
        first = messages[0]
        if str(first.get("Response", "")).lower() == "error":
            raise AmiActionError(
                f"Asterisk at {self.where} refused {name}: {first.get('Message', '?')}",
                _flatten(first),
            )
        return [_flatten(m) for m in messages]

    async def command(self, command: str, *, within: float | None = None) -> str:
        """Run an Asterisk CLI command through AMI and return its output."""
        response = (await self.action({"Action": "Command", "Command": command}, within=within))[0]
        return response.get("Output", "")

    async def originate(
        self,
        channel: str,
        *,
        context: str,
        exten: str,
        priority: int = 1,
        variables: Mapping[str, str] | None = None,
        timeout_ms: int = 30_000,
        caller_id: str | None = None,
        action_id: str | None = None,
        channel_id: str | None = None,
        other_channel_id: str | None = None,
        grace: float = 10.0,
    ) -> OriginateResponse:
        """Place one call (Async Originate) and wait for Asterisk's verdict on it.

        Resolves when the call is answered or has failed (`success`, `reason`),
        which takes up to `timeout_ms`: run one task per dial. `channel_id` (and
        `other_channel_id`, the second half of a Local channel) become the
        channels' Uniqueid, so even the first Newchannel — sent before the
        channel variables are set — names the attempt. Sent exactly once:
        raises `AmiNotConnected` (not sent), `AmiDisconnected` or `AmiTimeout`
        (outcome unknown: reconcile by the attempt id on the channel), or
        `AmiActionError` (Asterisk refused it).
        """
        action_id = action_id or f"phonebank-originate-{uuid.uuid4().hex}"
        protocol = self._live(f"Originate {action_id}")
        if action_id in protocol.responses:
            raise AmiError(f"an Originate with ActionID {action_id!r} is already in flight")
        action: dict[str, str | list[str]] = {
            "Action": "Originate",
            "ActionID": action_id,
            "Channel": channel,
            "Context": context,
            "Exten": exten,
            "Priority": str(priority),
            "Timeout": str(timeout_ms),
            "Async": "true",
        }
        if caller_id:
            action["CallerID"] = caller_id
        if channel_id:
            action["ChannelId"] = channel_id
        if other_channel_id:
            action["OtherChannelId"] = other_channel_id
        if variables:
            action["Variable"] = [f"{key}={value}" for key, value in variables.items()]
        reply = await self._await(
            protocol, action, f"Originate {action_id} to {channel}", timeout_ms / 1000 + grace
        )
        messages = reply if isinstance(reply, list) else [reply]
        if str(messages[0].get("Response", "")).lower() != "success":
            raise AmiActionError(
                f"Asterisk at {self.where} refused Originate {action_id} to "
                f"{channel}: {messages[0].get('Message', '?')}",
                _flatten(messages[0]),
            )
        final = parse_event(messages[-1])
        if not isinstance(final, OriginateResponse):
            raise AmiError(f"Originate {action_id} ended without an OriginateResponse: {final}")
        return final
