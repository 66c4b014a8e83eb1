"""The ledger writer: in order, never dropping a write for a database outage."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any, cast

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from phonebank.db import make_engine, session_factory
from phonebank.dialer.writer import LedgerWriter, is_outage


class Flaky:
    """Sessions on a real SQLite database whose first `failures` transactions fail."""

    def __init__(self, sessions: sessionmaker[Session], failures: int) -> None:
        self.sessions = sessions
        self.failures = failures

    @contextlib.contextmanager
    def begin(self) -> Iterator[Session]:
        if self.failures > 0:
            self.failures -= 1
            raise OperationalError("BEGIN", {}, Exception("connection refused"))
        with self.sessions.begin() as session:
            yield session


@pytest.fixture
def sessions() -> Iterator[sessionmaker[Session]]:
    engine = make_engine("sqlite://")
    with engine.begin() as connection:
        connection.execute(text("CREATE TABLE log (n INTEGER)"))
    yield session_factory(engine)
    engine.dispose()


def insert(n: int) -> Any:
    def work(session: Session) -> int:
        session.execute(text("INSERT INTO log (n) VALUES (:n)"), {"n": n})
        return n

    return work


def logged(sessions: sessionmaker[Session]) -> list[int]:
    with sessions() as session:
        return [row[0] for row in session.execute(text("SELECT n FROM log ORDER BY rowid"))]


async def test_writes_go_through_an_outage_in_order(sessions: sessionmaker[Session]) -> None:
    pauses: list[float] = []
    flaky = Flaky(sessions, failures=5)
    writer = LedgerWriter(
        cast(sessionmaker[Session], flaky), first_pause=0.01, max_pause=0.04, sleep=pauses.append
    )
    writer.start()
    futures = [writer.submit(insert(n)) for n in range(20)]
    await writer.drain()
    assert writer.close() == 0
    assert [f.result() for f in futures] == list(range(20))
    assert logged(sessions) == list(range(20))
    assert writer.retries == 5
    assert pauses == [0.01, 0.02, 0.04, 0.04, 0.04]  # growing, capped
    assert writer.outage_since is None


async def test_a_failing_write_is_reported_and_the_queue_goes_on(
    sessions: sessionmaker[Session],
) -> None:
    def broken(session: Session) -> None:
        raise IntegrityError("INSERT", {}, Exception("duplicate"))

    writer = LedgerWriter(sessions)
    writer.start()
    first = writer.submit(insert(1))
    bad = writer.submit(broken)
    last = writer.submit(insert(2))
    await writer.drain()
    writer.close()
    assert first.result() == 1 and last.result() == 2
    assert isinstance(bad.exception(), IntegrityError)
    assert logged(sessions) == [1, 2]


def test_close_gives_up_on_a_database_that_never_comes_back(
    sessions: sessionmaker[Session],
) -> None:
    flaky = Flaky(sessions, failures=10**9)
    writer = LedgerWriter(cast(sessionmaker[Session], flaky), first_pause=0.001, max_pause=0.001)
    writer.start()
    writer.submit(insert(1))
    writer.submit(insert(2))
    assert writer.close(timeout=0.05) == 2  # both still owed, and said so
    assert logged(sessions) == []


def test_outage_errors() -> None:
    assert is_outage(OperationalError("x", {}, Exception("down")))
    assert not is_outage(IntegrityError("x", {}, Exception("dup")))
    assert not is_outage(ValueError("bug"))
