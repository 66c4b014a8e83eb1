"""Every supervisor route × every role: strangers go to the login page (or get 401),
volunteers get 403, supervisors and admins get through. Routes are read from the
app, so a /supervisor route added later without an entry here fails."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiohttp import web
from aiohttp.web_urldispatcher import StaticResource

from phonebank.web.security import ROLES, role_allows
from tests.integration.test_supervisor_wallboard import (
    RecordingAmi,
    SupervisorWorld,
    supervisor_world,
)

EXPECTED: dict[tuple[str, str], str] = {
    ("GET", "/supervisor"): "supervisor",
    ("GET", "/supervisor/ws"): "supervisor",
    ("GET", "/supervisor/state"): "supervisor",
    ("POST", "/supervisor/coach"): "supervisor",
    ("POST", "/supervisor/handset"): "supervisor",
}


@pytest.fixture
async def world(migrated_url: str, tmp_path: Path) -> AsyncIterator[SupervisorWorld]:
    async with supervisor_world(migrated_url, tmp_path, ami=RecordingAmi()) as built:
        yield built


def _routes(app: web.Application) -> list[tuple[str, str, web.AbstractRoute]]:
    found = []
    for route in app.router.routes():
        if isinstance(route.resource, StaticResource) or route.method == "HEAD":
            continue
        assert route.resource is not None
        if route.resource.canonical.startswith("/supervisor"):
            found.append((route.method, route.resource.canonical, route))
    return found


async def test_every_route_for_every_role(world: SupervisorWorld) -> None:
    client = world.web.client
    assert client.app is not None
    routes = _routes(client.app)
    assert sorted((m, c) for m, c, _r in routes) == sorted(EXPECTED)
    form = {"station": "1", "mode": "listen", "handset": "3"}
    for method, path, route in routes:
        assert getattr(route.handler, "__access__", None) == EXPECTED[(method, path)]
        for role in (None, *ROLES):
            world.web.act_as(role)
            where = f"{method} {path} as {role}"
            if method == "GET":
                response = await client.get(path, allow_redirects=False)
            else:
                response = await client.post(
                    path, data={**form, "csrf_token": world.web.token}, allow_redirects=False
                )
            if role is None:
                if method == "GET":
                    assert response.status in (302, 303), where
                    assert response.headers["Location"] == f"/login?next={path}", where
                else:
                    assert response.status == 401, where
            elif not role_allows(role, EXPECTED[(method, path)]):
                assert response.status == 403, where
            else:
                # The WebSocket answers 400 to a plain GET (no upgrade), past the checks.
                assert response.status not in (401, 403), where
                assert response.status < 500, where


async def test_a_stranger_asking_for_the_wallboard(world: SupervisorWorld) -> None:
    world.web.act_as(None)
    page = await world.web.client.get("/supervisor", allow_redirects=False)
    assert page.status == 303 and page.headers["Location"] == "/login?next=/supervisor"
    state = await world.web.client.get(
        "/supervisor/state", headers={"Accept": "application/json"}, allow_redirects=False
    )
    assert state.status == 401


async def test_posts_without_the_csrf_token_are_refused(sqlite_url: str, tmp_path: Path) -> None:
    from phonebank.db import upgrade

    upgrade(sqlite_url)
    ami = RecordingAmi()
    async with supervisor_world(sqlite_url, tmp_path, ami=ami) as world:
        for path in ("/supervisor/coach", "/supervisor/handset"):
            response = await world.web.client.post(
                path, data={"station": "1", "mode": "listen", "handset": "3"}, allow_redirects=False
            )
            assert response.status == 403, path
    assert ami.sent == []
