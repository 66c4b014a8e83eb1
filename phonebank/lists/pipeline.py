"""Database work of an import, in order, on one connection, beside the thread that parses.

On PostgreSQL the work runs on a thread of its own: while the server indexes one chunk,
this process reads and matches the next (the server is another process, on the other
core). On SQLite (one process, one file) it runs at once, in the caller's thread, in
the same order. Once a piece of work fails, the work queued after it is not run: each
of them gives the first failure, so the caller sees the cause, not its consequences.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import TypeVar

T = TypeVar("T")


class Pipeline:
    def __init__(self, threaded: bool) -> None:
        self._pool = ThreadPoolExecutor(1, "phonebank-import") if threaded else None
        self._failed: BaseException | None = None

    def submit(self, work: Callable[[], T]) -> Future[T]:
        if self._pool is not None:
            return self._pool.submit(self._run, work)
        future: Future[T] = Future()
        try:
            future.set_result(self._run(work))
        except BaseException as exc:  # handed to whoever waits for it, as the pool would
            future.set_exception(exc)
        return future

    def _run(self, work: Callable[[], T]) -> T:
        if self._failed is not None:
            raise self._failed
        try:
            return work()
        except BaseException as exc:
            self._failed = exc
            raise

    def close(self) -> None:
        """Wait for the work queued so far to end (or be skipped after a failure)."""
        if self._pool is not None:
            self._pool.shutdown(wait=True)
