"""The volunteer's pages: pairing, the station screen, the shift summary, door-to-door;
and the supervisor's station list (QR codes to print, releasing a station)."""

from __future__ import annotations

import io
from collections.abc import Callable

import segno
from aiohttp import web
from sqlalchemy.orm import Session, sessionmaker

from phonebank.live.bus import LiveBus
from phonebank.live.requests import DialDesk
from phonebank.resources import resource_dir
from phonebank.volunteer import api, live, repo
from phonebank.volunteer.errors import VolunteerError
from phonebank.volunteer.http import (
    CATALOGS,
    VOLUNTEER,
    clear_pairing,
    gettext,
    service,
    set_pairing,
    volunteer,
)
from phonebank.volunteer.labels import label_translator
from phonebank.volunteer.pairing import PairingBook
from phonebank.volunteer.service import VolunteerService
from phonebank.web.app import Feature, render
from phonebank.web.i18n import load_translations
from phonebank.web.security import current_session, requires


@requires("volunteer")
async def pair_form(request: web.Request) -> web.Response:
    me = volunteer(request)
    typed = request.query.get("station", "").strip()[:16]
    return render(
        request, "volunteer/pair.html", {"paired": me.station, "typed": typed, "error": None}
    )


@requires("volunteer")
async def pair_submit(request: web.Request) -> web.Response:
    form = await request.post()
    typed = str(form.get("station", "")).strip()[:16]
    session = current_session(request)
    try:
        station = await service(request).pair(typed, session.user_id, session.name)
    except VolunteerError as exc:
        status = 409 if exc.code == "station_taken" else 404
        page = {"paired": None, "typed": typed, "error": exc.code}
        return render(request, "volunteer/pair.html", page, status=status)
    response = web.HTTPSeeOther("/station")
    set_pairing(request, response, station.number)
    raise response


@requires("volunteer")
async def unpair(request: web.Request) -> web.Response:
    service(request).unpair(volunteer(request))
    response = web.HTTPSeeOther("/pair")
    clear_pairing(response)
    raise response


@requires("volunteer")
async def station_page(request: web.Request) -> web.Response:
    me = volunteer(request)
    if me.station is None:
        raise web.HTTPSeeOther("/pair")
    return render(request, "volunteer/station.html", {"station": me.station, "me": me})


@requires("volunteer")
async def summary_page(request: web.Request) -> web.Response:
    session = current_session(request)
    summary = await service(request).summary(session.user_id, session.issued_at)
    page = {
        "summary": summary,
        "station": volunteer(request).station,
        "translate_label": label_translator(gettext(request)),
    }
    return render(request, "volunteer/summary.html", page)


@requires("volunteer")
async def door_page(request: web.Request) -> web.Response:
    campaigns = await service(request).read(repo.door_campaigns)
    return render(
        request, "volunteer/door.html", {"campaigns": campaigns, "me": volunteer(request)}
    )


@requires("supervisor")
async def stations_page(request: web.Request) -> web.Response:
    svc = service(request)
    stations = await svc.read(repo.list_stations)
    holders = svc.book.holders(svc.clock())
    return render(request, "volunteer/stations.html", {"stations": stations, "holders": holders})


@requires("supervisor")
async def release_station(request: web.Request) -> web.Response:
    number = request.match_info["number"]
    svc = service(request)
    svc.book.release(number)
    raise web.HTTPSeeOther("/stations")


@requires("supervisor")
async def station_qr(request: web.Request) -> web.Response:
    number = request.match_info["number"]
    station = await service(request).read(lambda s: repo.find_station(s, number))
    if station is None:
        raise web.HTTPNotFound()
    # The origin the supervisor is using is the one volunteers' tablets can reach.
    url = f"{request.url.origin()}/pair?station={station.number}"
    buffer = io.BytesIO()
    segno.make(url, error="m").save(buffer, kind="svg", scale=6, border=2, xmldecl=False)
    return web.Response(body=buffer.getvalue(), content_type="image/svg+xml")


def setup(
    *,
    bus: LiveBus,
    desk: DialDesk,
    readers: sessionmaker[Session],
    writers: sessionmaker[Session],
    clock: Callable[[], float],
    book: PairingBook | None = None,
) -> Feature:
    """The volunteer screen's routes.

    `writers` should be `writer_session_factory(engine)`, so outcomes recorded at once
    on SQLite queue for the write lock instead of failing.
    """
    svc = VolunteerService(
        bus=bus,
        desk=desk,
        readers=readers,
        writers=writers,
        clock=clock,
        book=book,
    )

    def install(app: web.Application) -> None:
        app[VOLUNTEER] = svc
        app[CATALOGS] = load_translations(resource_dir("web") / "translations")
        router = app.router
        router.add_get("/pair", pair_form, name="pair")
        router.add_post("/pair", pair_submit)
        router.add_post("/unpair", unpair)
        router.add_get("/station", station_page, name="station")
        router.add_get("/station/ws", live.station_socket)
        router.add_get("/station/summary", summary_page)
        router.add_get("/door", door_page, name="door")
        router.add_get("/stations", stations_page, name="stations")
        router.add_post("/stations/{number}/release", release_station)
        router.add_get("/stations/{number}/qr.svg", station_qr)
        api.install(router)

        async def stop_prefetching(_app: web.Application) -> None:
            # The service watches the bus for answered calls; it stops with the app.
            svc.stop_watching()

        app.on_cleanup.append(stop_prefetching)

    return install
