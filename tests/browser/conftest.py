"""A real browser (Debian's Chromium driven by Playwright) against the real app.

Playwright's own browser download does not work here, and need not: it drives
/usr/bin/chromium. The app runs in the test's event loop on a loopback port,
with a LiveBus the tests publish call pops to, as the dialer runner does.
"""

from __future__ import annotations

import asyncio
import os
import tempfile
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from aiohttp.test_utils import TestServer
from playwright.async_api import Browser, BrowserContext, Page, async_playwright

from phonebank.db import upgrade
from tests.fixtures.volunteer import World, build_world

CHROMIUM = "/usr/bin/chromium"
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]
# `make screenshots` refreshes the pictures in docs/; a plain test run keeps its
# own copies out of the working tree.
SCREENSHOTS = Path(
    os.environ.get("PHONEBANK_SCREENSHOTS") or Path(tempfile.gettempdir()) / "phonebank-screenshots"
)
LAPTOP = {"width": 1280, "height": 900}
TABLET = {"width": 1024, "height": 768}  # landscape tablet


@dataclass
class Site:
    world: World
    url: str


@pytest.fixture
def world(sqlite_url: str) -> Iterator[World]:
    upgrade(sqlite_url)
    built = build_world(sqlite_url)
    yield built
    built.engine.dispose()


@pytest.fixture
async def site(world: World) -> AsyncIterator[Site]:
    server = TestServer(world.app(), host="127.0.0.1")
    await server.start_server()
    try:
        yield Site(world, str(server.make_url("")).rstrip("/"))
    finally:
        await server.close()


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(
            executable_path=CHROMIUM, args=FLAGS, headless=True
        )
        try:
            yield launched
        finally:
            await launched.close()


async def new_page(
    browser: Browser, language: str, *, tablet: bool = False
) -> tuple[BrowserContext, Page]:
    """A volunteer's browser in Paris, speaking `language`."""
    context = await browser.new_context(
        viewport=TABLET if tablet else LAPTOP,
        locale="fr-FR" if language == "fr" else "en-GB",
        timezone_id="Europe/Paris",
        has_touch=tablet,
    )
    page = await context.new_page()
    page.set_default_timeout(10_000)
    return context, page


async def shoot(page: Page, name: str) -> None:
    await asyncio.to_thread(SCREENSHOTS.mkdir, parents=True, exist_ok=True)
    await page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)
