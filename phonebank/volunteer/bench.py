"""Call pop latency: from the CallPop on the bus to the contact shown in the browser.

A real phone bank on loopback: the app with its WebSocket, a database with the
demo campaign and the sample script, and one Chromium page per station (Debian's
/usr/bin/chromium driven by Playwright). Each round publishes one CallPop per
station, as the dialer runner does when voters are put through; each page notes
when it has drawn the contact (`window.phonebank.pops`). Both clocks are the
same machine's, so `shown − published` is the latency a volunteer sees.

Beside the end-to-end figure, the server's part (publish → card sent on the
socket: loading the contact in a thread, rendering the script) is the baseline
that shows where the time goes.

As the runner does, a round first publishes one `CallAnswered` per call, then waits
`gap` seconds (200 ms by default: AMD's verdict to the bridge, which the dialplan
and the runner take 20 ms to a second for) before the pops, so the screens' side
reads the contacts ahead. Every other round publishes no `CallAnswered` (the same
wait, then the pops): the contact is read at the pop, as before the prefetch. The
two kinds of rounds alternate in one run, so both see the same machine load, and
are reported side by side.
"""

from __future__ import annotations

import asyncio
import os
import random
import secrets
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aiohttp import web
from sqlalchemy import select

from phonebank.accounts.repo import CODE_ONLY_HASH
from phonebank.db.engine import make_engine, session_factory, writer_session_factory
from phonebank.db.enums import AttemptState, Role
from phonebank.db.migrate import upgrade
from phonebank.db.models import CallAttempt, Campaign, Contact, PhoneNumber, Station, User
from phonebank.demo import DEMO_CAMPAIGN, seed_demo
from phonebank.live.bus import CallAnswered, CallEnded, CallPop, LiveBus
from phonebank.live.requests import DialDesk
from phonebank.volunteer import routes as volunteer_routes
from phonebank.volunteer.http import VOLUNTEER
from phonebank.volunteer.pairing import PAIR_COOKIE, encode_pairing
from phonebank.volunteer.sample import ensure_sample_script
from phonebank.web.app import create_app
from phonebank.web.sessions import SESSION_COOKIE, encode_session, new_session

CHROMIUM = "/usr/bin/chromium"
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]
TARGET_P99_MS = 200.0
SETTLE = 1.0  # seconds after a round's pops before reading the pages' marks
GAP = 0.2  # seconds from CallAnswered to CallPop: AMD's verdict to the bridge


@dataclass
class Samples:
    """One kind of round's figures: shown in the browser, and sent by the server (ms)."""

    end_to_end: list[float]
    server: list[float]

    @classmethod
    def empty(cls) -> Samples:
        return cls([], [])


@dataclass(frozen=True)
class Planned:
    station: str
    attempt_id: int
    campaign_id: int
    contact_id: int
    phone_id: int
    e164: str


