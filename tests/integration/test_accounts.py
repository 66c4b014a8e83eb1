"""Logging in against the real databases: argon2 hashes, rehash on login, last login."""

from __future__ import annotations

import argon2
import pytest
from sqlalchemy import select

from phonebank.accounts.repo import SqlAccountRepo
from phonebank.accounts.service import AccountService, LoginError
from phonebank.db.engine import make_engine, session_factory
from phonebank.db.enums import Role
from phonebank.db.migrate import upgrade
from phonebank.db.models import User
from phonebank.db.users import create_user
from phonebank.security.passwords import PasswordHasher


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest) -> str:
    name = "sqlite_url" if request.param == "sqlite" else "fresh_database_url"
    url: str = request.getfixturevalue(name)
    upgrade(url)
    return url


def test_login_rehashes_an_old_hash_and_records_the_time(database_url: str) -> None:
    engine = make_engine(database_url)
    sessions = session_factory(engine)
    weak = PasswordHasher(argon2.PasswordHasher(time_cost=1, memory_cost=8, parallelism=1))
    with sessions.begin() as session:
        create_user(session, "Marie", "correct horse", Role.SUPERVISOR, hasher=weak)
    service = AccountService(SqlAccountRepo(sessions), PasswordHasher(), lambda: 0.0)

    with pytest.raises(LoginError):
        service.login("marie", "wrong", "127.0.0.1")
    account = service.login(" MARIE ", "correct horse", "127.0.0.1")
    assert account.role == "supervisor"

    with sessions() as session:
        user = session.scalars(select(User).where(User.username == "marie")).one()
    assert user.last_login_at is not None
    assert not PasswordHasher().needs_rehash(user.password_hash)
    assert PasswordHasher().verify(user.password_hash, "correct horse")
    assert service.current(account.id) == service.login("marie", "correct horse", "127.0.0.2")
    engine.dispose()
