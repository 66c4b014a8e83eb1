"""Accounts in the database (SQLAlchemy); the service sees only `Account` values."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from phonebank.accounts.codes import CodeWindow
from phonebank.accounts.service import AccessCodeInfo, Account
from phonebank.db.enums import Role
from phonebank.db.models.accounts import AccessCode, User

# Guests log in with a code, never with a password: no hash can match this.
CODE_ONLY_HASH = "!code-login-only"


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
        self,
        sessions: sessionmaker[Session],
        clock: Callable[[], datetime] = utc_now,
        writers: sessionmaker[Session] | None = None,
    ) -> None:
        self._sessions = sessions
        self._clock = clock
        # Read-then-write work (a double-clicked first login) queues on SQLite instead
        # of failing: see phonebank.db.engine.writer_session_factory.
        self._writers = writers or sessions

    def by_username(self, username: str) -> Account | None:
        with self._sessions() as session:
            user = session.scalars(select(User).where(User.username == username)).one_or_none()
            return _account(user) if user is not None else None

    def by_id(self, user_id: int) -> Account | None:
        with self._sessions() as session:
            user = session.get(User, user_id)
            return _account(user) if user is not None else None

    def current_role(self, user_id: int) -> str | None:
        """The account's role now, or None once it is disabled or gone."""
        account = self.by_id(user_id)
        return account.role if account is not None and account.active else None

    def record_login(self, user_id: int, new_password_hash: str | None) -> None:
        values: dict[str, object] = {"last_login_at": self._clock()}
        if new_password_hash is not None:
            values["password_hash"] = new_password_hash
        with self._writers.begin() as session:
            session.execute(update(User).where(User.id == user_id).values(**values))

    def access_code(self, code: str) -> AccessCodeInfo | None:
        with self._sessions() as session:
            row = session.scalars(select(AccessCode).where(AccessCode.code == code)).one_or_none()
            if row is None:
                return None
            window = CodeWindow(row.valid_from, row.valid_until, row.revoked_at)
            return AccessCodeInfo(row.id, str(row.role.value), window)

    def guest_account(self, code: AccessCodeInfo, username: str, display_name: str) -> Account:
        with self._writers.begin() as session:
            user = session.scalars(select(User).where(User.username == username)).one_or_none()
            if user is None:
                user = User(
                    username=username,
                    display_name=display_name,
                    password_hash=CODE_ONLY_HASH,
                    role=Role(code.role),
                    active=True,
                )
                try:
                    # A savepoint: a double click that lost the race finds the winner's row.
                    with session.begin_nested():
                        session.add(user)
                except IntegrityError:
                    user = session.scalars(select(User).where(User.username == username)).one()
            return _account(user)
