"""Signed session cookies and CSRF tokens, pure functions with the clock passed in.

A session cookie carries the user id, the role, an issue time and a random
session id, signed with HMAC-SHA256. Nothing secret is in it; tampering breaks
the signature. The CSRF token of a page is an HMAC of the session id, so it is
bound to one browser session and needs no server-side storage.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
from dataclasses import dataclass

SESSION_COOKIE = "phonebank_session"
# Visitors who are not logged in still get a session id so the login form has a CSRF token.
ANON_USER = 0


@dataclass(frozen=True)
class Session:
    sid: str
    user_id: int
    role: str
    issued_at: float
    # The user's language and name, for pages; empty for visitors.
    language: str = ""
    name: str = ""

    @property
    def authenticated(self) -> bool:
        return self.user_id != ANON_USER


def new_session(
    now: float, user_id: int = ANON_USER, role: str = "", language: str = "", name: str = ""
) -> Session:
    return Session(
        sid=secrets.token_urlsafe(18),
        user_id=user_id,
        role=role,
        issued_at=now,
        language=language,
        name=name,
    )


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _sign(key: bytes, payload: bytes) -> str:
    return _b64(hmac.new(key, payload, hashlib.sha256).digest())


def encode_session(key: bytes, session: Session) -> str:
    body = json.dumps(
        {
            "s": session.sid,
            "u": session.user_id,
            "r": session.role,
            "t": session.issued_at,
            "l": session.language,
            "n": session.name,
        },
        separators=(",", ":"),
    ).encode()
    return f"{_b64(body)}.{_sign(key, body)}"


def decode_session(key: bytes, cookie: str | None, now: float, max_age: float) -> Session | None:
    """Return the session if the cookie is authentic and not older than `max_age` seconds."""
    if not cookie or cookie.count(".") != 1:
        return None
    body_text, signature = cookie.split(".")
    try:
        body = _unb64(body_text)
    except ValueError:
        return None
    if not hmac.compare_digest(_sign(key, body), signature):
        return None
    try:
        data = json.loads(body)
        session = Session(
            sid=str(data["s"]),
            user_id=int(data["u"]),
            role=str(data["r"]),
            issued_at=float(data["t"]),
            language=str(data.get("l", "")),
            name=str(data.get("n", "")),
        )
    except (ValueError, KeyError, TypeError, AttributeError):
        return None
    if not 0 <= now - session.issued_at <= max_age:
        return None
    return session


def csrf_token(key: bytes, session: Session) -> str:
    return _sign(key, b"csrf:" + session.sid.encode())


def csrf_valid(key: bytes, session: Session, token: str | None) -> bool:
    return bool(token) and hmac.compare_digest(csrf_token(key, session), token or "")
