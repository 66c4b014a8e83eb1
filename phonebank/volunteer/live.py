"""GET /station/ws: the station's screen hears of calls the instant they are put through.

On connect the screen gets the call in progress (or the preview offer), so a
screen that reconnects catches up. Each call pop is turned into a card in a
worker thread and sent at once; messages of one station keep their order.
When the station's last screen goes away, the station is reported paused: the
dialer must not put voters through to a volunteer who cannot see them.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

from aiohttp import WSMsgType, web

from phonebank.live.bus import CallEnded, CallPop, StationMode, Subscription
from phonebank.live.requests import DeskWatch, OfferWithdrawn, PreviewOffer
from phonebank.volunteer.http import gettext, service, volunteer
from phonebank.volunteer.labels import localize_card
from phonebank.volunteer.service import Volunteer, VolunteerService
from phonebank.web.security import requires

log = logging.getLogger(__name__)
HEARTBEAT = 20.0


def _same_origin(request: web.Request) -> bool:
    """Browsers send Origin on WebSocket upgrades: refuse pages of other sites."""
    origin = request.headers.get("Origin")
    return origin is None or urlsplit(origin).netloc == request.host


class _Screen:
    def __init__(
        self,
        ws: web.WebSocketResponse,
        svc: VolunteerService,
        me: Volunteer,
        translate: Callable[[str], str],
    ) -> None:
        self.ws = ws
        self.svc = svc
        self.me = me
        self.translate = translate

    async def send(self, message: dict[str, Any]) -> None:
        if self.ws.closed:
            return
        message["sent_at"] = time.time()
        await self.ws.send_json(message)

    async def pop(self, pop: CallPop) -> None:
        card = await self.svc.pop_card(pop, self.me.name)
        if card is None:
            log.warning(
                "call pop for unknown contact %s (attempt %s)", pop.contact_id, pop.attempt_id
            )
            return
        await self.send(localize_card(card, self.translate))

    async def offer(self, offer: PreviewOffer) -> None:
        card = await self.svc.offer_card(offer, self.me.name)
        if card is not None:
            await self.send(localize_card(card, self.translate))

    async def follow_bus(self, subscription: Subscription) -> None:
        while True:
            message = await subscription.get()
            if isinstance(message, CallPop):
                await self.pop(message)
            elif isinstance(message, CallEnded):
                await self.send({"type": "ended", "attempt_id": message.attempt_id})

    async def follow_desk(self, watch: DeskWatch) -> None:
        while True:
            message = await watch.get()
            if isinstance(message, PreviewOffer):
                await self.offer(message)
            elif isinstance(message, OfferWithdrawn):
                await self.send({"type": "withdrawn", "entry_id": message.entry_id})


@requires("volunteer")
async def station_socket(request: web.Request) -> web.StreamResponse:
    me = volunteer(request)
    if me.station is None:
        raise web.HTTPConflict(text="pair this screen with a station first")
    if not _same_origin(request):
        raise web.HTTPForbidden(text="cross-site WebSocket refused")
    svc = service(request)
    station = me.station
    ws = web.WebSocketResponse(heartbeat=HEARTBEAT)
    await ws.prepare(request)
    subscription = svc.bus.subscribe(station)
    watch = svc.desk.watch(station)
    svc.book.screen_opened(station, svc.clock())
    screen = _Screen(ws, svc, me, gettext(request))
    tasks: list[asyncio.Task[None]] = []
    try:
        await screen.send({"type": "hello", "station": station})
        current = svc.bus.current_call(station)
        offer = svc.desk.current_offer(station)
        if current is not None:
            await screen.pop(current)
        elif offer is not None:
            await screen.offer(offer)
        tasks = [
            asyncio.create_task(screen.follow_bus(subscription)),
            asyncio.create_task(screen.follow_desk(watch)),
        ]
        async for message in ws:
            if message.type is WSMsgType.TEXT and message.data == "ping":
                await ws.send_str("pong")
            elif message.type is WSMsgType.ERROR:
                break
    finally:
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError, ConnectionError):
                await task
        subscription.close()
        watch.close()
        now = svc.clock()
        svc.book.screen_closed(station, now)
        holder = svc.book.holder(station, now)
        if holder is None or holder.screens == 0:
            svc.report(me, StationMode.PAUSED)
    return ws
