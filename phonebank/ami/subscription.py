"""A bounded, never-blocking queue of AMI events for one consumer.

The AMI reader hands each event to every subscription with `offer`, which
never waits: Asterisk drops an AMI client that stops reading (its
`writetimeout`), and that would cost every call in the office. When a
consumer falls `maxsize` events behind, the oldest event is dropped and
`dropped` counts it; a consumer that sees `dropped` grow must reconcile
(e.g. list live channels) rather than trust its picture of the calls.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Collection
from types import TracebackType

from phonebank.ami.events import AmiEvent

log = logging.getLogger("phonebank.ami")

_END = object()


class EventSubscription:
    """`async for event in subscription` until the client closes or `close()` is called."""

    def __init__(
        self,
        maxsize: int,
        names: Collection[str] | None,
        on_close: Callable[[EventSubscription], None],
    ) -> None:
        if maxsize < 1:
            raise ValueError(
                f"an event subscription needs room for one event at least, got maxsize={maxsize}"
            )
        self.maxsize = maxsize
        self.names = frozenset(names) if names is not None else None
        self.dropped = 0
        # Unbounded underneath so that the end marker always fits; the bound is kept in offer().
        self._queue: asyncio.Queue[object] = asyncio.Queue()
        self._on_close = on_close
        self._closed = False

    def offer(self, event: AmiEvent) -> None:
        """Queue `event` without waiting; drop the oldest one when full."""
        if self._closed or (self.names is not None and event.name not in self.names):
            return
        if self._queue.qsize() >= self.maxsize:
            self._queue.get_nowait()
            self.dropped += 1
            if self.dropped == 1 or self.dropped % 1000 == 0:
                log.warning(
                    "AMI event consumer is %d events behind; dropped %d oldest so far",
                    self.maxsize,
                    self.dropped,
                )
        self._queue.put_nowait(event)

    def pending(self) -> int:
        return self._queue.qsize()

    def close(self) -> None:
        """End the iteration after the events already queued."""
        if not self._closed:
            self._closed = True
            self._queue.put_nowait(_END)
            self._on_close(self)

    def __aiter__(self) -> EventSubscription:
        return self

    async def __anext__(self) -> AmiEvent:
        item = await self._queue.get()
        if item is _END:
            # Stay ended for later calls too.
            self._queue.put_nowait(_END)
            raise StopAsyncIteration
        assert isinstance(item, AmiEvent)
        return item

    async def get(self, within: float) -> AmiEvent:
        """The next event, or TimeoutError after `within` seconds."""
        async with asyncio.timeout(within):
            return await self.__anext__()

    async def __aenter__(self) -> EventSubscription:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
