"""The volunteer screen on the real databases: pairing, the call pop over the
WebSocket, outcomes recorded once, callbacks in the voter's zone, consents,
preview mode and door-to-door entry."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import event, func, select

from phonebank.db.enums import ConsentChannel, LeadStatus, OutcomeChannel
from phonebank.db.models import (
    Callback,
    CallListEntry,
    Consent,
    Contact,
    DoNotCallEntry,
    Outcome,
    Script,
    SurveyAnswer,
    SurveyQuestion,
)
from phonebank.live.bus import CallAnswered, CallEnded, StationMode
from phonebank.live.requests import PreviewOffer
from phonebank.volunteer.http import VOLUNTEER
from phonebank.volunteer.prefetch import CallKey
from tests.fixtures.volunteer import World, build_world, csrf_in

Client = TestClient[web.Request, web.Application]


@pytest.fixture
def world(migrated_url: str) -> AsyncIterator[World]:
    built = build_world(migrated_url)
    yield built
    built.engine.dispose()


async def _client(world: World, language: str = "fr-FR") -> Client:
    client: Client = TestClient(TestServer(world.app()), headers={"Accept-Language": language})
    await client.start_server()
    return client


async def login(client: Client, username: str, password: str) -> None:
    token = csrf_in(await (await client.get("/login")).text())
    response = await client.post(
        "/login",
        data={"username": username, "password": password, "csrf_token": token},
        allow_redirects=False,
    )
    assert response.status == 303, await response.text()


async def pair(client: Client, station: str) -> Any:
    token = csrf_in(await (await client.get("/pair")).text())
    return await client.post(
        "/pair", data={"station": station, "csrf_token": token}, allow_redirects=False
    )


async def screen_token(client: Client) -> str:
    page = await client.get("/station")
    assert page.status == 200
    return csrf_in(await page.text())


async def post_json(client: Client, url: str, body: dict[str, Any], token: str) -> Any:
    return await client.post(
        url, json=body, headers={"X-CSRF-Token": token, "Accept": "application/json"}
    )


async def volunteer_at(world: World, station: str, user: str = "volunteer") -> Client:
    client = await _client(world)
    await login(client, user, world.passwords[user])
    response = await pair(client, station)
    assert response.status == 303 and response.headers["Location"] == "/station"
    return client


async def test_pairing_one_volunteer_per_station_until_released(world: World) -> None:
    first = await _client(world)
    second = await _client(world)
    boss = await _client(world)
    try:
        await login(first, "volunteer", world.passwords["volunteer"])
        unpaired = await first.get("/station", allow_redirects=False)
        assert unpaired.status == 303 and unpaired.headers["Location"] == "/pair"
        assert (await pair(first, "99")).status == 404
        assert (await pair(first, "3")).status == 303
        page = await (await first.get("/station")).text()
        assert "Poste 3" in page

        await login(second, "karim", world.passwords["karim"])
        taken = await pair(second, "3")
        assert taken.status == 409
        assert "Demandez à un superviseur" in await taken.text()
        # Volunteers cannot release a station, a supervisor can.
        token = csrf_in(await (await second.get("/pair")).text())
        refused = await second.post(
            "/stations/3/release", data={"csrf_token": token}, allow_redirects=False
        )
        assert refused.status == 403
        await login(boss, "sam", world.passwords["sam"])
        listing = await (await boss.get("/stations")).text()
        assert "Utilisé par Bénévole Démo" in listing
        qr = await boss.get("/stations/3/qr.svg")
        assert qr.content_type == "image/svg+xml" and b"<svg" in await qr.read()
        released = await boss.post(
            "/stations/3/release", data={"csrf_token": csrf_in(listing)}, allow_redirects=False
        )
        assert released.status == 303
        assert (await pair(second, "3")).status == 303
        # The first screen's cookie no longer gives it the station.
        again = await first.get("/station", allow_redirects=False)
        assert again.status == 303 and again.headers["Location"] == "/pair"
        # The QR code's link fills in the number; pairing still takes a click (a POST).
        form = await (await first.get("/pair?station=7")).text()
        assert 'value="7"' in form
    finally:
        for client in (first, second, boss):
            await client.close()


async def test_call_pops_on_the_screen_and_a_reconnect_catches_up(world: World) -> None:
    client = await volunteer_at(world, "5")
    try:
        async with client.ws_connect("/station/ws") as ws:
            hello = await ws.receive_json(timeout=5)
            assert hello == {"type": "hello", "station": "5", "sent_at": hello["sent_at"]}
            attempt = world.attempt("5")
            world.pop("5", attempt)
            card = await ws.receive_json(timeout=5)
        assert card["type"] == "call" and card["attempt_id"] == attempt.id
        contact = card["contact"]
        assert (contact["first_name"], contact["city"], contact["precinct"]) == (
            "Maëlle",
            "Saint-Denis",
            "0401",
        )
        assert contact["age"] == datetime.now(UTC).year - 1961 - (
            (datetime.now(UTC).month, datetime.now(UTC).day) < (4, 18)
        )
        assert card["phone"]["time_zone"] == "Indian/Reunion"
        assert card["script"]["opening"].startswith("Bonjour Maëlle, je m'appelle Bénévole Démo")
        assert "Claire Rivière" in card["script"]["opening"]
        assert (
            card["survey"][3]["prompt"] == "De 1 à 5, quelle chance de voter pour Claire Rivière ?"
        )
        labels = {d["code"]: (d["label"], d["key"]) for d in card["dispositions"]}
        # The account speaks French: default labels are shown in French.
        assert labels["strong_support"] == ("Soutien ferme", "1")
        assert "Réunion" not in card["campaign"]["briefing"]
        assert any(r.mode is StationMode.PAUSED for r in world.reports)  # the screen closed

        async with client.ws_connect("/station/ws") as ws:
            await ws.receive_json(timeout=5)
            caught_up = await ws.receive_json(timeout=5)
            assert caught_up["attempt_id"] == attempt.id
            world.bus.publish(CallEnded("5", attempt.id, 0.0))
            ended = await ws.receive_json(timeout=5)
            assert ended["type"] == "ended" and ended["attempt_id"] == attempt.id
        # Another station's screen hears nothing of station 5.
        other = await volunteer_at(world, "6", user="karim")
        try:
            async with other.ws_connect("/station/ws") as ws:
                await ws.receive_json(timeout=5)
                world.pop("5", world.attempt("5"))
                with pytest.raises(asyncio.TimeoutError):
                    await ws.receive_json(timeout=0.5)
        finally:
            await other.close()
    finally:
        await client.close()


async def test_a_pop_after_the_answer_reads_no_contact_at_the_pop(world: World) -> None:
    statements: list[str] = []

    def note(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        statements.append(statement)

    def contact_reads() -> int:
        return sum("FROM contacts" in s or "FROM phone_numbers" in s for s in statements)

    async def answered(attempt: Any, contact_id: int) -> None:
        """CallAnswered, as the runner publishes it on AMD's verdict; returns once the
        screens' side has read that contact ahead."""
        statements.clear()
        world.bus.publish(
            CallAnswered(
                attempt.id, attempt.campaign_id, contact_id, attempt.phone_id, attempt.e164, 0.0
            )
        )
        key = CallKey(attempt.campaign_id, contact_id, attempt.phone_id, attempt.e164)
        pending = client.server.app[VOLUNTEER].prefetched.get(attempt.id, key)
        assert pending is not None
        await asyncio.wait_for(pending, 5)
        assert contact_reads() > 0

    event.listen(world.engine, "before_cursor_execute", note)
    client = await volunteer_at(world, "4")
    try:
        async with client.ws_connect("/station/ws") as ws:
            await ws.receive_json(timeout=5)
            attempt = world.attempt("4")
            assert attempt.contact_id is not None
            await answered(attempt, attempt.contact_id)
            statements.clear()
            world.pop("4", attempt)
            card = await ws.receive_json(timeout=5)
            assert card["type"] == "call" and card["attempt_id"] == attempt.id
            assert card["contact"]["first_name"] == "Maëlle"
            assert card["script"]["opening"].startswith("Bonjour Maëlle, je m'appelle Bénévole")
            assert statements == []  # neither the contact nor the script: both read ahead

            # The call ends: what was read ahead goes with it.
            svc = client.server.app[VOLUNTEER]
            assert len(svc.prefetched) == 1
            world.bus.publish(CallEnded("4", attempt.id, 0.0))
            assert (await ws.receive_json(timeout=5))["type"] == "ended"
            assert len(svc.prefetched) == 0

            # A pop naming another contact than the answer did gets its own contact,
            # read at the pop: what was read ahead is never shown for another call.
            attempt = world.attempt("4")
            other = world.pop("4", attempt)  # no answer before it: read at the pop
            assert (await ws.receive_json(timeout=5))["contact"]["id"] == other.contact_id
            await answered(attempt, contact_id=other.contact_id + 1)
            statements.clear()
            world.pop("4", attempt)
            card = await ws.receive_json(timeout=5)
            assert card["contact"]["id"] == other.contact_id
            assert contact_reads() > 0
    finally:
        await client.close()
        event.remove(world.engine, "before_cursor_execute", note)


