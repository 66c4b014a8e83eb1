"""GET/POST /unsubscribe/{token}: the link at the foot of every e-mail, for anyone who has it.

The recipient is not logged in: the signed token in the link says who they are
(`tokens.py`), so the routes are public. GET only shows a confirmation page (mail
scanners open links; they must not unsubscribe anyone); POST, from that page's
form with its CSRF token, records the unsubscribe and confirms it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from aiohttp import web
from sqlalchemy.orm import Session, sessionmaker

from phonebank.db.enums import FollowUpChannel
from phonebank.followup import repo
from phonebank.followup.email_service import apply_unsubscribe
from phonebank.followup.errors import TokenError
from phonebank.followup.tokens import Unsubscribe, verify_token
from phonebank.web.app import Feature, render
from phonebank.web.security import public, public_by_token


@dataclass(frozen=True)
class UnsubscribeService:
    sessions: sessionmaker[Session]
    secret: bytes
    clock: Callable[[], float]

    def check(self, token: str) -> tuple[Unsubscribe, bool]:
        """Who the link is for, and whether they already unsubscribed; TokenError if forged."""
        request = verify_token(self.secret, token)
        with self.sessions() as session:
            done = repo.is_suppressed(session, FollowUpChannel(request.channel), request.recipient)
        return request, done

    def apply(self, token: str) -> str:
        with self.sessions() as session:
            now = datetime.fromtimestamp(self.clock(), UTC)
            return apply_unsubscribe(session, self.secret, token, now)


UNSUBSCRIBE = web.AppKey("unsubscribe", UnsubscribeService)


def _invalid(request: web.Request) -> web.Response:
    return render(request, "followup/unsubscribe.html", {"state": "invalid"}, status=404)


@public
async def confirm_page(request: web.Request) -> web.Response:
    token = request.match_info["token"]
    try:
        who, done = await asyncio.to_thread(request.app[UNSUBSCRIBE].check, token)
    except (TokenError, ValueError):
        return _invalid(request)
    context = {"state": "done" if done else "confirm", "address": who.recipient, "token": token}
    response = render(request, "followup/unsubscribe.html", context)
    # The page carries the token: keep it out of caches and of other sites' Referer.
    response.headers["Cache-Control"] = "no-store"
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


@public_by_token
async def unsubscribe(request: web.Request) -> web.Response:
    # Both the confirmation page's form and a mail provider's one-click POST
    # (RFC 8058, body "List-Unsubscribe=One-Click") land here; the token decides.
    token = request.match_info["token"]
    try:
        address = await asyncio.to_thread(request.app[UNSUBSCRIBE].apply, token)
    except (TokenError, ValueError):
        return _invalid(request)
    response = render(request, "followup/unsubscribe.html", {"state": "done", "address": address})
    response.headers["Cache-Control"] = "no-store"
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


def setup(service: UnsubscribeService) -> Feature:
    def install(app: web.Application) -> None:
        app[UNSUBSCRIBE] = service
        app.router.add_get("/unsubscribe/{token}", confirm_page, name="unsubscribe")
        app.router.add_post("/unsubscribe/{token}", unsubscribe)

    return install
