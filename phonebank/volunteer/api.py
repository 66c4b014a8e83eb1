"""The screen's JSON requests: record an outcome, ready/pause, dial in preview mode,
reload a call's card, and the door-to-door voter search.

Every one is checked against the volunteer's own station (or their own calls):
another station's attempt answers 404, exactly as a missing one does.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from aiohttp import web
from aiohttp.web_urldispatcher import UrlDispatcher

from phonebank.calls.outcomes import CallbackRequest, OutcomeInput
from phonebank.db.enums import OutcomeChannel
from phonebank.live.bus import StationMode
from phonebank.volunteer import repo
from phonebank.volunteer.errors import VolunteerError
from phonebank.volunteer.http import error_response, gettext, json_body, service, volunteer
from phonebank.volunteer.labels import localize_card
from phonebank.volunteer.script import Answer, callback_due
from phonebank.web.security import requires

MAX_ANSWERS = 100


def _int(value: object, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise VolunteerError("bad_request", name)
    try:
        return int(value)
    except ValueError:
        raise VolunteerError("bad_request", name) from None


def _script_id(raw: object) -> int | None:
    """The card's script version; anything but a positive whole number means the active one."""
    return raw if isinstance(raw, int) and not isinstance(raw, bool) and raw > 0 else None


def _answers(raw: object) -> tuple[Answer, ...]:
    if not isinstance(raw, list) or len(raw) > MAX_ANSWERS:
        raise VolunteerError("bad_request", "answers")
    answers = []
    for item in raw:
        if not isinstance(item, dict) or not isinstance(item.get("key"), str):
            raise VolunteerError("bad_request", "answers")
        options = item.get("options", [])
        number = item.get("number")
        text = item.get("text")
        if not isinstance(options, list) or not all(isinstance(o, str) for o in options):
            raise VolunteerError("bad_request", "answers")
        if number is not None and (isinstance(number, bool) or not isinstance(number, int | float)):
            raise VolunteerError("bad_request", "answers")
        if text is not None and not isinstance(text, str):
            raise VolunteerError("bad_request", "answers")
        answers.append(
            Answer(
                item["key"],
                tuple(options),
                text.strip() if text else None,
                float(number) if number is not None else None,
            )
        )
    return tuple(answers)


def _shown(due: datetime, tz: str) -> str:
    return due.astimezone(ZoneInfo(tz)).strftime("%Y-%m-%d %H:%M")


@requires("volunteer")
async def record(request: web.Request) -> web.Response:
    """Record an outcome; the same client_request_id again returns the first one."""
    me = volunteer(request)
    svc = service(request)
    try:
        body = await json_body(request)
        request_id = str(body.get("client_request_id", ""))[:64]
        if not request_id:
            raise VolunteerError("bad_request", "client_request_id")
        # A resend after a reconnect or a new login: recorded already, say so first.
        previous = await svc.already_recorded(request_id, me.user_id)
        if previous is not None:
            return web.json_response({"outcome_id": previous, "created": False})
        if body.get("channel") == OutcomeChannel.DOOR.value:
            target = await svc.target_of_door(
                _int(body.get("campaign_id"), "campaign_id"),
                _int(body.get("contact_id"), "contact_id"),
            )
            channel = OutcomeChannel.DOOR
        else:
            target = await svc.target_of_attempt(me, _int(body.get("attempt_id"), "attempt_id"))
            channel = OutcomeChannel.PHONE
        callback = None
        raw_callback = body.get("callback")
        if isinstance(raw_callback, dict) and raw_callback.get("local"):
            due = callback_due(str(raw_callback["local"]), target.time_zone, svc.now())
            note = str(raw_callback.get("note", ""))
            callback = CallbackRequest(due, target.time_zone, note)
        consent = body.get("consent")
        if not isinstance(consent, dict):
            consent = {}
        data = OutcomeInput(
            client_request_id=request_id,
            campaign_id=target.campaign_id,
            contact_id=target.contact_id,
            user_id=me.user_id,
            disposition_code=str(body.get("disposition", "")),
            channel=channel,
            attempt_id=target.attempt_id,
            phone_id=target.phone_id,
            notes=str(body.get("notes", "")),
            answers=_answers(body.get("answers", [])),
            callback=callback,
            consent_email=consent.get("email") is True,
            consent_sms=consent.get("sms") is True,
            script_id=_script_id(body.get("script_id")),
        )
        recorded = await svc.record(data)
    except VolunteerError as exc:
        return error_response(exc)
    answer: dict[str, Any] = {
        "outcome_id": recorded.outcome_id,
        "created": recorded.created,
        "consents": list(recorded.consents),
    }
    if callback is not None:
        answer["callback"] = {
            "due_utc": callback.due_at.isoformat(),
            "time_zone": callback.time_zone,
            "voter_local": _shown(callback.due_at, callback.time_zone),
        }
    return web.json_response(answer, status=201 if recorded.created else 200)


@requires("volunteer")
async def set_mode(request: web.Request) -> web.Response:
    me = volunteer(request)
    try:
        body = await json_body(request)
        try:
            mode = StationMode(str(body.get("mode")))
        except ValueError:
            raise VolunteerError("bad_request", "mode") from None
        service(request).report(me, mode)
    except VolunteerError as exc:
        return error_response(exc)
    return web.json_response({"station": me.station, "mode": mode.value})


@requires("volunteer")
async def dial(request: web.Request) -> web.Response:
    me = volunteer(request)
    try:
        body = await json_body(request)
        sent = service(request).dial(me, _int(body.get("entry_id"), "entry_id"))
    except VolunteerError as exc:
        return error_response(exc)
    return web.json_response({"entry_id": sent.entry_id, "e164": sent.e164}, status=202)


@requires("volunteer")
async def call_card(request: web.Request) -> web.Response:
    me = volunteer(request)
    try:
        attempt_id = _int(request.match_info["attempt_id"], "attempt_id")
        card = await service(request).attempt_card(me, attempt_id)
    except VolunteerError as exc:
        return error_response(exc)
    return web.json_response(localize_card(card, gettext(request)))


@requires("volunteer")
async def door_search(request: web.Request) -> web.Response:
    try:
        campaign_id = _int(request.query.get("campaign", ""), "campaign")
    except VolunteerError as exc:
        return error_response(exc)
    name = request.query.get("q", "")[:100]
    city = request.query.get("city", "")[:100]
    if len(name.strip()) < 2 and len(city.strip()) < 2:
        return web.json_response({"results": []})
    results = await service(request).read(
        lambda s: repo.search_contacts(s, campaign_id, name, city)
    )
    return web.json_response({"results": results})


@requires("volunteer")
async def door_card(request: web.Request) -> web.Response:
    me = volunteer(request)
    try:
        campaign_id = _int(request.query.get("campaign", ""), "campaign")
        contact_id = _int(request.match_info["contact_id"], "contact_id")
        card = await service(request).door_card(campaign_id, contact_id, me.name)
    except VolunteerError as exc:
        return error_response(exc)
    return web.json_response(localize_card(card, gettext(request)))


def install(router: UrlDispatcher) -> None:
    router.add_post("/outcomes", record)
    router.add_post("/station/mode", set_mode)
    router.add_post("/station/dial", dial)
    router.add_get("/calls/{attempt_id}", call_card)
    router.add_get("/door/search", door_search)
    router.add_get("/door/contacts/{contact_id}", door_card)
