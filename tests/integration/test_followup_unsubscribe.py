"""The unsubscribe link of an e-mail, opened by an anonymous recipient (aiohttp test client)."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import Engine, select

from phonebank.db.enums import ConsentChannel, FollowUpChannel
from phonebank.db.models import Consent
from phonebank.followup import repo
from phonebank.followup.email_service import Unsubscribing
from phonebank.followup.routes import UnsubscribeService, setup
from phonebank.web.app import create_app
from tests.fixtures.followup_world import World, build_world

SECRET = b"w" * 40
Client = TestClient[web.Request, web.Application]


@pytest.fixture
def world(migrated_engine: Engine) -> World:
    return build_world(migrated_engine)


@pytest.fixture
async def client(world: World) -> AsyncIterator[Client]:
    service = UnsubscribeService(world.sessions, SECRET, lambda: 1_800_000_000.0)
    app = create_app(secret_key=SECRET, clock=lambda: 1_800_000_000.0, features=[setup(service)])
    async with TestClient(TestServer(app), headers={"Accept-Language": "fr-FR"}) as test_client:
        yield test_client


def _path(address: str) -> str:
    url = Unsubscribing(SECRET, "https://pb.example.org/unsubscribe").url(address, None)
    return url.removeprefix("https://pb.example.org")


def _csrf(page: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert match, page
    return match.group(1)


def _suppressed(world: World, address: str) -> bool:
    with world.sessions() as session:
        return repo.is_suppressed(session, FollowUpChannel.EMAIL, address)


async def test_get_only_asks_then_post_unsubscribes(client: Client, world: World) -> None:
    path = _path("alice@ex.org")
    page = await client.get(path)
    assert page.status == 200
    html = await page.text()
    assert "Se désabonner" in html  # the browser asked for French
    assert "alice@ex.org" in html
    assert page.headers["Cache-Control"] == "no-store"
    # A mail scanner opening the link changes nothing.
    assert not _suppressed(world, "alice@ex.org")

    done = await client.post(path, data={"csrf_token": _csrf(html)})
    assert done.status == 200
    assert "alice@ex.org" in await done.text()
    assert _suppressed(world, "alice@ex.org")
    with world.sessions() as session:
        latest = session.scalars(
            select(Consent)
            .where(
                Consent.contact_id == world.ids["Alice"], Consent.channel == ConsentChannel.EMAIL
            )
            .order_by(Consent.id.desc())
        ).first()
    assert latest is not None and (latest.granted, latest.source) == (False, "email-unsubscribe")
    # Opening the link again says it is done, in English when asked.
    again = await client.get(path + "?lang=en")
    assert "You are unsubscribed" in await again.text()


async def test_a_mail_providers_one_click_post_unsubscribes(client: Client, world: World) -> None:
    # RFC 8058: the provider POSTs to the List-Unsubscribe URL without our page (so
    # without its CSRF token); the signed token in the URL is the authentication.
    response = await client.post(_path("b@ex.org"), data={"List-Unsubscribe": "One-Click"})
    assert response.status == 200
    assert _suppressed(world, "b@ex.org")


async def test_forged_or_cut_links_are_refused(client: Client, world: World) -> None:
    path = _path("b@ex.org")
    forged = path[:-3] + ("AAA" if not path.endswith("AAA") else "BBB")
    page = await client.get(forged)
    assert page.status == 404
    html = await page.text()
    assert "Ce lien n'est pas valide" in html
    cut = await client.get("/unsubscribe/abc")
    assert cut.status == 404
    token = _csrf(await (await client.get(_path("emma@ex.org"))).text())
    response = await client.post(forged, data={"csrf_token": token})
    assert response.status == 404
    assert not _suppressed(world, "b@ex.org")
