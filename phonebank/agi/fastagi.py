"""FastAGI server: `AGI(agi://127.0.0.1:<agi_port>/<script>)` runs a handler in this process.

The event loop only accepts connections; each conversation runs in a worker
thread, because pyst2 is blocking and AGI commands wait on the channel (a
prompt, a digit). So the AMI reader and the web server never wait on a call.
With every worker busy, new requests wait in line (Asterisk holds the channel
on `AGI()` meanwhile): size `max_workers` for the office's concurrent calls.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
import threading
from concurrent.futures import ThreadPoolExecutor
from types import TracebackType

from asterisk.agi import AGIHangup

from phonebank.agi.registry import AgiRegistry
from phonebank.agi.session import PhonebankAGI, fastagi_request

log = logging.getLogger("phonebank.agi")


class FastAgiServer:
    """`async with FastAgiServer(registry, port=config.asterisk.agi_port): ...`"""

    def __init__(
        self,
        registry: AgiRegistry,
        *,
        host: str = "127.0.0.1",
        port: int = 14573,
        max_workers: int = 32,
    ) -> None:
        self.registry = registry
        self.host = host
        self._requested_port = port
        self._max_workers = max_workers
        self._listener: socket.socket | None = None
        self._accepting: asyncio.Task[None] | None = None
        self._executor: ThreadPoolExecutor | None = None
        self._live: set[socket.socket] = set()
        self._live_lock = threading.Lock()
        self._pending: set[asyncio.Future[None]] = set()
        self.served = 0

    @property
    def port(self) -> int:
        """The bound port (useful when constructed with port 0)."""
        if self._listener is None:
            raise RuntimeError("the FastAGI server is not started")
        port: int = self._listener.getsockname()[1]
        return port

    async def start(self) -> None:
        if self._listener is not None:
            raise RuntimeError("the FastAGI server is already started")
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            listener.bind((self.host, self._requested_port))
        except OSError as exc:
            listener.close()
            raise OSError(
                exc.errno,
                f"FastAGI server cannot listen on "
                f"{self.host}:{self._requested_port}: {exc.strerror}",
            ) from exc
        listener.listen(64)
        listener.setblocking(False)
        self._listener = listener
        self._executor = ThreadPoolExecutor(self._max_workers, thread_name_prefix="fastagi")
        self._accepting = asyncio.create_task(self._accept_loop(), name="fastagi-accept")
        log.info(
            "FastAGI listening on %s:%d (scripts: %s)",
            self.host,
            self.port,
            ", ".join(self.registry.names()),
        )

    async def _accept_loop(self) -> None:
        loop = asyncio.get_running_loop()
        assert self._listener is not None and self._executor is not None
        while True:
            connection, _ = await loop.sock_accept(self._listener)
            connection.setblocking(True)
            with self._live_lock:
                self._live.add(connection)
            future = loop.run_in_executor(self._executor, self._converse, connection, loop)
            self._pending.add(future)
            future.add_done_callback(self._pending.discard)

    def _converse(self, connection: socket.socket, loop: asyncio.AbstractEventLoop) -> None:
        """One AGI conversation, in a worker thread."""
        try:
            with connection, connection.makefile("rw", encoding="utf-8", newline="\n") as stream:
                agi = PhonebankAGI(stream, stream)
                request = fastagi_request(agi, loop)
                status = self.registry.serve(request)
                log.debug("AGI %r on %s: %s", request.script, request.channel, status)
        except (AGIHangup, OSError) as exc:
            log.info("FastAGI connection ended early: %s", exc)
        except Exception:
            log.exception("FastAGI conversation failed")
        finally:
            with self._live_lock:
                self._live.discard(connection)
            self.served += 1

    async def close(self, within: float = 5.0) -> None:
        """Stop accepting, cut live conversations, and wait for the workers."""
        if self._accepting is not None:
            self._accepting.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._accepting
            self._accepting = None
        if self._listener is not None:
            self._listener.close()
            self._listener = None
        with self._live_lock:
            for connection in self._live:
                # Wakes a worker blocked reading from Asterisk.
                with contextlib.suppress(OSError):
                    connection.shutdown(socket.SHUT_RDWR)
        if self._pending:
            await asyncio.wait(set(self._pending), timeout=within)
        if self._executor is not None:
            self._executor.shutdown(wait=False, cancel_futures=True)
            self._executor = None

    async def __aenter__(self) -> FastAgiServer:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()
