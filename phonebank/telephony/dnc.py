"""The do-not-call writer the call-back line's `optout` handler uses (database side)."""

from __future__ import annotations

from sqlalchemy import Engine

from phonebank.db.engine import writer_session_factory
from phonebank.lists.dnc import add_e164


class SqlDncWriter:
    """Puts a number on the do-not-call list, as `phonebank dnc add` does.

    Called from a FastAGI worker thread: it opens its own short transaction. The
    matching phones of every campaign become do-not-call and not callable.
    """

    def __init__(self, engine: Engine) -> None:
        # Several callers may press 1 at once: each opt-out queues for the write lock.
        self._sessions = writer_session_factory(engine)

    def __call__(self, e164: str, *, source: str, reason: str) -> bool:
        """True when the number was not on the list before."""
        with self._sessions.begin() as session:
            result = add_e164(session.connection(), [e164], source=source, reason=reason)
        return result.added == 1
