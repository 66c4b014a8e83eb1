"""GET/POST /login and POST /logout."""

from __future__ import annotations

import asyncio

from aiohttp import web

from phonebank.accounts.service import AccountService, LoginError
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
    context = {
        "error": None,
        "username": "",
        "code": "",
        "name": "",
        "next": safe_next(request.query.get("next")),
        # Most people at the login page are volunteers with the code of the day.
        "tab": "account" if request.query.get("with") == "account" else "code",
    }
    return render(request, "login.html", context)


@public
async def login_submit(request: web.Request) -> web.Response:
    form = await request.post()
    username = str(form.get("username", ""))
    password = str(form.get("password", ""))
    target = safe_next(str(form.get("next", "/")))
    client = request.remote or "unknown"
    try:
        # argon2 takes tens of milliseconds: keep it off the event loop.
        account = await asyncio.to_thread(request.app[ACCOUNTS].login, username, password, client)
    except LoginError as exc:
        status = 429 if exc.code == "rate_limited" else 401
        # The template turns the code into a message in the visitor's language.
        context = {
            "error": exc.code,
            "username": username,
            "code": "",
            "name": "",
            "next": target,
            "tab": "account",
        }
        response = render(request, "login.html", context, status=status)
        if exc.retry_after:
            response.headers["Retry-After"] = str(int(exc.retry_after) + 1)
        return response
    start_session(request, account.id, account.role, account.language, account.display_name)
    raise web.HTTPSeeOther(target)


@public
async def code_login_submit(request: web.Request) -> web.Response:
    form = await request.post()
    code = str(form.get("code", ""))
    name = str(form.get("name", ""))
    target = safe_next(str(form.get("next", "/")))
    client = request.remote or "unknown"
    try:
        account = await asyncio.to_thread(request.app[ACCOUNTS].login_with_code, code, name, client)
    except LoginError as exc:
        status = 429 if exc.code == "rate_limited" else 401
        context = {
            "error": exc.code,
            "username": "",
            "code": code,
            "name": name,
            "next": target,
            "tab": "code",
        }
        response = render(request, "login.html", context, status=status)
        if exc.retry_after:
            response.headers["Retry-After"] = str(int(exc.retry_after) + 1)
        return response
    start_session(request, account.id, account.role, account.language, account.display_name)
    raise web.HTTPSeeOther(target)


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
