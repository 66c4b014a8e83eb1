"""Signed unsubscribe tokens: who (channel, recipient, campaign) in a link nobody can forge.

The token is `base64url(payload).base64url(HMAC-SHA256(secret, "unsubscribe:" + payload))`;
the payload is JSON `[channel, recipient, campaign_id]`. It does not expire: an
unsubscribe link in an old e-mail must keep working.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
from dataclasses import dataclass

from phonebank.followup.errors import TokenError

_PURPOSE = b"unsubscribe:"


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@dataclass(frozen=True)
class Unsubscribe:
    channel: str
    recipient: str
    campaign_id: int | None


def make_token(secret: bytes, channel: str, recipient: str, campaign_id: int | None) -> str:
    payload = json.dumps([channel, recipient, campaign_id], separators=(",", ":")).encode()
    signature = hmac.new(secret, _PURPOSE + payload, hashlib.sha256).digest()
    return f"{_b64(payload)}.{_b64(signature)}"


def verify_token(secret: bytes, token: str) -> Unsubscribe:
    """The unsubscribe request a token carries; TokenError if it was not made with `secret`."""
    payload_text, dot, signature_text = token.partition(".")
    if not dot:
        raise TokenError("unsubscribe token is malformed (no signature part)")
    try:
        payload, signature = _unb64(payload_text), _unb64(signature_text)
    except (binascii.Error, ValueError):
        raise TokenError("unsubscribe token is not base64url") from None
    expected = hmac.new(secret, _PURPOSE + payload, hashlib.sha256).digest()
    if not hmac.compare_digest(signature, expected):
        raise TokenError("unsubscribe token signature does not match")
    try:
        channel, recipient, campaign_id = json.loads(payload)
    except (ValueError, TypeError):
        raise TokenError("unsubscribe token payload is not valid") from None
    return Unsubscribe(str(channel), str(recipient), campaign_id)


def unsubscribe_url(base: str, token: str) -> str:
    return f"{base.rstrip('/')}/{token}"
