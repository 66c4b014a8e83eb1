"""The supervisor's wallboard and coaching buttons: `setup(...)` is the Feature the
composition root installs.

GET /supervisor          the wallboard page (its first state inside)
GET /supervisor/ws       the state every second (WebSocket, same origin)
GET /supervisor/state    the state once, as JSON
POST /supervisor/coach   listen / whisper / barge: ring the supervisor's handset
POST /supervisor/handset remember the supervisor's handset (a cookie)
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from urllib.parse import urlsplit

from aiohttp import WSMsgType, web
from markupsafe import Markup
from sqlalchemy import Engine

from phonebank.db.engine import session_factory, writer_session_factory
from phonebank.live.bus import LiveBus
from phonebank.supervisor.coach_service import CoachingService, CoachLink, Supervisor
from phonebank.supervisor.coaching import CoachError, parse_handset, parse_mode, parse_station
from phonebank.supervisor.hub import Wallboard
from phonebank.supervisor.source import LiveFloor
from phonebank.supervisor.strings import for_language
from phonebank.web.app import Feature, render, request_language
from phonebank.web.security import SECURITY, current_session, requires

WALLBOARD = web.AppKey("wallboard", Wallboard)
COACHING = web.AppKey("coaching", CoachingService)
HANDSET_COOKIE = "phonebank_handset"
HEARTBEAT = 20.0
_ERROR_STATUS = {"unknown_station": 404, "unknown_handset": 404, "no_ami": 503}


def _same_origin(request: web.Request) -> bool:
    """Browsers send Origin on WebSocket upgrades: refuse pages of other sites."""
    origin = request.headers.get("Origin")
    return origin is None or urlsplit(origin).netloc == request.host


def _wants_json(request: web.Request) -> bool:
    return "application/json" in request.headers.get("Accept", "")


def _script_json(text: str) -> Markup:
    """Serialized JSON made safe inside <script type="application/json">.

    The state is serialized once per tick for every connection; escaping the same
    text here (as jinja's tojson would) spares a page a second serialization.
    """
    escaped = text.replace("&", "\\u0026").replace("<", "\\u003c").replace(">", "\\u003e")
    return Markup(escaped.replace("'", "\\u0027"))  # noqa: S704 (escaped just above)


@requires("supervisor")
async def wallboard_page(request: web.Request) -> web.Response:
    text = await request.app[WALLBOARD].current()
    notices, strings = for_language(request_language(request))
    context = {
        "state_json": _script_json(text),
        "strings_json": _script_json(strings),
        "notices": notices,
        "handset": request.cookies.get(HANDSET_COOKIE, "")[:64],
        "notice": request.query.get("notice", "")[:32],
        "coaching": COACHING in request.app,
    }
    return render(request, "supervisor/wallboard.html", context)


@requires("supervisor")
async def wallboard_state(request: web.Request) -> web.Response:
    text = await request.app[WALLBOARD].current()
    return web.Response(text=text, content_type="application/json")


@requires("supervisor")
async def wallboard_socket(request: web.Request) -> web.StreamResponse:
    if not _same_origin(request):
        raise web.HTTPForbidden(text="cross-site WebSocket refused")
    hub = request.app[WALLBOARD]
    ws = web.WebSocketResponse(heartbeat=HEARTBEAT)
    await ws.prepare(request)
    slot = hub.subscribe()
    if hub.text is None:
        slot.put(await hub.current())

    async def forward() -> None:
        while not ws.closed:
            await ws.send_str(await slot.get())

    sender = asyncio.create_task(forward())
    try:
        async for message in ws:
            if message.type is WSMsgType.TEXT and message.data == "ping":
                await ws.send_str("pong")
            elif message.type is WSMsgType.ERROR:
                break
    finally:
        slot.close()
        sender.cancel()
        with contextlib.suppress(asyncio.CancelledError, ConnectionError):
            await sender
    return ws


def _remember(request: web.Request, response: web.StreamResponse, handset: str) -> None:
    response.set_cookie(
        HANDSET_COOKIE,
        handset,
        max_age=180 * 86400,
        httponly=True,
        samesite="Lax",
        secure=request.app[SECURITY].secure_cookies,
        path="/supervisor",
    )


def _answer(request: web.Request, status: int, body: dict[str, str]) -> web.Response:
    if _wants_json(request):
        return web.json_response(body, status=status)
    code = body.get("error") or body.get("notice", "")
    raise web.HTTPSeeOther(f"/supervisor?notice={code}")


@requires("supervisor")
async def remember_handset(request: web.Request) -> web.Response:
    form = await request.post()
    typed = str(form.get("handset", "")).strip()
    try:
        handset = parse_handset(typed)
    except CoachError as exc:
        return _answer(request, 400, {"error": exc.code})
    if _wants_json(request):
        response = web.json_response({"handset": str(handset)})
        _remember(request, response, str(handset))
        return response
    redirect = web.HTTPSeeOther("/supervisor?notice=handset_saved")
    _remember(request, redirect, str(handset))
    raise redirect


@requires("supervisor")
async def coach(request: web.Request) -> web.Response:
    form = await request.post()
    service = request.app.get(COACHING)
    typed = str(form.get("handset", "")).strip() or request.cookies.get(HANDSET_COOKIE, "")
    try:
        station = parse_station(str(form.get("station", "")))
        mode = parse_mode(str(form.get("mode", "")))
        handset = parse_handset(typed)
        if service is None:
            raise CoachError("no_ami")
        session = current_session(request)
        who = Supervisor(session.user_id, session.name, request.remote)
        call = await service.coach(who, station, mode, handset)
    except CoachError as exc:
        return _answer(request, _ERROR_STATUS.get(exc.code, 400), {"error": exc.code})
    body = {"call": call.call_id, "station": station, "mode": mode.value, "state": call.state}
    if not _wants_json(request):
        redirect = web.HTTPSeeOther(f"/supervisor?notice=coach_{mode.value}")
        _remember(request, redirect, str(handset))
        raise redirect
    response = web.json_response(body, status=202)
    _remember(request, response, str(handset))
    return response


def setup(
    *,
    engine: Engine,
    clock: Callable[[], float],
    floor: LiveFloor,
    bus: LiveBus | None = None,
    ami: CoachLink | None = None,
    period: float = 1.0,
) -> Feature:
    """The wallboard at /supervisor.

    `floor` is where the live floor is read (a `DialerLink` the composition root
    attaches the dialer to); `ami` places the coaching calls (without it the
    coaching buttons answer 503).
    """
    readers = session_factory(engine)
    coaching = (
        CoachingService(ami, readers, writer_session_factory(engine), clock)
        if ami is not None
        else None
    )
    hub = Wallboard(
        floor=floor,
        readers=readers,
        clock=clock,
        bus=bus,
        coaching=coaching.views if coaching is not None else None,
        period=period,
    )

    async def lifetime(_app: web.Application) -> AsyncIterator[None]:
        stop = asyncio.Event()
        ticker = asyncio.create_task(hub.run(stop), name="wallboard")
        if coaching is not None:
            await coaching.start()
        try:
            yield
        finally:
            stop.set()
            await ticker
            if coaching is not None:
                await coaching.close()

    def install(app: web.Application) -> None:
        app[WALLBOARD] = hub
        if coaching is not None:
            app[COACHING] = coaching
        app.cleanup_ctx.append(lifetime)
        router = app.router
        router.add_get("/supervisor", wallboard_page, name="supervisor")
        router.add_get("/supervisor/ws", wallboard_socket)
        router.add_get("/supervisor/state", wallboard_state)
        router.add_post("/supervisor/coach", coach)
        router.add_post("/supervisor/handset", remember_handset)

    return install
