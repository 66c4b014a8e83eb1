"""One thread that writes the dialer's record, in order, through database outages.

The runner lives on the asyncio loop and must never wait for the database; every
write goes through `LedgerWriter.submit`, which returns at once. Work runs one
item at a time in submission order, each in its own transaction, so the updates
of one attempt land in the order their events came. When the database is
unreachable (an operational error: connection refused or dropped, SQLite busy),
the same item is retried with a growing pause until it goes through: an event
is never dropped for an outage, only delayed, and the log says so. An item that
fails for any other reason (a bug, a constraint) is logged with its traceback
and its future carries the error; the queue goes on.
"""

from __future__ import annotations

import asyncio
import logging
import queue
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, InvalidStateError
from typing import Any, TypeVar

from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

log = logging.getLogger(__name__)

T = TypeVar("T")
Work = Callable[[Session], Any]


def is_outage(exc: BaseException) -> bool:
    """Errors that go away by themselves: the server is down, restarting, or busy."""
    if isinstance(exc, OperationalError):
        return True
    return isinstance(exc, DBAPIError) and bool(exc.connection_invalidated)


class LedgerWriter:
    def __init__(
        self,
        sessions: sessionmaker[Session],
        *,
        name: str = "dialer-ledger",
        first_pause: float = 0.2,
        max_pause: float = 10.0,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._sessions = sessions
        self._name = name
        self._first_pause = first_pause
        self._max_pause = max_pause
        self._sleep = sleep
        self._queue: queue.Queue[tuple[Work | None, Future[Any]] | None] = queue.Queue()
        self._thread: threading.Thread | None = None
        self._stopping = threading.Event()
        self.outage_since: float | None = None  # time.monotonic() of the first failure
        self.retries = 0

    def start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._loop, name=self._name, daemon=True)
            self._thread.start()

    def submit(self, work: Callable[[Session], T]) -> Future[T]:
        """Queue `work(session)`; it runs in a transaction of its own, after the earlier work."""
        future: Future[T] = Future()
        self._queue.put((work, future))
        return future

    def backlog(self) -> int:
        return self._queue.qsize()

    async def drain(self) -> None:
        """Wait until everything submitted before this call is written (or failed)."""
        marker: Future[None] = Future()
        self._queue.put((None, marker))
        await asyncio.wrap_future(marker)

    def close(self, timeout: float = 30.0) -> int:
        """Write what is queued, then stop; returns how many items were left unwritten."""
        if self._thread is None:
            return 0
        self._queue.put(None)
        self._thread.join(timeout)
        if self._thread.is_alive():
            self._stopping.set()  # an outage outlived the timeout: stop retrying
            self._thread.join(5.0)
        left = 0
        while not self._queue.empty():
            item = self._queue.get_nowait()
            left += item is not None and item[0] is not None
        if left:
            log.error("dialer ledger stopped with %d writes not done (database unreachable)", left)
        self._thread = None
        return left

    def _loop(self) -> None:
        while True:
            item = self._queue.get()
            if item is None:
                return
            work, future = item
            if work is None:
                _settle(future, None)
                continue
            if not self._run(work, future):
                return

    def _run(self, work: Work, future: Future[Any]) -> bool:
        pause = self._first_pause
        while True:
            try:
                with self._sessions.begin() as session:
                    result = work(session)
            except Exception as exc:
                if not is_outage(exc):
                    log.exception("dialer ledger write failed: %s", getattr(work, "__name__", work))
                    _settle(future, None, exc)
                    return True
                self.retries += 1
                if self.outage_since is None:
                    self.outage_since = time.monotonic()
                    log.warning("database unreachable, dialer writes queued and retried: %s", exc)
                if self._stopping.is_set():
                    self._queue.put((work, future))  # counted as left by close()
                    return False
                self._sleep(pause)
                pause = min(self._max_pause, pause * 2)
                continue
            if self.outage_since is not None:
                log.warning(
                    "database back after %.1f s; %d dialer writes waiting",
                    time.monotonic() - self.outage_since,
                    self._queue.qsize(),
                )
                self.outage_since = None
            _settle(future, result)
            return True


def _settle(future: Future[Any], result: Any, exc: BaseException | None = None) -> None:
    try:
        if exc is not None:
            future.set_exception(exc)
        else:
            future.set_result(result)
    except InvalidStateError:  # its waiter gave up (cancelled); the write itself is done
        pass
