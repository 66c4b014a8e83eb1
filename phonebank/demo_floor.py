"""The demo's call floor: simulated handsets off the hook and simulated volunteers.

In `phonebank up --demo` there are no telephones. Every station's handset is a
`Local` channel into the dialplan's `sim-station` context, lifted at start and kept
off the hook; the dialer puts simulated voters (the dialplan's `sim-pstn`) through
to them. A station whose screen nobody has opened is a simulated volunteer: after
each call it wraps up for a few seconds and reports ready again, so the floor keeps
moving. A station whose screen is open is left to the person at it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from collections.abc import AsyncIterator, Callable, Sequence

from phonebank.ami.client import AmiClient, ConnectionState
from phonebank.ami.errors import AmiError
from phonebank.live.bus import ANY_STATION, CallEnded, LiveBus, StationMode, StationReport
from phonebank.telephony.handsets import lift_handset

log = logging.getLogger(__name__)

# Seconds a simulated volunteer spends recording an outcome.
WRAP_SECONDS = (4.0, 10.0)
# A day: the handset stays off the hook for as long as the demo runs.
OFF_HOOK_SECONDS = 86_400


async def lift_handsets(ami: AmiClient, stations: Sequence[str]) -> None:
    """Take every station's simulated handset off the hook (Asterisk refuses a second
    handset on a station that already has one, so lifting again is harmless)."""
    for station in stations:
        try:
            await lift_handset(ami, station, OFF_HOOK_SECONDS)
        except AmiError as exc:
            log.warning("demo: cannot lift the handset of station %s: %s", station, exc)


async def _volunteers(
    bus: LiveBus,
    clock: Callable[[], float],
    rng: random.Random,
    wrap: tuple[float, float],
) -> None:
    pending: set[asyncio.Task[None]] = set()

    async def ready_later(station: str) -> None:
        await asyncio.sleep(rng.uniform(*wrap))
        if bus.subscribers(station) == 0 and bus.current_call(station) is None:
            bus.report(StationReport(station, StationMode.READY, clock()))

    subscription = bus.subscribe(ANY_STATION)
    try:
        async for message in subscription:
            # Someone at the screen records the outcome themselves.
            if isinstance(message, CallEnded) and bus.subscribers(message.station) == 0:
                task = asyncio.create_task(ready_later(message.station))
                pending.add(task)
                task.add_done_callback(pending.discard)
    finally:
        subscription.close()
        for task in pending:
            task.cancel()


@contextlib.asynccontextmanager
async def demo_floor(
    ami: AmiClient,
    bus: LiveBus,
    stations: Sequence[str],
    clock: Callable[[], float],
    *,
    wrap: tuple[float, float] = WRAP_SECONDS,
    rng: random.Random | None = None,
) -> AsyncIterator[None]:
    """Lift the handsets (again after each reconnect) and run the simulated volunteers."""
    lifting: set[asyncio.Task[None]] = set()

    def on_state(state: ConnectionState) -> None:
        # An Asterisk restart drops every channel: the handsets go back off the hook.
        if state is ConnectionState.CONNECTED:
            task = asyncio.create_task(lift_handsets(ami, stations))
            lifting.add(task)
            task.add_done_callback(lifting.discard)

    remove = ami.add_state_listener(on_state)
    if ami.connected:
        on_state(ConnectionState.CONNECTED)
    volunteers = asyncio.create_task(_volunteers(bus, clock, rng or random.Random(), wrap))
    try:
        yield
    finally:
        remove()
        volunteers.cancel()
        for task in (*lifting, volunteers):
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        with contextlib.suppress(AmiError):
            await ami.action({"Action": "Hangup", "Channel": "/^Local/[0-9]+@sim-station/"})