async def test_outcome_with_answers_callback_and_consents_is_recorded_once(world: World) -> None:
    client = await volunteer_at(world, "2")
    try:
        token = await screen_token(client)
        attempt = world.attempt("2")
        voter_day = (datetime.now(ZoneInfo("Indian/Reunion")) + timedelta(days=2)).date()
        body = {
            "client_request_id": "req-0001",
            "attempt_id": attempt.id,
            "disposition": "call_back",
            "notes": "Rappeler après le dîner",
            "answers": [
                {"key": "will_vote", "options": ["yes"]},
                {"key": "why_not", "text": "hors du chemin"},  # not on the path: dropped
                {"key": "topics", "options": ["transport", "schools"]},
                {"key": "support", "number": 4},
                {"key": "help", "options": ["yes"]},
            ],
            "callback": {"local": f"{voter_day.isoformat()}T19:30"},
            "consent": {"email": True, "sms": False},
        }
        first, second = await asyncio.gather(
            post_json(client, "/outcomes", body, token),
            post_json(client, "/outcomes", body, token),
        )
        statuses = sorted([first.status, second.status])
        assert statuses == [200, 201], statuses
        a, b = await first.json(), await second.json()
        assert a["outcome_id"] == b["outcome_id"]
        created = a if a["created"] else b
        assert created["callback"]["voter_local"] == f"{voter_day.isoformat()} 19:30"
        assert created["consents"] == ["email"]
        resend = await post_json(client, "/outcomes", body, token)
        assert resend.status == 200 and (await resend.json())["created"] is False

        with world.session() as session:
            outcome = session.scalars(select(Outcome)).one()
            assert outcome.attempt_id == attempt.id and outcome.channel is OutcomeChannel.PHONE
            answers = session.scalars(
                select(SurveyAnswer).where(SurveyAnswer.outcome_id == outcome.id)
            ).all()
            assert len(answers) == 5  # yes, two topics, a 4, yes
            assert sorted(a.value_number for a in answers if a.value_number) == [4.0]
            callback = session.scalars(select(Callback)).one()
            due = datetime.combine(voter_day, datetime.min.time()).replace(
                hour=19, minute=30, tzinfo=ZoneInfo("Indian/Reunion")
            )
            assert callback.due_at == due.astimezone(UTC) and callback.time_zone == "Indian/Reunion"
            consent = session.scalars(select(Consent)).one()
            assert consent.channel is ConsentChannel.EMAIL and consent.granted
            assert consent.recorded_by_id == outcome.recorded_by_id is not None
            assert consent.source == "call"
            entry = session.get(CallListEntry, world.entry_id)
            assert entry is not None and entry.status is LeadStatus.PENDING
            assert entry.next_attempt_at == callback.due_at and entry.claimed_by is None
            assert entry.last_outcome == "call_back"
    finally:
        await client.close()


