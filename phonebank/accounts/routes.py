"""GET/POST /login and POST /logout."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from aiohttp import web

from phonebank.accounts.service import Account, AccountService, LoginError
from phonebank.web.app import Feature, render
from phonebank.web.security import end_session, public, requires, start_session

ACCOUNTS = web.AppKey("accounts", AccountService)


def safe_next(target: str | None) -> str:
    """Only local paths: an attacker's link must not bounce a user to another site."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    return target


@public
async def login_form(request: web.Request) -> web.Response:
    # Most people at the login page are volunteers with the code of the day.
    tab = "account" if request.query.get("with") == "account" else "code"
    context = _page(safe_next(request.query.get("next")), tab)
    return render(request, "login.html", context)


def _page(target: str, tab: str, **typed: str) -> dict[str, object]:
    """The login page's context; the template turns an error code into a message."""
    page: dict[str, object] = {"error": None, "username": "", "code": "", "name": ""}
    page.update(typed, next=target, tab=tab)
    return page


async def _login(
    request: web.Request, attempt: Callable[[str], Account], page: dict[str, object]
) -> web.Response:
    """Run a login attempt off the event loop (argon2 takes tens of ms); answer either way."""
    client = request.remote or "unknown"
    try:
        account = await asyncio.to_thread(attempt, client)
    except LoginError as exc:
        status = 429 if exc.code == "rate_limited" else 401
        response = render(request, "login.html", page | {"error": exc.code}, status=status)
        if exc.retry_after:
            response.headers["Retry-After"] = str(int(exc.retry_after) + 1)
        return response
    start_session(request, account.id, account.role, account.language, account.display_name)
    raise web.HTTPSeeOther(str(page["next"]))


@public
async def login_submit(request: web.Request) -> web.Response:
    form = await request.post()
    username = str(form.get("username", ""))
    password = str(form.get("password", ""))
    page = _page(safe_next(str(form.get("next", "/"))), "account", username=username)
    service = request.app[ACCOUNTS]
    return await _login(request, lambda client: service.login(username, password, client), page)


@public
async def code_login_submit(request: web.Request) -> web.Response:
    form = await request.post()
    code = str(form.get("code", ""))
    name = str(form.get("name", ""))
    page = _page(safe_next(str(form.get("next", "/"))), "code", code=code, name=name)
    service = request.app[ACCOUNTS]
    return await _login(request, lambda client: service.login_with_code(code, name, client), page)


@requires("volunteer")
async def logout(request: web.Request) -> web.Response:
    end_session(request)
    raise web.HTTPSeeOther("/login")


def setup(service: AccountService) -> Feature:
    def install(app: web.Application) -> None:
        app[ACCOUNTS] = service
        app.router.add_get("/login", login_form, name="login")
        app.router.add_post("/login", login_submit)
        app.router.add_post("/login/code", code_login_submit)
        app.router.add_post("/logout", logout, name="logout")

    return install
