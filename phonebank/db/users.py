"""User accounts in the database: create, find, list (used by the CLI and the web app)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from phonebank.db.enums import Language, Role
from phonebank.db.models import User
from phonebank.security.passwords import PasswordHasher

USERNAME_MAX = 64


class UserError(ValueError):
    """A user cannot be created as asked; the message says why."""


def normalize_username(username: str) -> str:
    """Usernames are compared case-insensitively: stored stripped and lower-case."""
    return username.strip().lower()


def validate_username(username: str) -> str:
    name = normalize_username(username)
    if not name:
        raise UserError("the username is empty")
    if len(name) > USERNAME_MAX:
        raise UserError(f"the username is longer than {USERNAME_MAX} characters")
    if any(ch.isspace() for ch in name):
        raise UserError(f"the username {name!r} contains spaces")
    return name


def create_user(
    session: Session,
    username: str,
    password: str,
    role: Role,
    *,
    display_name: str = "",
    language: Language = Language.FR,
    hasher: PasswordHasher | None = None,
) -> User:
    """Add a user (flushed, not committed); UserError if the name is taken or invalid."""
    name = validate_username(username)
    if get_user(session, name) is not None:
        raise UserError(f"a user named {name!r} already exists")
    user = User(
        username=name,
        display_name=display_name or name,
        password_hash=(hasher or PasswordHasher()).hash(password),
        role=role,
        language=language,
        active=True,
    )
    try:
        # A savepoint, so a lost race leaves the caller's transaction usable.
        with session.begin_nested():
            session.add(user)
    except IntegrityError:
        # Another process created the same name between the check and the insert.
        raise UserError(f"a user named {name!r} already exists") from None
    return user


def get_user(session: Session, username: str) -> User | None:
    return session.scalar(select(User).where(User.username == normalize_username(username)))


def list_users(session: Session) -> list[User]:
    return list(session.scalars(select(User).order_by(User.username)))
