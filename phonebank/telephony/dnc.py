"""The do-not-call writer the call-back line's `optout` handler uses (database side)."""

from __future__ import annotations

from sqlalchemy.orm import Session, sessionmaker

from phonebank.lists.dnc import add_e164


class SqlDncWriter:
    """Puts a number on the do-not-call list, as `phonebank dnc add` does.

    Called from a FastAGI worker thread: it opens its own short transaction. The
    matching phones of every campaign become do-not-call and not callable.
    """

    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self._sessions = sessions

    def __call__(self, e164: str, *, source: str, reason: str) -> bool:
        """True when the number was not on the list before."""
        with self._sessions.begin() as session:
            result = add_e164(session.connection(), [e164], source=source, reason=reason)
        return result.added == 1
