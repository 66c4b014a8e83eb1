"""Accounts in the database (SQLAlchemy); the service sees only `Account` values."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from phonebank.accounts.service import Account
from phonebank.db.models.accounts import User


def utc_now() -> datetime:
    return datetime.now(UTC)


def _account(user: User) -> Account:
    return Account(
        id=user.id,
        username=user.username,
        display_name=user.display_name or user.username,
        role=str(user.role.value),
        language=str(user.language.value),
        active=user.active,
        password_hash=user.password_hash,
    )


class SqlAccountRepo:
    def __init__(
        self, sessions: sessionmaker[Session], clock: Callable[[], datetime] = utc_now
    ) -> None:
        self._sessions = sessions
        self._clock = clock

    def by_username(self, username: str) -> Account | None:
        with self._sessions() as session:
            user = session.scalars(select(User).where(User.username == username)).one_or_none()
            return _account(user) if user is not None else None

    def by_id(self, user_id: int) -> Account | None:
        with self._sessions() as session:
            user = session.get(User, user_id)
            return _account(user) if user is not None else None

    def record_login(self, user_id: int, new_password_hash: str | None) -> None:
        values: dict[str, object] = {"last_login_at": self._clock()}
        if new_password_hash is not None:
            values["password_hash"] = new_password_hash
        with self._sessions.begin() as session:
            session.execute(update(User).where(User.id == user_id).values(**values))
