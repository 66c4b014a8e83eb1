"""The admin feature on a real database, with one logged-in account per role.

Sessions are signed cookies made here (phonebank.web.sessions), so a test can act as
any role without a login round trip; the accounts exist in the database, because
the admin pages record who did what.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path

import argon2
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import Engine

from phonebank.admin import routes as admin_routes
from phonebank.admin.recordings import RecordingStore
from phonebank.db.engine import make_engine, session_factory
from phonebank.db.enums import Language, Role
from phonebank.db.users import create_user
from phonebank.security.passwords import PasswordHasher
from phonebank.web.app import Feature, create_app
from phonebank.web.sessions import SESSION_COOKIE, csrf_token, encode_session, new_session

KEY = b"k" * 32
NOW = 1_800_000_000.0  # 2027-01-15
ROLES = ("volunteer", "supervisor", "admin")
# Cheap argon2 settings: the real ones cost tens of milliseconds per hash.
FAST_HASHER = PasswordHasher(argon2.PasswordHasher(time_cost=1, memory_cost=8, parallelism=1))

Client = TestClient[web.Request, web.Application]


@dataclass
class AdminWorld:
    client: Client
    engine: Engine
    users: dict[str, int]
    work_dir: Path
    recordings: RecordingStore
    token: str = ""

    def act_as(self, role: str | None) -> None:
        """Send the next requests as this role's account (None: a stranger)."""
        jar = self.client.session.cookie_jar
        jar.clear()
        user = self.users.get(role or "", 0)
        session = new_session(NOW, user, role or "", "en", f"{role or 'nobody'}-name")
        jar.update_cookies({SESSION_COOKIE: encode_session(KEY, session)})
        self.token = csrf_token(KEY, session)

    async def csrf(self, path: str = "/admin") -> str:
        page = await (await self.client.get(path)).text()
        match = re.search(r'name="csrf_token" value="([^"]+)"', page)
        assert match, page[:500]
        return match.group(1)

    async def post(
        self, path: str, data: dict[str, str], *, page_path: str = "/admin"
    ) -> web.StreamResponse:
        token = await self.csrf(page_path)
        return await self.client.post(
            path, data={**data, "csrf_token": token}, allow_redirects=False
        )


def make_users(engine: Engine) -> dict[str, int]:
    ids = {}
    with session_factory(engine).begin() as session:
        for role in ROLES:
            user = create_user(
                session,
                f"{role}1",
                "password-1234",
                Role(role),
                language=Language.EN,
                hasher=FAST_HASHER,
            )
            session.flush()
            ids[role] = user.id
    return ids


@contextlib.asynccontextmanager
async def admin_world(
    url: str, tmp_path: Path, extra: Callable[[Engine], list[Feature]] | None = None
) -> AsyncIterator[AdminWorld]:
    """The admin feature (and the features `extra` builds on the same engine)."""
    engine = make_engine(url)
    users = make_users(engine)
    recordings = RecordingStore(tmp_path / "sounds", "/var/lib/asterisk/sounds/phonebank")
    feature = admin_routes.setup(
        engine=engine,
        clock=lambda: NOW,
        hasher=FAST_HASHER,
        recordings=recordings,
        work_dir=tmp_path / "admin-work",
    )
    app = create_app(
        secret_key=KEY, clock=lambda: NOW, features=[feature, *(extra(engine) if extra else [])]
    )
    try:
        async with TestClient(TestServer(app), headers={"Accept-Language": "en"}) as client:
            world = AdminWorld(client, engine, users, tmp_path / "admin-work", recordings)
            world.act_as("admin")
            yield world
    finally:
        engine.dispose()
