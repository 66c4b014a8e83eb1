"""Writing a chunk while the next one is parsed: one write in flight at most."""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import wait as futures_wait


class ChunkWriter:
    """Runs each chunk's write while the next chunk is read and parsed (PostgreSQL only).

    The server indexes the rows of chunk N (its own process, the second core) while
    this process parses chunk N+1, which needs no database. The connection is used
    by one thread at a time: the next lookups wait for the write before them.
    """

    def __init__(self, threaded: bool) -> None:
        self._pool = ThreadPoolExecutor(1, "phonebank-import") if threaded else None
        self._pending: Future[None] | None = None
        self._after: Callable[[], None] | None = None

    def submit(self, write: Callable[[], None], after: Callable[[], None]) -> None:
        self.wait()
        if self._pool is None:
            write()
            after()
            return
        self._pending, self._after = self._pool.submit(write), after

    def wait(self) -> None:
        """Wait for the write in flight; its errors are raised here."""
        pending, after = self._pending, self._after
        self._pending = self._after = None
        if pending is not None and after is not None:
            pending.result()
            after()

    def close(self) -> None:
        """Let a write in flight end (success or not) before the transaction does."""
        if self._pending is not None:
            futures_wait([self._pending])
            self._pending = self._after = None
        if self._pool is not None:
            self._pool.shutdown()