async def test_an_outcome_is_checked_against_the_script_its_card_showed(world: World) -> None:
    client = await volunteer_at(world, "2")
    try:
        token = await screen_token(client)
        attempt = world.attempt("2")
        with world.session() as session:
            shown = session.scalars(select(Script).where(Script.active.is_(True))).one()
            shown_id, campaign_id = shown.id, shown.campaign_id
        # During the call an admin saves a new version without the question asked.
        with world.session() as session, session.begin():
            session.get(Script, shown_id).active = False  # type: ignore[union-attr]
            session.add(Script(campaign_id=campaign_id, version=99, active=True, body={}))
        body: dict[str, Any] = {
            "client_request_id": "req-script-1",
            "attempt_id": attempt.id,
            "disposition": "undecided",
            "answers": [{"key": "will_vote", "options": ["yes"]}],
            "consent": {},
        }
        # Without the card's version the answer no longer fits the active script ...
        refused = await post_json(client, "/outcomes", body, token)
        assert refused.status == 422, await refused.text()
        # ... with it, the outcome and its answer are recorded.
        body |= {"client_request_id": "req-script-2", "script_id": shown_id}
        saved = await post_json(client, "/outcomes", body, token)
        assert saved.status == 201, await saved.text()
        with world.session() as session:
            answer = session.scalars(select(SurveyAnswer)).one()
            question = session.get(SurveyQuestion, answer.question_id)
            assert question is not None and question.script_id == shown_id
    finally:
        await client.close()


