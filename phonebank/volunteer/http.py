"""What the volunteer handlers share: who is asking, their station, errors as responses."""

from __future__ import annotations

import json
from typing import Any

from aiohttp import web
from babel.support import NullTranslations

from phonebank.volunteer.errors import STATUS, VolunteerError
from phonebank.volunteer.pairing import PAIR_COOKIE, decode_pairing, encode_pairing
from phonebank.volunteer.service import Volunteer, VolunteerService
from phonebank.web.app import SESSION_MAX_AGE, request_language
from phonebank.web.security import SECURITY, current_session

VOLUNTEER = web.AppKey("volunteer", VolunteerService)
CATALOGS = web.AppKey("volunteer_catalogs", dict[str, NullTranslations])


def service(request: web.Request) -> VolunteerService:
    return request.app[VOLUNTEER]


def gettext(request: web.Request) -> Any:
    return request.app[CATALOGS][request_language(request)].gettext


def volunteer(request: web.Request) -> Volunteer:
    """The logged-in user and the station their cookie pairs them with, if still theirs."""
    session = current_session(request)
    settings = request.app[SECURITY]
    svc = service(request)
    now = settings.clock()
    station = decode_pairing(
        settings.key, request.cookies.get(PAIR_COOKIE), session.user_id, now, SESSION_MAX_AGE
    )
    if station is not None and not svc.book.confirm(station, session.user_id, session.name, now):
        station = None  # someone else took it (a supervisor released it meanwhile)
    return Volunteer(session.user_id, session.name, station)


def set_pairing(request: web.Request, response: web.StreamResponse, station: str) -> None:
    settings = request.app[SECURITY]
    cookie = encode_pairing(
        settings.key, station, current_session(request).user_id, settings.clock()
    )
    response.set_cookie(
        PAIR_COOKIE,
        cookie,
        max_age=int(SESSION_MAX_AGE),
        httponly=True,
        samesite="Lax",
        secure=settings.secure_cookies,
        path="/",
    )


def clear_pairing(response: web.StreamResponse) -> None:
    response.del_cookie(PAIR_COOKIE, path="/")


def error_response(exc: VolunteerError) -> web.Response:
    return web.json_response(
        {"error": exc.code, "detail": exc.detail}, status=STATUS.get(exc.code, 400)
    )


async def json_body(request: web.Request) -> dict[str, Any]:
    try:
        body = await request.json()
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise VolunteerError("bad_request", "not JSON") from None
    if not isinstance(body, dict):
        raise VolunteerError("bad_request", "expected an object")
    return body
