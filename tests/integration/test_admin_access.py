"""Every route of the app × every role: strangers are sent to the login page (or get
401), lower roles get 403, the right roles get through.

The routes are read from `app.router`, so a route added later without an entry in
EXPECTED fails here until someone decides who may use it.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from aiohttp import web
from aiohttp.web_urldispatcher import StaticResource

from phonebank.db.engine import session_factory
from phonebank.db.models import AccessCode, Campaign, Station
from phonebank.web.security import ROLES, role_allows
from tests.integration.admin_app import NOW, AdminWorld, admin_world, login_features

PUBLIC = "public"
# Route (as registered) → the lowest role that may use it.
EXPECTED: dict[str, str] = {
    "/healthz": PUBLIC,
    "/login": PUBLIC,
    "/login/code": PUBLIC,
    "/logout": "volunteer",
    "/": "volunteer",
    "/admin": "supervisor",
    "/admin/campaigns": "admin",
    "/admin/campaigns/new": "admin",
    "/admin/campaigns/{campaign_id}": "admin",
    "/admin/campaigns/{campaign_id}/status": "admin",
    "/admin/campaigns/{campaign_id}/recordings/{kind}": "admin",
    "/admin/campaigns/{campaign_id}/recordings/{kind}/clear": "admin",
    "/admin/campaigns/{campaign_id}/recordings/{kind}.wav": "admin",
    "/admin/campaigns/{campaign_id}/dispositions": "admin",
    "/admin/campaigns/{campaign_id}/dispositions/new": "admin",
    "/admin/campaigns/{campaign_id}/script": "admin",
    "/admin/campaigns/{campaign_id}/script/preview": "admin",
    "/admin/users": "admin",
    "/admin/users/new": "admin",
    "/admin/users/{user_id}": "admin",
    "/admin/users/{user_id}/password": "admin",
    "/admin/codes": "supervisor",
    "/admin/codes/{code_id}/revoke": "supervisor",
    "/admin/stations": "admin",
    "/admin/stations/new": "admin",
    "/admin/stations/{station_id}": "admin",
    "/admin/lists": "admin",
    "/admin/lists/upload": "admin",
    "/admin/lists/uploads/{token}": "admin",
    "/admin/lists/imports/{job}": "admin",
    "/admin/lists/imports/{job}/status": "admin",
    "/admin/lists/imports/{job}/rejects.csv": "admin",
    "/admin/lists/build": "admin",
    "/admin/lists/{list_id}/refresh": "admin",
    "/admin/dnc": "admin",
    "/admin/dnc/add": "admin",
    "/admin/dnc/import": "admin",
    "/admin/reports": "supervisor",
    "/admin/reports/{kind}.csv": "supervisor",
    "/admin/reports/export/{kind}.csv": "admin",
    "/admin/exports": "admin",
    "/admin/followup": "supervisor",
    "/admin/followup/{campaign_id}": "supervisor",
    "/admin/followup/{campaign_id}/send": "admin",
    "/admin/followup/{campaign_id}/rules": "admin",
    "/admin/followup/sends/{send_id}/cancel": "admin",
}


@pytest.fixture
async def world(migrated_url: str, tmp_path: Path) -> AsyncIterator[AdminWorld]:
    async with admin_world(migrated_url, tmp_path, extra=login_features) as built:
        yield built


def _samples(world: AdminWorld) -> dict[str, str]:
    """A real object for each route parameter, so handlers get past their lookups."""
    with session_factory(world.engine).begin() as session:
        campaign = Campaign(name="Access test")
        station = Station(number="7", channel="DAHDI/7")
        start = datetime.fromtimestamp(NOW, UTC)
        code = AccessCode(code="K7QF2M9P", valid_from=start, valid_until=start + timedelta(hours=1))
        session.add_all([campaign, station, code])
        session.flush()
        return {
            "campaign_id": str(campaign.id),
            "station_id": str(station.id),
            "code_id": str(code.id),
            "user_id": str(world.users["volunteer"]),
            # No such upload, job or list: the handler answers 404 once past the role check.
            "token": "no-such-upload",
            "job": "no-such-job",
            "list_id": "999999",
            "send_id": "999999",
        }


def _routes(app: web.Application) -> list[tuple[str, str, web.AbstractRoute]]:
    found = []
    for route in app.router.routes():
        if isinstance(route.resource, StaticResource) or route.method == "HEAD":
            continue
        assert route.resource is not None
        found.append((route.method, route.resource.canonical, route))
    return found


# `{kind}` takes different values on different routes.
KINDS = (
    ("/admin/reports/export/", "contacts"),
    ("/admin/reports/", "volunteers"),
    ("/admin/campaigns/", "safe_harbor"),
)


def _url(canonical: str, samples: dict[str, str]) -> str:
    kind = (
        next(value for prefix, value in KINDS if canonical.startswith(prefix))
        if ("{kind}" in canonical)
        else ""
    )
    url = canonical.replace("{kind}", kind)
    for name, value in samples.items():
        url = url.replace("{" + name + "}", value)
    assert "{" not in url, f"no sample value for a parameter of {canonical}"
    return url


async def _call(world: AdminWorld, method: str, url: str) -> web.StreamResponse:
    if method == "GET":
        return await world.client.get(url, allow_redirects=False)
    return await world.client.post(url, data={"csrf_token": world.token}, allow_redirects=False)


async def test_every_route_for_every_role(world: AdminWorld) -> None:
    app = world.client.app
    assert app is not None
    samples = _samples(world)
    routes = _routes(app)
    unknown = sorted({c for _m, c, _r in routes} - set(EXPECTED))
    assert unknown == [], "decide who may use these routes and add them to EXPECTED"
    for method, canonical, route in routes:
        assert getattr(route.handler, "__access__", None) is not None, canonical
        url = _url(canonical, samples)
        needed = EXPECTED[canonical]
        for role in (None, *ROLES):
            world.act_as(role)
            response = await _call(world, method, url)
            where = f"{method} {url} as {role}"
            if needed == PUBLIC:
                # A login with no name or password is refused (401) by the page itself.
                assert response.status != 403 and response.status < 500, where
            elif role is None:
                if method == "GET":
                    assert response.status in (302, 303), where
                    assert response.headers["Location"].startswith("/login?next="), where
                else:
                    assert response.status == 401, where
            elif not role_allows(role, needed):
                assert response.status == 403, where
            else:
                assert response.status not in (401, 403), where
                assert response.status < 500, where


async def test_a_stranger_asking_for_admin_goes_to_the_login_page(world: AdminWorld) -> None:
    world.act_as(None)
    page = await world.client.get("/admin", allow_redirects=False)
    assert page.status == 303 and page.headers["Location"] == "/login?next=/admin"
    api = await world.client.get(
        "/admin/campaigns", headers={"Accept": "application/json"}, allow_redirects=False
    )
    assert api.status == 401


async def test_posts_without_the_csrf_token_are_refused(world: AdminWorld) -> None:
    for path in ("/admin/campaigns/new", "/admin/users/new", "/admin/codes"):
        response = await world.client.post(path, data={"name": "x"}, allow_redirects=False)
        assert response.status == 403, path
