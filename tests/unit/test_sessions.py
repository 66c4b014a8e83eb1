from __future__ import annotations

from phonebank.web.ratelimit import AttemptLimiter
from phonebank.web.sessions import (
    csrf_token,
    csrf_valid,
    decode_session,
    encode_session,
    new_session,
)

KEY = b"k" * 32


def test_session_round_trip() -> None:
    session = new_session(1000.0, user_id=7, role="admin", language="en", name="Élodie")
    cookie = encode_session(KEY, session)
    assert decode_session(KEY, cookie, 1001.0, 60) == session


def test_tampered_or_foreign_or_expired_cookie_is_refused() -> None:
    session = new_session(1000.0, user_id=7, role="volunteer")
    cookie = encode_session(KEY, session)
    forged = encode_session(b"other-key", new_session(1000.0, user_id=7, role="admin"))
    body, sig = cookie.split(".")
    assert decode_session(KEY, forged, 1001.0, 60) is None
    assert decode_session(KEY, body[:-2] + "xx." + sig, 1001.0, 60) is None
    assert decode_session(KEY, cookie, 1061.0, 60) is None
    assert decode_session(KEY, "garbage", 1001.0, 60) is None
    assert decode_session(KEY, None, 1001.0, 60) is None


def test_csrf_token_is_bound_to_the_session() -> None:
    one, two = new_session(0.0), new_session(0.0)
    assert csrf_valid(KEY, one, csrf_token(KEY, one))
    assert not csrf_valid(KEY, two, csrf_token(KEY, one))
    assert not csrf_valid(KEY, one, None)
    assert not csrf_valid(KEY, one, "")


def test_limiter_blocks_after_limit_and_forgets_after_window() -> None:
    limiter = AttemptLimiter(limit=3, window=60)
    for t in (0.0, 1.0, 2.0):
        assert limiter.blocked_for("ip:1", t) == 0
        limiter.record_failure("ip:1", t)
    assert limiter.blocked_for("ip:1", 3.0) == 57.0
    assert limiter.blocked_for("ip:2", 3.0) == 0
    assert limiter.blocked_for("ip:1", 61.0) == 0  # the first failure left the window


def test_limiter_reset_after_success() -> None:
    limiter = AttemptLimiter(limit=1, window=60)
    limiter.record_failure("u", 0.0)
    assert limiter.blocked_for("u", 1.0) > 0
    limiter.reset("u")
    assert limiter.blocked_for("u", 1.0) == 0