def percentiles(samples: Sequence[float]) -> dict[str, float]:
    """p50/p90/p99 by nearest rank, with the mean and the worst, in ms."""
    if not samples:
        return {"n": 0}
    ordered = sorted(samples)

    def rank(p: float) -> float:
        index = max(0, min(len(ordered) - 1, -(-len(ordered) * p // 100) - 1))
        return round(ordered[int(index)], 1)

    return {
        "n": len(ordered),
        "p50": rank(50),
        "p90": rank(90),
        "p99": rank(99),
        "max": round(ordered[-1], 1),
        "mean": round(sum(ordered) / len(ordered), 1),
    }


def _prepare(url: str, stations: int, rounds: int) -> tuple[list[list[Planned]], list[int]]:
    """The demo data, one volunteer per station, and every attempt written up front."""
    upgrade(url)
    seed_demo(url)
    engine = make_engine(url)
    try:
        with session_factory(engine).begin() as session:
            campaign = session.scalars(select(Campaign).where(Campaign.name == DEMO_CAMPAIGN)).one()
            ensure_sample_script(session, campaign.id)
            numbers = [str(n) for n in range(1, stations + 1)]
            ids = dict(session.execute(select(Station.number, Station.id)).all())
            for number in numbers:
                if number not in ids:
                    station = Station(number=number, channel=f"PJSIP/bench{number}")
                    session.add(station)
                    session.flush()
                    ids[number] = station.id
            users = []
            for number in numbers:
                user = User(
                    username=f"bench{number}-{secrets.token_hex(3)}",
                    display_name=f"Bénévole {number}",
                    password_hash=CODE_ONLY_HASH,  # no password can match it
                    role=Role.VOLUNTEER,
                )
                session.add(user)
                session.flush()
                users.append(user.id)
            people = session.execute(
                select(Contact.id, PhoneNumber.id, PhoneNumber.e164)
                .join(PhoneNumber, PhoneNumber.contact_id == Contact.id)
                .where(Contact.campaign_id == campaign.id)
                .order_by(Contact.id)
            ).all()
            plan: list[list[Planned]] = []
            for round_number in range(rounds):
                batch = []
                for index, number in enumerate(numbers):
                    contact_id, phone_id, e164 = people[(round_number + index) % len(people)]
                    attempt = CallAttempt(
                        campaign_id=campaign.id,
                        contact_id=contact_id,
                        phone_id=phone_id,
                        e164=e164,
                        station_id=ids[number],
                        user_id=users[index],
                        engine_id="bench",
                        state=AttemptState.BRIDGED,
                    )
                    session.add(attempt)
                    session.flush()
                    batch.append(
                        Planned(number, attempt.id, campaign.id, contact_id, phone_id, e164)
                    )
                plan.append(batch)
        return plan, users
    finally:
        engine.dispose()


async def _measure(
    url: str,
    plan: list[list[Planned]],
    users: list[int],
    *,
    stagger: float,
    gap: float,
    chromium: str,
    progress: Callable[[str], None],
) -> tuple[dict[str, Samples], int]:
    """Rounds with and without prefetch, alternating; the first (cold) one apart."""
    from playwright.async_api import async_playwright, expect

    engine = make_engine(url)
    bus = LiveBus()
    key = secrets.token_bytes(32)
    app = create_app(
        secret_key=key,
        clock=time.time,
        features=[
            volunteer_routes.setup(
                bus=bus,
                desk=DialDesk(),
                readers=session_factory(engine),
                writers=writer_session_factory(engine),
                clock=time.time,
            )
        ],
    )
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    host, port = runner.addresses[0][:2]
    base = f"http://{host}:{port}"
    samples = {"cold": Samples.empty(), "prefetch": Samples.empty(), "read": Samples.empty()}
    prefetched = app[VOLUNTEER].prefetched
    try:
        async with async_playwright() as playwright:
            browser = await playwright.chromium.launch(
                executable_path=chromium, args=FLAGS, headless=True
            )
            pages = []
            for index, station in enumerate(p.station for p in plan[0]):
                now = time.time()
                session = new_session(now, users[index], "volunteer", "fr", f"Bénévole {station}")
                context = await browser.new_context(viewport={"width": 1280, "height": 900})
                await context.add_cookies(
                    [
                        {
                            "name": SESSION_COOKIE,
                            "value": encode_session(key, session),
                            "url": base,
                        },
                        {
                            "name": PAIR_COOKIE,
                            "value": encode_pairing(key, station, users[index], now),
                            "url": base,
                        },
                    ]
                )
                page = await context.new_page()
                await page.goto(f"{base}/station")
                await expect(page.locator("#banner")).to_have_text("Connecté.", timeout=15_000)
                pages.append(page)
            progress(f"{len(pages)} screens connected; {len(plan)} rounds")
            for round_number, batch in enumerate(plan):
                kind = "cold" if round_number == 0 else ("prefetch", "read")[round_number % 2]
                if kind != "read":
                    for planned in batch:
                        bus.publish(
                            CallAnswered(
                                planned.attempt_id,
                                planned.campaign_id,
                                planned.contact_id,
                                planned.phone_id,
                                planned.e164,
                                time.time(),
                            )
                        )
                await asyncio.sleep(gap)
                for planned in batch:
                    bus.publish(
                        CallPop(
                            planned.station,
                            planned.attempt_id,
                            planned.campaign_id,
                            planned.contact_id,
                            planned.phone_id,
                            planned.e164,
                            time.time(),
                        )
                    )
                    if stagger:
                        await asyncio.sleep(random.uniform(0, stagger))
                # Read the pages' marks only once they are surely drawn: talking to the
                # browsers meanwhile would compete with the server for this process.
                await asyncio.sleep(SETTLE)
                for page, planned in zip(pages, batch, strict=True):
                    mark = await _wait_for_pop(page, planned.attempt_id)
                    samples[kind].end_to_end.append(mark["shown"] - mark["pop_at"] * 1000)
                    samples[kind].server.append((mark["sent_at"] - mark["pop_at"]) * 1000)
                for planned in batch:
                    bus.publish(CallEnded(planned.station, planned.attempt_id, time.time()))
                await asyncio.sleep(0.2)
                if (round_number + 1) % 5 == 0:
                    progress(f"round {round_number + 1}/{len(plan)}")
            await browser.close()
    finally:
        await runner.cleanup()
        engine.dispose()
    return samples, prefetched.hits


async def _wait_for_pop(page: Any, attempt_id: int) -> dict[str, float]:
    for _ in range(400):  # 20 s at most
        pops = await page.evaluate("window.phonebank.pops")
        found = [p for p in pops if p["attempt"] == attempt_id]
        if found:
            return dict(found[-1])
        await asyncio.sleep(0.05)
    raise TimeoutError(f"attempt {attempt_id} never appeared on its screen")


def run(
    *,
    stations: int = 15,
    rounds: int = 20,
    stagger: float = 0.0,
    gap: float = GAP,
    database_url: str | None = None,
    chromium: str = CHROMIUM,
    progress: Callable[[str], None] = lambda _msg: None,
) -> dict[str, Any]:
    """Measure, and return the figures as one JSON-able object."""
    with tempfile.TemporaryDirectory(prefix="phonebank-bench-pop-") as folder:
        url = database_url or f"sqlite:///{Path(folder) / 'bench.db'}"
        # One more round first: the evening's first calls (cold caches), reported apart;
        # then `rounds` with prefetch and `rounds` without, alternating.
        total = 2 * rounds + 1
        plan, users = _prepare(url, stations, total)
        progress(f"database ready ({url.split(':', 1)[0]}), {stations * total} attempts")
        samples, hits = asyncio.run(
            _measure(
                url, plan, users, stagger=stagger, gap=gap, chromium=chromium, progress=progress
            )
        )
    e2e = percentiles(samples["prefetch"].end_to_end)
    return {
        "benchmark": "pop",
        "stations": stations,
        "rounds": rounds,
        "pops": "staggered" if stagger else "burst (every station at once)",
        "database": "postgresql" if database_url and "postgres" in database_url else "sqlite",
        "cpus": os.cpu_count(),
        "gap_ms": round(gap * 1000),
        "end_to_end_ms": e2e,
        "server_ms": percentiles(samples["prefetch"].server),
        "without_prefetch": {
            "end_to_end_ms": percentiles(samples["read"].end_to_end),
            "server_ms": percentiles(samples["read"].server),
        },
        "first_round_ms": percentiles(samples["cold"].end_to_end),
        # Pops that found their contact read ahead, of the prefetch rounds' pops.
        "prefetch_hits": f"{hits}/{stations * (rounds + 1)}",
        "target_p99_ms": TARGET_P99_MS,
        "met": bool(e2e.get("p99", float("inf")) <= TARGET_P99_MS),
    }
