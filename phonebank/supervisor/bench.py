"""The wallboard under load: fan-out of each state to every supervisor's WebSocket, and
page latency while a bounded load generator sends requests at a fixed rate.

The app (the supervisor feature, a SQLite database seeded with two campaigns, a day
of calls and their lists, a synthetic floor of stations moving on the wall clock)
runs on loopback in its own thread and event loop; the supervisors' sockets run in
the caller's loop, and the load generator in a process of its own (the server's
figures must not include the generator's share of one interpreter). Fan-out latency
is a socket's receipt time minus the instant the hub handed that state to the
connections (`Wallboard.published`: the same machine's clock). Baselines beside
each figure: the same fan-out with one supervisor, the same pages without load,
and the hub's own work per state.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import multiprocessing
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web

from phonebank.db.engine import make_engine
from phonebank.db.migrate import upgrade
from phonebank.supervisor import routes
from phonebank.supervisor.bench_floor import SyntheticFloor, seed
from phonebank.supervisor.hub import Wallboard
from phonebank.web.app import create_app
from phonebank.web.sessions import SESSION_COOKIE, encode_session, new_session

TARGET_P99_MS = 100.0
_KEY = b"wallboard-bench-key-0123456789ab"


@dataclass(frozen=True)
class Settings:
    stations: int = 100
    supervisors: int = 10
    seconds: float = 20.0  # per phase
    rate: float = 200.0  # requests per second from the load generator
    period: float = 0.25  # the hub's tick (1 s in service; faster here for more samples)
    leads: int = 20_000
    max_in_flight: int = 200  # the load generator's bound


def percentiles(samples: Sequence[float]) -> dict[str, float]:
    """p50/p99 by nearest rank and the worst, in ms."""
    if not samples:
        return {"n": 0}
    ordered = sorted(samples)

    def rank(p: float) -> float:
        index = max(0, min(len(ordered) - 1, -(-len(ordered) * p // 100) - 1))
        return round(ordered[int(index)], 1)

    return {"n": len(ordered), "p50": rank(50), "p99": rank(99), "max": round(ordered[-1], 1)}


class _Server:
    """The app on a loopback port, in a thread of its own."""

    def __init__(self, app: web.Application) -> None:
        self.app = app
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, name="wallboard-bench")
        self.runner = web.AppRunner(app, access_log=None)

    def start(self) -> int:
        self.thread.start()
        return asyncio.run_coroutine_threadsafe(self._start(), self.loop).result(60)

    async def _start(self) -> int:
        await self.runner.setup()
        await web.TCPSite(self.runner, "127.0.0.1", 0).start()
        address = self.runner.addresses[0]
        return int(address[1])

    def call(self, work: Callable[[], Any]) -> Any:
        """Run `work` on the server's loop (its objects are not thread-safe)."""

        async def run() -> Any:
            return work()

        return asyncio.run_coroutine_threadsafe(run(), self.loop).result(30)

    def stop(self) -> None:
        with contextlib.suppress(Exception):
            asyncio.run_coroutine_threadsafe(self.runner.cleanup(), self.loop).result(60)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(30)
        self.loop.close()


def _seq(text: str) -> int:
    # "seq" is the state's last key: read it without parsing 30 kB of JSON.
    tail = text[text.rfind('"seq":') + 6 :]
    return int(tail.rstrip("}"))


async def _watch(
    session: aiohttp.ClientSession, url: str, until: float, out: list[tuple[int, float]]
) -> None:
    async with session.ws_connect(url) as ws:
        first = True
        while time.time() < until:
            try:
                message = await ws.receive(timeout=max(0.05, until - time.time()))
            except TimeoutError:
                break
            if message.type is not aiohttp.WSMsgType.TEXT:
                break
            if first:  # the state cached when the socket opened: not a fan-out
                first = False
                continue
            out.append((_seq(message.data), time.time()))


async def _fanout(
    server: _Server, hub: Wallboard, session: aiohttp.ClientSession, url: str, sockets: int,
    seconds: float,
) -> list[float]:  # fmt: skip
    until = time.time() + seconds
    received: list[tuple[int, float]] = []
    await asyncio.gather(*(_watch(session, url, until, received) for _ in range(sockets)))
    published = server.call(lambda: dict(hub.published))
    return [(at - published[seq]) * 1000 for seq, at in received if seq in published]


async def _get(session: aiohttp.ClientSession, url: str, out: list[float]) -> bool:
    start = time.perf_counter()
    async with session.get(url) as response:
        await response.read()
        ok = response.status == 200
    out.append((time.perf_counter() - start) * 1000)
    return ok


async def _paced(
    session: aiohttp.ClientSession, url: str, rate: float, seconds: float, bound: int
) -> tuple[list[float], int, int, float]:
    """Open loop at `rate`/s for `seconds`, at most `bound` in flight (the rest skipped)."""
    latencies: list[float] = []
    tasks: set[asyncio.Task[bool]] = set()
    skipped = 0
    start = time.perf_counter()
    for i in range(int(rate * seconds)):
        delay = start + i / rate - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        if len(tasks) >= bound:
            skipped += 1
            continue
        task = asyncio.create_task(_get(session, url, latencies))
        tasks.add(task)
        task.add_done_callback(tasks.discard)
    results = await asyncio.gather(*tasks, return_exceptions=True)
    failed = sum(1 for r in results if r is not True)
    return latencies, failed, skipped, len(latencies) / (time.perf_counter() - start)