async def test_bad_outcomes_are_refused_and_record_nothing(world: World) -> None:
    client = await volunteer_at(world, "2")
    try:
        token = await screen_token(client)
        attempt = world.attempt("2")
        base = {"attempt_id": attempt.id, "disposition": "undecided"}
        cases = [
            ({"disposition": "nope"}, 422, "unknown_disposition"),
            ({"answers": [{"key": "will_vote", "options": ["maybe"]}]}, 422, "bad_answer"),
            ({"answers": [{"key": "support", "number": 9}]}, 422, "bad_answer"),
            ({"disposition": "call_back"}, 422, "callback_required"),
            (
                {"disposition": "call_back", "callback": {"local": "2001-01-01T10:00"}},
                422,
                "bad_callback",
            ),
            ({"attempt_id": "x"}, 400, "bad_request"),
            ({"attempt_id": attempt.id + 1000}, 404, "not_your_call"),
        ]
        for number, (change, status, code) in enumerate(cases):
            response = await post_json(
                client, "/outcomes", base | change | {"client_request_id": f"bad-{number}"}, token
            )
            assert response.status == status, (change, await response.text())
            assert (await response.json())["error"] == code
        with world.session() as session:
            assert session.scalar(select(func.count(Outcome.id))) == 0
    finally:
        await client.close()


async def test_do_not_call_outcome_lists_the_number_and_closes_the_lead(world: World) -> None:
    client = await volunteer_at(world, "2")
    try:
        token = await screen_token(client)
        attempt = world.attempt("2")
        body = {
            "client_request_id": "dnc-1",
            "attempt_id": attempt.id,
            "disposition": "do_not_call",
        }
        assert (await post_json(client, "/outcomes", body, token)).status == 201
        with world.session() as session:
            assert session.scalar(select(DoNotCallEntry.e164)) == attempt.e164
            entry = session.get(CallListEntry, world.entry_id)
            assert entry is not None and entry.status is LeadStatus.EXCLUDED
    finally:
        await client.close()


