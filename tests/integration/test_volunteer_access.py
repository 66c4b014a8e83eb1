"""Every route of the app, tried by a stranger and by a volunteer at another station.

The volunteer "vic" sits at station 2; "karim" at station 3 has a call in progress
and a preview offer. Whatever route vic calls with karim's station number,
attempt or lead, vic gets a refusal (403/404/409) or only their own station's
data; a visitor who is not logged in is sent to the login page (401 for JSON and
POST). A route added later without a line in `EXPECTED` fails this test, so
each new route is thought through.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from aiohttp.web_urldispatcher import StaticResource

from phonebank.live.bus import StationMode
from phonebank.live.requests import PreviewOffer
from tests.fixtures.volunteer import World, build_world, csrf_in
from tests.integration.test_volunteer_screen import login, pair

Client = TestClient[web.Request, web.Application]

# (method, route) → what vic may get when aiming at station 3's things.
PUBLIC = {("GET", "/login"), ("POST", "/login"), ("POST", "/login/code"), ("GET", "/healthz")}
EXPECTED: dict[tuple[str, str], set[int]] = {
    ("GET", "/"): {200},
    ("POST", "/logout"): {303},
    ("GET", "/pair"): {200},
    ("POST", "/pair"): {409},  # station 3 is karim's
    ("POST", "/unpair"): {303},  # leaves vic's own station only
    ("GET", "/station"): {200},  # vic's own station's screen
    ("GET", "/station/ws"): {101},  # vic's own station's messages only (checked below)
    ("GET", "/station/summary"): {200},
    ("POST", "/station/mode"): {200},  # reports station 2 (checked below)
    ("POST", "/station/dial"): {409},  # karim's offer is not vic's
    ("POST", "/outcomes"): {404},  # karim's call
    ("GET", "/calls/{attempt_id}"): {404},  # karim's call
    ("GET", "/door"): {200},
    # Door-to-door: any volunteer may look a voter up, by design (not station data).
    ("GET", "/door/search"): {200},
    ("GET", "/door/contacts/{contact_id}"): {200},
    ("GET", "/stations"): {403},  # supervisors only
    ("POST", "/stations/{number}/release"): {403},
    ("GET", "/stations/{number}/qr.svg"): {403},
}


@pytest.fixture
def world(sqlite_url: str) -> Iterator[World]:
    from phonebank.db import upgrade

    upgrade(sqlite_url)
    built = build_world(sqlite_url)
    yield built
    built.engine.dispose()


def _routes(app: web.Application) -> list[tuple[str, str]]:
    found = []
    for route in app.router.routes():
        if isinstance(route.resource, StaticResource) or route.method == "HEAD":
            continue
        assert route.resource is not None
        info = route.resource.get_info()
        found.append((route.method, str(info.get("formatter") or info.get("path"))))
    return sorted(set(found))


async def _request(
    client: Client, method: str, path: str, token: str, world: World, attempt_id: int
) -> int:
    url = path.format(attempt_id=attempt_id, number="3", contact_id=world.contact_id)
    params = {"campaign": str(world.campaign_id), "q": "pay"}
    headers = {"X-CSRF-Token": token, "Accept": "application/json"}
    if method == "GET":
        if path == "/station/ws" and token != "stranger":
            async with client.ws_connect(url) as ws:
                return 101 if not ws.closed else 0
        response = await client.get(url, params=params, allow_redirects=False)
        return response.status
    if path == "/pair":
        body = {"station": "3", "csrf_token": token}
        response = await client.post(url, data=body, allow_redirects=False)
        return response.status
    json_body = {
        "mode": "ready",
        "entry_id": world.entry_id,
        "attempt_id": attempt_id,
        "client_request_id": f"probe-{path}",
        "disposition": "undecided",
        "station": "3",
    }
    response = await client.post(url, json=json_body, headers=headers, allow_redirects=False)
    return response.status


async def test_every_route_keeps_volunteers_to_their_own_station(world: World) -> None:
    app = world.app()
    routes = _routes(app)
    unknown = set(routes) - set(EXPECTED) - PUBLIC
    assert unknown == set(), f"classify these routes in EXPECTED: {sorted(unknown)}"
    server = TestServer(app)
    karim: Client = TestClient(server)
    stranger: Client = TestClient(server)
    vic: Client = TestClient(server)
    await karim.start_server()
    try:
        await login(karim, "karim", world.passwords["karim"])
        assert (await pair(karim, "3")).status == 303
        attempt = world.attempt("3")
        world.desk.offer(
            PreviewOffer("3", world.entry_id, world.campaign_id, world.contact_id, None, "+1", 0)
        )

        # A stranger: sent to the login page, or 401 for JSON and POST.
        token = csrf_in(await (await stranger.get("/login")).text())
        for method, path in routes:
            if (method, path) in PUBLIC:
                continue
            probe = "stranger" if path == "/station/ws" else token
            status = await _request(stranger, method, path, probe, world, attempt.id)
            expected = {303} if method == "GET" and path != "/station/ws" else {401}
            if path == "/station/ws":
                expected = {303}
            assert status in expected, (method, path, status)

        # Vic, at station 2, aiming at karim's station 3.
        await login(vic, "volunteer", world.passwords["volunteer"])
        assert (await pair(vic, "2")).status == 303
        for method, path in routes:
            if (method, path) in PUBLIC or path in ("/logout", "/unpair"):
                continue
            token = csrf_in(await (await vic.get("/station")).text())
            status = await _request(vic, method, path, token, world, attempt.id)
            assert status in EXPECTED[(method, path)], (method, path, status)
        # What vic reported was about station 2 only, and karim's call never reached vic.
        assert {r.station for r in world.reports if r.mode is StationMode.READY} == {"2"}
        assert [d.station for d in world.dials] == []
        async with vic.ws_connect("/station/ws") as ws:
            hello = await ws.receive_json(timeout=5)
            assert hello["station"] == "2"
            world.pop("3", attempt)
            with pytest.raises(asyncio.TimeoutError):
                await ws.receive_json(timeout=0.5)
        # Karim still gets his own call, and may fetch its card; logging out and
        # unpairing leave vic with nothing of station 3 either.
        assert (await karim.get(f"/calls/{attempt.id}")).status == 200
        for path in ("/unpair", "/logout"):
            token = csrf_in(await (await vic.get("/pair")).text())
            status = await _request(vic, "POST", path, token, world, attempt.id)
            assert status == 303
    finally:
        # One server for the three browsers: only the last close stops it.
        await stranger.session.close()
        await vic.session.close()
        await karim.close()