def _load_child(base: str, cookie: str, rate: float, seconds: float, bound: int, link: Any) -> None:
    """The load generator's own process: its work must not share the server's GIL."""

    async def main() -> tuple[list[float], int, int, float]:
        connector = aiohttp.TCPConnector(limit=bound + 4)
        async with aiohttp.ClientSession(
            base, connector=connector, cookies={SESSION_COOKIE: cookie}
        ) as session:
            link.send("ready")  # started and imported: the clock may start
            await asyncio.to_thread(link.recv)
            return await _paced(session, "/supervisor", rate, seconds, bound)

    link.send(asyncio.run(main()))
    link.close()


class _LoadGenerator:
    """A child process sending requests at a fixed rate once told to start."""

    def __init__(self, base: str, cookie: str, rate: float, seconds: float, bound: int) -> None:
        context = multiprocessing.get_context("spawn")
        self.link, child_link = context.Pipe()
        self.child = context.Process(
            target=_load_child, args=(base, cookie, rate, seconds, bound, child_link), daemon=True
        )

    async def ready(self) -> None:
        self.child.start()
        if await asyncio.to_thread(self.link.recv) != "ready":
            raise RuntimeError("the load generator did not start")

    async def run(self) -> tuple[list[float], int, int, float]:
        self.link.send("go")
        try:
            result: tuple[list[float], int, int, float] = await asyncio.to_thread(self.link.recv)
        finally:
            await asyncio.to_thread(self.child.join, 30)
            if self.child.is_alive():
                self.child.kill()
        return result


async def _measure(settings: Settings, server: _Server, hub: Wallboard, base: str, cookie: str,
                   progress: Callable[[str], None]) -> dict[str, Any]:  # fmt: skip
    connector = aiohttp.TCPConnector(limit=settings.max_in_flight + settings.supervisors + 8)
    async with aiohttp.ClientSession(
        base, connector=connector, cookies={SESSION_COOKIE: cookie}
    ) as session:
        s = settings
        # Warm-up, not measured: templates compiled, the first figures read.
        await _paced(session, "/supervisor", 10, 1.0, 1)
        progress(f"fan-out, 1 supervisor, {s.seconds:.0f} s")
        one = await _fanout(server, hub, session, "/supervisor/ws", 1, s.seconds)
        progress(f"fan-out, {s.supervisors} supervisors, {s.seconds:.0f} s")
        many = await _fanout(server, hub, session, "/supervisor/ws", s.supervisors, s.seconds)
        progress(f"pages without load, {s.seconds:.0f} s at 10/s")
        idle, _f, _s, _r = await _paced(session, "/supervisor", 10, s.seconds, 1)
        progress(f"pages at {s.rate:.0f}/s with {s.supervisors} supervisors, {s.seconds:.0f} s")
        generator = _LoadGenerator(base, cookie, s.rate, s.seconds, s.max_in_flight)
        await generator.ready()
        loaded, watching = await asyncio.gather(
            generator.run(),
            _fanout(server, hub, session, "/supervisor/ws", s.supervisors, s.seconds),
        )
    pages, failed, skipped, achieved = loaded
    return {
        "fanout_ms": {
            "one_supervisor": percentiles(one),
            "supervisors": percentiles(many),
            "supervisors_under_load": percentiles(watching),
        },
        "page_ms": {"idle": percentiles(idle), "under_load": percentiles(pages)},
        "load": {
            "target_rps": s.rate,
            "achieved_rps": round(achieved, 1),
            "failed": failed,
            "skipped": skipped,
        },
    }


def _state_cost(server: _Server, hub: Wallboard, rounds: int = 20) -> dict[str, float]:
    def build() -> float:
        start = time.perf_counter()
        json.dumps(hub.compute(), separators=(",", ":"))
        return (time.perf_counter() - start) * 1000

    return percentiles([server.call(build) for _ in range(rounds)])


def run(settings: Settings, progress: Callable[[str], None] = lambda _m: None) -> dict[str, Any]:
    """Seed, serve, measure; returns the figures (see the module's docstring)."""
    with tempfile.TemporaryDirectory(prefix="phonebank-wallboard-") as tmp:
        url = f"sqlite:///{Path(tmp) / 'bench.db'}"
        upgrade(url)
        engine = make_engine(url)
        try:
            progress(f"seeding {settings.stations} stations, {settings.leads} leads")
            names = seed(
                engine, stations=settings.stations, leads=settings.leads, now=datetime.now(UTC)
            )
            floor = SyntheticFloor(names, settings.stations, time.time)
            feature = routes.setup(
                engine=engine, clock=time.time, floor=floor, period=settings.period
            )
            app = create_app(secret_key=_KEY, clock=time.time, features=[feature])
            server = _Server(app)
            port = server.start()
            try:
                hub = app[routes.WALLBOARD]
                cookie = encode_session(
                    _KEY, new_session(time.time(), 1, "supervisor", "en", "bench")
                )
                base = f"http://127.0.0.1:{port}"
                figures = asyncio.run(_measure(settings, server, hub, base, cookie, progress))
                figures["state_build_ms"] = _state_cost(server, hub)
                stations = len(server.call(lambda: hub.state.get("stations", [])))
            finally:
                server.stop()
        finally:
            engine.dispose()
    fanout = figures["fanout_ms"]["supervisors"].get("p99", float("inf"))
    loaded = figures["fanout_ms"]["supervisors_under_load"].get("p99", float("inf"))
    page = figures["page_ms"]["under_load"].get("p99", float("inf"))
    return {
        "stations": stations,
        "supervisors": settings.supervisors,
        "seconds_per_phase": settings.seconds,
        "tick_s": settings.period,
        "database": "sqlite",
        **figures,
        "target_p99_ms": TARGET_P99_MS,
        "met": max(fanout, loaded, page) < TARGET_P99_MS,
    }
