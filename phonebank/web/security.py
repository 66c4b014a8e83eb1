"""Access control for every route: sessions, CSRF and roles, enforced by middlewares.

Every handler must declare who may call it (`@public` or `@requires(role, ...)`);
a handler that declares nothing is refused, so a forgotten check fails closed.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from aiohttp import web
from aiohttp.web_urldispatcher import StaticResource

from phonebank.web.accounts_check import AccountRoles
from phonebank.web.sessions import (
    SESSION_COOKIE,
    Session,
    csrf_valid,
    decode_session,
    encode_session,
    new_session,
)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
H = TypeVar("H", bound=Callable[..., Any])

ROLES = ("volunteer", "supervisor", "admin")
# A higher role may do what a lower one may.
_RANK = {role: rank for rank, role in enumerate(ROLES)}
_UNSAFE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}
PUBLIC = "public"


@dataclass(frozen=True)
class SecuritySettings:
    key: bytes
    max_age: float
    secure_cookies: bool
    clock: Callable[[], float]
    # The accounts' current roles; None (tests of pages alone) trusts the cookie.
    roles: AccountRoles | None = None


SECURITY = web.AppKey("security", SecuritySettings)
SESSION = web.RequestKey("session", Session)
SESSION_CHANGED = web.RequestKey("session_changed", bool)


def public(handler: H) -> H:
    handler.__access__ = PUBLIC  # type: ignore[attr-defined]
    return handler


def public_by_token(handler: H) -> H:
    """Public, and authenticated by a signed token in its URL instead of a CSRF token.

    For links sent out of the site (an e-mail's unsubscribe link): the mail provider's
    one-click POST (RFC 8058) cannot carry our CSRF token, and a cross-site attacker
    cannot forge the URL's token. The handler must check that token itself.
    """
    handler.__access__ = PUBLIC  # type: ignore[attr-defined]
    handler.__token_checked__ = True  # type: ignore[attr-defined]
    return handler


def requires(role: str) -> Callable[[H], H]:
    """Allow users whose role is `role` or higher."""
    if role not in _RANK:
        raise ValueError(f"unknown role {role!r}")

    def mark(handler: H) -> H:
        handler.__access__ = role  # type: ignore[attr-defined]
        return handler

    return mark


def role_allows(user_role: str, needed: str) -> bool:
    return user_role in _RANK and _RANK[user_role] >= _RANK[needed]


def current_session(request: web.Request) -> Session:
    return request[SESSION]


def start_session(
    request: web.Request, user_id: int, role: str, language: str = "", name: str = ""
) -> Session:
    """Replace the visitor's session with a fresh one (a new id defeats session fixation)."""
    settings = request.app[SECURITY]
    session = new_session(settings.clock(), user_id, role, language, name)
    request[SESSION] = session
    request[SESSION_CHANGED] = True
    return session


def end_session(request: web.Request) -> None:
    settings = request.app[SECURITY]
    request[SESSION] = new_session(settings.clock())
    request[SESSION_CHANGED] = True


def _access_of(request: web.Request, handler: Handler) -> str | None:
    route = request.match_info.route
    if isinstance(route.resource, StaticResource):
        return PUBLIC
    if request.match_info.http_exception is not None:
        # 404/405 from the router: let aiohttp answer it.
        return PUBLIC
    access = getattr(handler, "__access__", None)
    return access if isinstance(access, str) else None


@web.middleware
async def security_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    settings = request.app[SECURITY]
    now = settings.clock()
    session = decode_session(
        settings.key, request.cookies.get(SESSION_COOKIE), now, settings.max_age
    )
    request[SESSION_CHANGED] = session is None
    if session is not None and session.authenticated and settings.roles is not None:
        role = await settings.roles.role(session.user_id)
        if role is None:
            # Disabled or deleted since the login: the cookie no longer logs anyone in.
            session, request[SESSION_CHANGED] = None, True
        elif role != session.role:
            session, request[SESSION_CHANGED] = dataclasses.replace(session, role=role), True
    request[SESSION] = session or new_session(now)

    access = _access_of(request, handler)
    if access is None:
        raise web.HTTPForbidden(text="this page declares no access rule")
    token_checked = getattr(handler, "__token_checked__", False) is True
    if request.method in _UNSAFE_METHODS and not token_checked:
        token = request.headers.get("X-CSRF-Token")
        if token is None and request.content_type in (
            "application/x-www-form-urlencoded",
            "multipart/form-data",
        ):
            form = await request.post()
            field = form.get("csrf_token")
            token = field if isinstance(field, str) else None
        if not csrf_valid(settings.key, request[SESSION], token):
            raise web.HTTPForbidden(
                text="missing or invalid CSRF token; reload the page and try again"
            )
    if access != PUBLIC:
        current = request[SESSION]
        if not current.authenticated:
            accept = request.headers.get("Accept", "")
            wants_json = "application/json" in accept and "text/html" not in accept
            if request.method == "GET" and not wants_json:
                raise web.HTTPSeeOther(f"/login?next={request.rel_url.path_qs}")
            raise web.HTTPUnauthorized(text="log in first")
        if not role_allows(current.role, access):
            raise web.HTTPForbidden(text="your role may not open this page")

    try:
        response = await handler(request)
    except web.HTTPException as exc:
        # Redirects and errors are responses too: they must carry a new session cookie.
        _finish(request, exc, settings)
        raise
    _finish(request, response, settings)
    return response


def _finish(request: web.Request, response: web.StreamResponse, settings: SecuritySettings) -> None:
    if request[SESSION_CHANGED] and not response.prepared:
        response.set_cookie(
            SESSION_COOKIE,
            encode_session(settings.key, request[SESSION]),
            max_age=int(settings.max_age),
            httponly=True,
            samesite="Lax",
            secure=settings.secure_cookies,
            path="/",
        )
    if not response.prepared:
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        response.headers.setdefault(
            "Content-Security-Policy",
            "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'; form-action 'self'",
        )
