"""Logging in against the real databases: argon2 hashes, rehash on login, last login."""

from __future__ import annotations

import re
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import argon2
import pytest
from sqlalchemy import select

from phonebank.accounts.repo import SqlAccountRepo
from phonebank.accounts.service import AccountService, LoginError
from phonebank.cli.main import main
from phonebank.db.engine import make_engine, session_factory, writer_session_factory
from phonebank.db.enums import Role
from phonebank.db.models import AccessCode, User
from phonebank.db.users import create_user
from phonebank.security.passwords import PasswordHasher


def test_login_rehashes_an_old_hash_and_records_the_time(migrated_url: str) -> None:
    engine = make_engine(migrated_url)
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


def test_code_login_end_to_end(
    migrated_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("PHONEBANK_DATABASE_URL", migrated_url)
    assert main(["user", "code", "create", "--hours", "2"]) == 0
    printed = capsys.readouterr().out
    match = re.search(r"code (\w{4}-\w{4}) \(volunteer\)", printed)
    assert match, printed
    code = match.group(1)

    engine = make_engine(migrated_url)
    service = AccountService(SqlAccountRepo(session_factory(engine)), PasswordHasher(), time.time)
    first = service.login_with_code(code.lower(), "Léa", "127.0.0.1")
    again = service.login_with_code(code, " léa ", "127.0.0.1")
    other = service.login_with_code(code, "Karim", "127.0.0.1")
    assert first.id == again.id != other.id
    assert first.display_name == "Léa" and first.role == "volunteer"
    # A guest cannot log in with a password, whatever it types.
    with pytest.raises(LoginError):
        service.login(first.username, "!code-login-only", "127.0.0.9")

    assert main(["user", "code", "revoke", code]) == 0
    with pytest.raises(LoginError) as refused:
        service.login_with_code(code, "Léa", "127.0.0.2")
    assert refused.value.code == "bad_code"
    engine.dispose()


def test_a_double_clicked_first_code_login_makes_one_account(migrated_url: str) -> None:
    engine = make_engine(migrated_url)
    sessions = session_factory(engine)
    with sessions.begin() as session:
        now = datetime.now(UTC)
        session.add(
            AccessCode(code="K7QF2M9P", valid_from=now, valid_until=now + timedelta(hours=1))
        )
    repo = SqlAccountRepo(sessions, writers=writer_session_factory(engine))
    service = AccountService(repo, PasswordHasher(), time.time)
    with ThreadPoolExecutor(max_workers=4) as pool:
        accounts = list(
            pool.map(lambda _: service.login_with_code("K7QF2M9P", "Nour", "10.0.0.1"), range(4))
        )
    assert len({account.id for account in accounts}) == 1
    engine.dispose()
