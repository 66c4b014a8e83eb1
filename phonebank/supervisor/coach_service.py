"""Coaching on the real telephony: ring the supervisor's handset into `phonebank-coach`,
write who coached which station when in the audit log, follow the coaching call.

The handset rings first; once the supervisor answers, Asterisk runs the coaching
extension (ChanSpy for listen and whisper, the station's bridge for barge). The
POST does not wait for that answer: the Originate runs in its own task, and the
wallboard shows the coaching call as calling, on (answered) or failed.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Protocol

from sqlalchemy import insert, select
from sqlalchemy.orm import Session, sessionmaker

from phonebank.ami.errors import AmiError
from phonebank.ami.events import AmiEvent, OriginateResponse
from phonebank.ami.subscription import EventSubscription
from phonebank.db.models import AuditEntry, Station
from phonebank.supervisor.coaching import (
    COACH_CONTEXT,
    CoachError,
    Handset,
    Mode,
    check_target,
    coach_exten,
)
from phonebank.supervisor.floor import CoachView

log = logging.getLogger(__name__)

RING_SECONDS = 30  # how long the supervisor's handset rings before giving up
FAILED_SHOWN = 15.0  # a failed coaching call stays on the wallboard this long


class CoachLink(Protocol):
    """What coaching uses of `AmiClient`."""

    def events(
        self, *, names: Collection[str] | None = None, maxsize: int = 10_000
    ) -> EventSubscription: ...

    async def originate(
        self,
        channel: str,
        *,
        context: str,
        exten: str,
        timeout_ms: int = 30_000,
        caller_id: str | None = None,
        channel_id: str | None = None,
    ) -> OriginateResponse: ...


@dataclass(frozen=True)
class Supervisor:
    user_id: int
    name: str
    client: str | None = None


@dataclass
class CoachCall:
    """One coaching call: the supervisor's handset channel, by the id we gave it."""

    call_id: str
    station: str
    mode: Mode
    supervisor: Supervisor
    channel: str
    state: str = "calling"  # calling, on, failed
    since: float = 0.0
    reason: str = ""


@dataclass
class CoachingService:
    ami: CoachLink
    readers: sessionmaker[Session]
    writers: sessionmaker[Session]
    clock: Callable[[], float]
    calls: dict[str, CoachCall] = field(default_factory=dict)
    _tasks: set[asyncio.Task[None]] = field(default_factory=set)
    _watcher: asyncio.Task[None] | None = None

    async def start(self) -> None:
        """Follow hang-ups, so an ended coaching call leaves the wallboard."""
        events = self.ami.events(names={"Hangup"})
        self._watcher = asyncio.create_task(self._watch(events), name="coaching-hangups")

    async def close(self) -> None:
        tasks = [*self._tasks, *([self._watcher] if self._watcher else [])]
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        self._tasks.clear()

    async def _watch(self, events: EventSubscription) -> None:
        try:
            async for event in events:
                self.on_event(event)
        finally:
            events.close()

    def on_event(self, event: AmiEvent) -> None:
        for channel in event.channels():
            if event.name == "Hangup" and channel.uniqueid in self.calls:
                del self.calls[channel.uniqueid]

    def views(self) -> Mapping[str, tuple[CoachView, ...]]:
        """Coaching calls by station, for the wallboard (failed ones for a while)."""
        now = self.clock()
        for key in [
            k for k, c in self.calls.items() if c.state == "failed" and now - c.since > FAILED_SHOWN
        ]:
            del self.calls[key]
        out: dict[str, list[CoachView]] = {}
        for call in self.calls.values():
            out.setdefault(call.station, []).append(
                CoachView(call.supervisor.name, call.mode.value, call.state)
            )
        return {station: tuple(views) for station, views in out.items()}

    async def coach(self, who: Supervisor, station: str, mode: Mode, handset: Handset) -> CoachCall:
        """Ring `handset` into the coaching of `station`; raises CoachError when refused."""
        check_target(handset, station)
        exten = coach_exten(mode, station)
        channel = await asyncio.to_thread(self._resolve, station, handset)
        call = CoachCall(
            call_id=f"coach-{uuid.uuid4().hex[:20]}",
            station=station,
            mode=mode,
            supervisor=who,
            channel=channel,
            since=self.clock(),
        )
        # Written before the call is placed: an audit that misses a call is worse
        # than one that lists a call that failed.
        await asyncio.to_thread(self._audit, call, handset)
        self.calls[call.call_id] = call
        task = asyncio.create_task(self._place(call, exten), name=call.call_id)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return call

    def _resolve(self, station: str, handset: Handset) -> str:
        """The handset's channel; the station must be in the inventory."""
        with self.readers() as session:
            target = session.scalar(
                select(Station.id).where(Station.number == station, Station.enabled.is_(True))
            )
            if target is None:
                raise CoachError("unknown_station", station)
            if handset.channel is not None:
                return handset.channel
            channel = session.scalar(
                select(Station.channel).where(
                    Station.number == handset.station, Station.enabled.is_(True)
                )
            )
        if channel is None:
            raise CoachError("unknown_handset", str(handset))
        return channel

    def _audit(self, call: CoachCall, handset: Handset) -> None:
        who = call.supervisor
        with self.writers.begin() as session:
            session.execute(
                insert(AuditEntry).values(
                    at=datetime.fromtimestamp(call.since, UTC),
                    user_id=who.user_id or None,
                    actor=f"web:{who.name or who.user_id}"[:128],
                    action=f"coach.{call.mode.value}",
                    object_type="station",
                    object_id=call.station,
                    details={
                        "handset": str(handset),
                        "channel": call.channel,
                        "call": call.call_id,
                    },
                    client_address=(who.client or "")[:64] or None,
                )
            )

    async def _place(self, call: CoachCall, exten: str) -> None:
        try:
            result = await self.ami.originate(
                call.channel,
                context=COACH_CONTEXT,
                exten=exten,
                timeout_ms=RING_SECONDS * 1000,
                caller_id=f'"{call.mode.value} {call.station}" <{call.station}>',
                channel_id=call.call_id,
            )
        except AmiError as exc:
            self._failed(call, type(exc).__name__)
            log.warning("coaching call to %s failed: %s", call.channel, exc)
            return
        if not result.success:
            self._failed(call, f"reason {result.reason}")
            return
        if call.call_id in self.calls:  # else it already hung up
            call.state, call.since = "on", self.clock()

    def _failed(self, call: CoachCall, reason: str) -> None:
        call.state, call.since, call.reason = "failed", self.clock(), reason
        self.calls[call.call_id] = call