async def test_an_expired_session_loses_no_outcome(world: World) -> None:
    client = await volunteer_at(world, "4")
    try:
        token = await screen_token(client)
        attempt = world.attempt("4")
        body = {"client_request_id": "kept-1", "attempt_id": attempt.id, "disposition": "undecided"}
        # The session cookie is gone (expired, or the browser was restarted).
        client.session.cookie_jar.clear(lambda cookie: cookie.key == "phonebank_session")
        refused = await post_json(client, "/outcomes", body, token)
        assert refused.status in (401, 403)
        # The page kept it; after logging in again it sends it with the new token.
        await login(client, "volunteer", world.passwords["volunteer"])
        fresh = await screen_token(client)  # the pairing cookie is the user's: no re-pairing
        assert (await post_json(client, "/outcomes", body, fresh)).status == 201
        assert (await post_json(client, "/outcomes", body, fresh)).status == 200
        with world.session() as session:
            assert session.scalar(select(func.count(Outcome.id))) == 1
    finally:
        await client.close()


async def test_ready_pause_and_preview_dial(world: World) -> None:
    client = await volunteer_at(world, "8")
    try:
        token = await screen_token(client)
        ready = await post_json(client, "/station/mode", {"mode": "ready"}, token)
        assert ready.status == 200
        report = world.reports[-1]
        assert (report.station, report.mode) == ("8", StationMode.READY)
        assert report.user_id is not None
        assert (await post_json(client, "/station/mode", {"mode": "nap"}, token)).status == 400

        async with client.ws_connect("/station/ws") as ws:
            await ws.receive_json(timeout=5)
            world.desk.offer(
                PreviewOffer(
                    "8",
                    world.entry_id,
                    world.campaign_id,
                    world.contact_id,
                    world.phone_id,
                    "+262262000111",
                    0.0,
                )
            )
            offer = await ws.receive_json(timeout=5)
            assert offer["type"] == "offer" and offer["contact"]["last_name"] == "Payet"
            wrong = await post_json(
                client, "/station/dial", {"entry_id": world.entry_id + 1}, token
            )
            assert wrong.status == 409
            sent = await post_json(client, "/station/dial", {"entry_id": world.entry_id}, token)
            assert sent.status == 202
            assert [d.station for d in world.dials] == ["8"]
            again = await post_json(client, "/station/dial", {"entry_id": world.entry_id}, token)
            assert again.status == 409 and len(world.dials) == 1
    finally:
        await client.close()


async def test_door_to_door_search_and_entry(world: World) -> None:
    client = await _client(world)
    try:
        await login(client, "karim", world.passwords["karim"])
        page = await (await client.get("/door")).text()
        token = csrf_in(page)
        found = await client.get(
            "/door/search", params={"campaign": str(world.campaign_id), "q": "pay", "city": "saint"}
        )
        results = (await found.json())["results"]
        assert [r["last_name"] for r in results] == ["Payet"]
        nobody = await client.get(
            "/door/search", params={"campaign": str(world.campaign_id), "q": "100%_"}
        )
        assert (await nobody.json())["results"] == []
        card = await (
            await client.get(f"/door/contacts/{world.contact_id}?campaign={world.campaign_id}")
        ).json()
        assert card["type"] == "door" and card["survey"][0]["key"] == "will_vote"
        body = {
            "client_request_id": "door-1",
            "channel": "door",
            "campaign_id": world.campaign_id,
            "contact_id": world.contact_id,
            "disposition": "strong_support",
            "answers": [
                {"key": "will_vote", "options": ["no"]},
                {"key": "why_not", "text": "Travail"},
            ],
            "consent": {"sms": True},
        }
        assert (await post_json(client, "/outcomes", body, token)).status == 201
        with world.session() as session:
            outcome = session.scalars(select(Outcome)).one()
            assert outcome.channel is OutcomeChannel.DOOR and outcome.attempt_id is None
            contact = session.get(Contact, world.contact_id)
            assert contact is not None and contact.last_contacted_at is not None
            assert session.scalars(select(Consent)).one().source == "door"
            entry = session.get(CallListEntry, world.entry_id)
            assert entry is not None and entry.status is LeadStatus.COMPLETED
        summary = await (await client.get("/station/summary")).text()
        assert "Soutien ferme" in summary and 'id="summary-doors">1<' in summary
    finally:
        await client.close()
