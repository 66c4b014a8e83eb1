"""The wallboard in a real browser (Debian's Chromium): a floor with a call popped,
the coaching buttons on the talking stations, a live update over the WebSocket, the
charts drawn, French on a laptop and English on a tablet. Screenshots go to
docs/screenshots/supervisor-*.png with PHONEBANK_SCREENSHOTS set (make screenshots)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest
from playwright.async_api import Browser, ConsoleMessage, Page, Response, expect
from sqlalchemy import update

from phonebank.db import upgrade
from phonebank.db.engine import session_factory
from phonebank.db.enums import AttemptResult, AttemptState, CampaignStatus, LeadStatus
from phonebank.db.models import (
    CallAttempt,
    CallList,
    CallListEntry,
    Campaign,
    Contact,
    PhoneNumber,
    Station,
)
from phonebank.dialer.floor import LineState, LineView, StationState, StationView
from phonebank.live.bus import CallPop
from phonebank.supervisor.floor import Abandon, CampaignLive
from tests.browser.conftest import new_page, shoot
from tests.integration.admin_app import AT, NOW, seed_calls
from tests.integration.test_supervisor_wallboard import (
    RecordingAmi,
    SupervisorWorld,
    supervisor_world,
)

pytestmark = pytest.mark.browser

# The outcome of the n-th call of a minute: mostly no answer, some people, a few machines.
MIX = (
    AttemptResult.NO_ANSWER,
    AttemptResult.HUMAN,
    AttemptResult.MACHINE,
    AttemptResult.NO_ANSWER,
    AttemptResult.HUMAN,
    AttemptResult.BUSY,
    AttemptResult.NO_ANSWER,
    AttemptResult.HUMAN,
)


def _seed(world: SupervisorWorld) -> int:
    with session_factory(world.web.engine).begin() as session:
        cid = seed_calls(session, world.web.users["volunteer"])
        session.execute(
            update(Campaign).where(Campaign.id == cid).values(status=CampaignStatus.ACTIVE)
        )
        session.add_all(Station(number=str(n), channel=f"DAHDI/{n}") for n in range(5, 13))
        for minute in range(1, 60):
            for n in range(3 + minute % 5):
                result = MIX[(minute + n) % len(MIX)]
                when = AT - timedelta(minutes=minute, seconds=n)
                session.add(
                    CallAttempt(
                        campaign_id=cid,
                        e164=f"+336000{minute:03d}{n:02d}",
                        engine_id="browser",
                        state=AttemptState.ENDED,
                        result=result,
                        abandoned=result is AttemptResult.HUMAN and minute % 17 == 0,
                        created_at=when,
                        bridged_at=when if result is AttemptResult.HUMAN else None,
                    )
                )
        calls = CallList(campaign_id=cid, name="Lyon centre")
        session.add(calls)
        session.flush()
        for n in range(30):
            contact = Contact(campaign_id=cid, first_name=f"V{n}")
            session.add(contact)
            session.flush()
            zone = "Indian/Reunion" if n % 6 == 0 else "Europe/Paris"
            session.add(PhoneNumber(contact_id=contact.id, e164=f"+3361000{n:04d}", time_zone=zone))
            session.add(
                CallListEntry(
                    call_list_id=calls.id,
                    contact_id=contact.id,
                    status=LeadStatus.COMPLETED if n < 8 else LeadStatus.PENDING,
                    attempts=1 if n < 12 else 0,
                )
            )
        return cid


def _floor(world: SupervisorWorld, cid: int, talking: tuple[str, ...]) -> None:
    states = {
        "3": StationView(StationState.WRAP_UP, NOW - 14),
        "4": StationView(StationState.READY, NOW - 8),
        "5": StationView(StationState.READY, NOW - 31),
        "6": StationView(StationState.PAUSED, NOW - 400),
        "7": StationView(StationState.READY, NOW - 2),
        "8": StationView(StationState.WRAP_UP, NOW - 40),
        "9": StationView(StationState.READY, NOW - 12),
    }
    for station in talking:
        states[station] = StationView(StationState.TALKING, NOW - 83)
    world.floor.campaigns = (
        CampaignLive(
            campaign_id=cid,
            name="Lyon 2027",
            mode="predictive",
            stations=states,
            lines=(LineView(LineState.RINGING, NOW - 4), LineView(LineState.RINGING, NOW - 1)),
            bridged=len(talking),
        ),
    )
    world.floor.abandons = {cid: Abandon(0.021, 0.017, 0.03, 48)}
    world.floor.present = frozenset({*states, "10"})


@pytest.fixture
async def site(sqlite_url: str, tmp_path: Path) -> AsyncIterator[tuple[SupervisorWorld, int]]:
    upgrade(sqlite_url)
    async with supervisor_world(sqlite_url, tmp_path, ami=RecordingAmi(), period=0.2) as world:
        cid = _seed(world)
        _floor(world, cid, talking=("1",))
        world.bus.publish(CallPop("1", 501, cid, 1, None, "+33612345678", NOW - 83))
        yield world, cid


async def _log_in(world: SupervisorWorld, page: Page, language: str) -> None:
    url = str(world.web.client.make_url(f"/login?with=account&next=/supervisor&lang={language}"))
    await page.goto(url)
    fr = language == "fr"
    await page.get_by_label("Identifiant" if fr else "User name").fill("supervisor1")
    await page.get_by_label("Mot de passe" if fr else "Password").fill("password-1234")
    await page.get_by_role("button", name="Se connecter" if fr else "Log in").last.click()
    await expect(page.locator("h1")).to_have_text("Tableau de bord" if fr else "Wallboard")


def _errors(page: Page) -> list[str]:
    """Script errors, refused resources (CSP) and failed requests, favicon aside."""
    seen: list[str] = []

    def console(message: ConsoleMessage) -> None:
        # A failed request is logged with its URL below.
        if message.type == "error" and not message.text.startswith("Failed to load resource"):
            seen.append(message.text)

    def response(answer: Response) -> None:
        if answer.status >= 400 and not answer.url.endswith("/favicon.ico"):
            seen.append(f"{answer.status} {answer.url}")

    page.on("console", console)
    page.on("pageerror", lambda e: seen.append(str(e)))
    page.on("response", response)
    return seen


async def test_the_wallboard_in_french_with_a_call_and_coaching(
    site: tuple[SupervisorWorld, int], browser: Browser
) -> None:
    world, cid = site
    context, page = await new_page(browser, "fr")
    errors = _errors(page)
    await _log_in(world, page, "fr")
    await expect(page.locator("#link")).to_have_text("En direct")
    one = page.locator('li.station[data-number="1"]')
    await expect(one.locator(".pill")).to_have_text("En appel")
    await expect(one.locator(".timer")).to_have_text("1:23")
    await expect(one.get_by_role("button", name="Écouter le poste 1")).to_be_visible()
    await expect(
        one.get_by_role("button", name="Intervenir dans l’appel du poste 1")
    ).to_be_visible()
    # Only talking stations have the buttons; a station nobody sits at says so.
    await expect(page.locator('li.station[data-number="4"] .coach-buttons')).to_be_hidden()
    await expect(page.locator('li.station[data-number="11"] .pill')).to_have_text("Raccroché")
    await expect(page.locator("#chart-calls canvas")).to_have_count(1)
    await expect(page.locator("#chart-abandon canvas")).to_have_count(1)
    campaign = page.locator("article.campaign")
    await expect(campaign).to_contain_text("Lyon 2027")
    await expect(campaign.locator("table.zones")).to_contain_text("Indian/Reunion")
    await shoot(page, "supervisor-wallboard-fr")

    # The supervisor types their handset and listens to station 1.
    await page.get_by_label("Votre combiné").fill("12")
    await one.get_by_role("button", name="Écouter le poste 1").click()
    await expect(page.locator("#notice")).to_have_text(
        "Votre combiné sonne : décrochez pour écouter."
    )
    await expect(one.locator(".coaching")).to_have_text("Écouter : supervisor1 (en ligne)")

    # Station 2 is put through: its buttons appear at the next push, without a reload.
    _floor(world, cid, talking=("1", "2"))
    await expect(
        page.locator('li.station[data-number="2"]').get_by_role(
            "button", name="Souffler au bénévole du poste 2"
        )
    ).to_be_visible()
    await shoot(page, "supervisor-wallboard-coaching-fr")
    assert errors == []
    await context.close()


async def test_the_wallboard_on_a_tablet_in_english(
    site: tuple[SupervisorWorld, int], browser: Browser
) -> None:
    world, _cid = site
    context, page = await new_page(browser, "en", tablet=True)
    errors = _errors(page)
    await _log_in(world, page, "en")
    one = page.locator('li.station[data-number="1"]')
    await expect(
        one.get_by_role("button", name="Whisper to the volunteer at station 1")
    ).to_be_visible()
    await expect(page.locator("#totals")).to_contain_text("Lines per volunteer")
    await asyncio.sleep(0.3)  # let the charts settle at the tablet's width
    await shoot(page, "supervisor-wallboard-tablet-en")
    # A coaching request refused by the server says why, in the page's language.
    await page.get_by_label("Your handset").fill("1")
    await one.get_by_role("button", name="Listen to station 1").click()
    await expect(page.locator("#notice")).to_contain_text(
        "You cannot coach the station your handset belongs to."
    )
    assert [e.split(" ")[0] for e in errors] == ["400"]  # the refusal, nothing else
    await context.close()
