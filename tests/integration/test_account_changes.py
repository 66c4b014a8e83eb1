"""An admin's change to an account reaches sessions already open, within seconds."""

from __future__ import annotations

import re

from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import update

from phonebank.accounts import routes as account_routes
from phonebank.accounts.repo import SqlAccountRepo
from phonebank.accounts.service import AccountService
from phonebank.db.engine import make_engine, session_factory
from phonebank.db.enums import Role
from phonebank.db.models import User
from phonebank.db.users import create_user
from phonebank.security.passwords import PasswordHasher
from phonebank.web.accounts_check import ROLE_TTL_SECONDS, AccountRoles
from phonebank.web.app import create_app
from phonebank.web.security import current_session, requires


class Clock:
    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now


@requires("volunteer")
async def whoami(request: web.Request) -> web.Response:
    return web.Response(text=current_session(request).role)


@requires("supervisor")
async def floor(request: web.Request) -> web.Response:
    return web.Response(text="the floor")


def pages(app: web.Application) -> None:
    app.router.add_get("/whoami", whoami)
    app.router.add_get("/floor", floor)


async def test_disabling_or_demoting_an_account_takes_effect_without_a_new_login(
    migrated_url: str,
) -> None:
    engine = make_engine(migrated_url)
    sessions = session_factory(engine)
    with sessions.begin() as session:
        create_user(session, "Inès", "s3cret pass phrase", Role.SUPERVISOR)
    clock = Clock()
    repo = SqlAccountRepo(sessions)
    app = create_app(
        secret_key=b"k" * 32,
        clock=clock,
        features=[account_routes.setup(AccountService(repo, PasswordHasher(), clock)), pages],
        roles=AccountRoles(repo.current_role, clock),
    )
    try:
        async with TestClient(TestServer(app)) as client:
            page = await (await client.get("/login?with=account")).text()
            token = re.search(r'name="csrf_token" value="([^"]+)"', page)
            assert token
            form = {"username": "inès", "password": "s3cret pass phrase", "csrf_token": token[1]}
            await client.post("/login", data=form, allow_redirects=False)
            assert await (await client.get("/whoami")).text() == "supervisor"
            assert (await client.get("/floor")).status == 200

            with sessions.begin() as session:
                session.execute(update(User).values(role=Role.VOLUNTEER))
            # Within the cache's few seconds the old role may still be seen; after, never.
            clock.now += ROLE_TTL_SECONDS + 1
            assert await (await client.get("/whoami")).text() == "volunteer"
            assert (await client.get("/floor")).status == 403

            with sessions.begin() as session:
                session.execute(update(User).values(active=False))
            clock.now += ROLE_TTL_SECONDS + 1
            gone = await client.get("/whoami", allow_redirects=False)
            assert gone.status == 303 and gone.headers["Location"].startswith("/login")
    finally:
        engine.dispose()
