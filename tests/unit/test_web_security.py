"""The web layer's guards, on the real aiohttp app with in-memory accounts."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from phonebank.accounts import routes as account_routes
from phonebank.accounts.codes import CodeWindow
from phonebank.accounts.service import AccessCodeInfo, Account, AccountService
from phonebank.health import routes as health_routes
from phonebank.health.service import HealthService
from phonebank.web.app import create_app
from phonebank.web.ratelimit import AttemptLimiter


class PlainHasher:
    """Stands in for argon2 in fast tests; the argon2 hasher has its own tests."""

    def verify(self, password_hash: str, password: str) -> bool:
        return password_hash == f"plain:{password}"

    def dummy_verify(self, password: str) -> None:
        return None

    def needs_rehash(self, password_hash: str) -> bool:
        return False

    def hash(self, password: str) -> str:
        return f"plain:{password}"


class MemoryRepo:
    def __init__(self, *accounts: Account) -> None:
        self._accounts = {a.username: a for a in accounts}
        self.logins: list[tuple[int, str | None]] = []
        window = CodeWindow(
            datetime(1970, 1, 1, tzinfo=UTC), datetime(2099, 1, 1, tzinfo=UTC), None
        )
        self._codes = {"K7QF2M9P": AccessCodeInfo(1, "volunteer", window)}

    def by_username(self, username: str) -> Account | None:
        return self._accounts.get(username)

    def by_id(self, user_id: int) -> Account | None:
        return next((a for a in self._accounts.values() if a.id == user_id), None)

    def record_login(self, user_id: int, new_password_hash: str | None) -> None:
        self.logins.append((user_id, new_password_hash))

    def access_code(self, code: str) -> AccessCodeInfo | None:
        return self._codes.get(code)

    def guest_account(self, code: AccessCodeInfo, username: str, display_name: str) -> Account:
        if username not in self._accounts:
            uid = 100 + len(self._accounts)
            self._accounts[username] = Account(
                uid, username, display_name, code.role, "fr", True, "!"
            )
        return self._accounts[username]


@dataclass
class Link:
    connected: bool = False


def _account(uid: int, name: str, role: str, language: str, active: bool = True) -> Account:
    return Account(uid, name, name.title(), role, language, active, f"plain:{name}-pw")


@pytest.fixture
async def client() -> AsyncIterator[TestClient[web.Request, web.Application]]:
    now = [1_000_000.0]
    repo = MemoryRepo(
        _account(1, "alice", "admin", "en"),
        _account(2, "vic", "volunteer", "fr"),
        _account(3, "gone", "admin", "en", active=False),
    )
    accounts = AccountService(
        repo, PlainHasher(), lambda: now[0], AttemptLimiter(limit=3, window=300)
    )
    health = HealthService(lambda: None, Link(connected=True), lambda: now[0])
    app = create_app(
        secret_key=b"x" * 32,
        clock=lambda: now[0],
        features=[health_routes.setup(health), account_routes.setup(accounts)],
    )
    async with TestClient(
        TestServer(app), headers={"Accept-Language": "en-GB,en;q=0.9"}
    ) as test_client:
        yield test_client


async def _csrf(client: TestClient[web.Request, web.Application]) -> str:
    page = await (await client.get("/login")).text()
    match = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert match, page
    return match.group(1)


async def test_healthz_is_public_json(client: TestClient[web.Request, web.Application]) -> None:
    response = await client.get("/healthz")
    assert response.status == 200
    body = await response.json()
    assert body["status"] == "ok" and body["database"] == "ok" and body["asterisk"] == "connected"


async def test_pages_need_a_login(client: TestClient[web.Request, web.Application]) -> None:
    response = await client.get("/", allow_redirects=False)
    assert response.status == 303
    assert response.headers["Location"].startswith("/login")
    api = await client.get("/", headers={"Accept": "application/json"}, allow_redirects=False)
    assert api.status == 401


async def test_login_without_csrf_token_is_refused(
    client: TestClient[web.Request, web.Application],
) -> None:
    response = await client.post("/login", data={"username": "alice", "password": "alice-pw"})
    assert response.status == 403


async def test_login_with_token_then_logout(
    client: TestClient[web.Request, web.Application],
) -> None:
    token = await _csrf(client)
    response = await client.post(
        "/login",
        data={"username": "Alice", "password": "alice-pw", "csrf_token": token},
        allow_redirects=False,
    )
    assert response.status == 303
    cookie = response.cookies["phonebank_session"]
    assert cookie["httponly"] and cookie["samesite"] == "Lax"
    home = await client.get("/")
    assert home.status == 200
    assert "Phone bank status" in await home.text()
    # The session id changed at login, so the pre-login token no longer works.
    stale = await client.post("/logout", data={"csrf_token": token}, allow_redirects=False)
    assert stale.status == 403
    page = await home.text()
    fresh = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert fresh
    out = await client.post("/logout", data={"csrf_token": fresh.group(1)}, allow_redirects=False)
    assert out.status == 303
    assert (await client.get("/", allow_redirects=False)).status == 303


async def test_wrong_password_and_inactive_user_are_refused(
    client: TestClient[web.Request, web.Application],
) -> None:
    token = await _csrf(client)
    for username, password in (("alice", "nope"), ("gone", "gone-pw"), ("nobody", "x")):
        response = await client.post(
            "/login", data={"username": username, "password": password, "csrf_token": token}
        )
        assert response.status == 401
        assert "wrong password" in await response.text()


async def test_login_rate_limit(client: TestClient[web.Request, web.Application]) -> None:
    token = await _csrf(client)
    for _ in range(3):
        await client.post(
            "/login", data={"username": "vic", "password": "bad", "csrf_token": token}
        )
    response = await client.post(
        "/login", data={"username": "vic", "password": "vic-pw", "csrf_token": token}
    )
    assert response.status == 429
    assert int(response.headers["Retry-After"]) > 0


async def test_next_parameter_cannot_leave_the_site(
    client: TestClient[web.Request, web.Application],
) -> None:
    token = await _csrf(client)
    response = await client.post(
        "/login",
        data={
            "username": "vic",
            "password": "vic-pw",
            "csrf_token": token,
            "next": "//evil.example/x",
        },
        allow_redirects=False,
    )
    assert response.headers["Location"] == "/"


async def test_security_headers(client: TestClient[web.Request, web.Application]) -> None:
    response = await client.get("/login")
    assert response.headers["X-Frame-Options"] == "DENY"
    assert "default-src 'self'" in response.headers["Content-Security-Policy"]


async def test_route_without_access_rule_is_refused() -> None:
    async def undeclared(request: web.Request) -> web.Response:
        return web.Response(text="secret")

    def feature(app: web.Application) -> None:
        app.router.add_get("/undeclared", undeclared)

    app = create_app(secret_key=b"y" * 32, clock=lambda: 0.0, features=[feature])
    async with TestClient(TestServer(app)) as test_client:
        assert (await test_client.get("/undeclared")).status == 403


async def test_pages_speak_the_browser_language_or_the_chosen_one(
    client: TestClient[web.Request, web.Application],
) -> None:
    french = await client.get("/login", headers={"Accept-Language": "fr-FR,fr;q=0.9"})
    text = await french.text()
    assert '<html lang="fr">' in text and "Se connecter" in text
    english = await (await client.get("/login")).text()
    assert '<html lang="en">' in english and "Log in" in english
    # A choice on the page sticks (cookie), whatever the browser says afterwards.
    chosen = await client.get("/login?lang=fr")
    assert "Se connecter" in await chosen.text()
    assert "Se connecter" in await (await client.get("/login")).text()


async def test_account_language_applies_after_login(
    client: TestClient[web.Request, web.Application],
) -> None:
    token = await _csrf(client)
    await client.post("/login", data={"username": "vic", "password": "vic-pw", "csrf_token": token})
    home = await (await client.get("/")).text()
    # vic's account says French; the browser asks for English: the account wins.
    assert "<h1>État du centre d" in home
    assert "Vic · bénévole" in home


async def test_login_with_the_code_of_the_day(
    client: TestClient[web.Request, web.Application],
) -> None:
    token = await _csrf(client)
    bad = await client.post(
        "/login/code", data={"code": "AAAA-AAAA", "name": "Léa", "csrf_token": token}
    )
    assert bad.status == 401
    assert "This code is not valid today" in await bad.text()
    good = await client.post(
        "/login/code",
        data={"code": "k7qf 2m9p", "name": "  Léa ", "csrf_token": token},
        allow_redirects=False,
    )
    assert good.status == 303, await good.text()
    home = await (await client.get("/")).text()
    assert "Léa · bénévole" in home


async def test_code_guessing_is_rate_limited(
    client: TestClient[web.Request, web.Application],
) -> None:
    token = await _csrf(client)
    for guess in ("AAAAAAAA", "BBBBBBBB", "CCCCCCCC"):
        await client.post("/login/code", data={"code": guess, "name": "x", "csrf_token": token})
    blocked = await client.post(
        "/login/code", data={"code": "K7QF2M9P", "name": "x", "csrf_token": token}
    )
    assert blocked.status == 429
