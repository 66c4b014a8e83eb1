"""Preview mode in the browser: a dial that put nobody through clears the card.

After "Call" the screen says "Dialling…" with the contact still shown; when the
runner says the call reached nobody (`DialDesk.unanswered`: busy, no answer, a
number listed since the offer), the card goes away and the station is ready for
its next offer, which then shows as usual.
"""

from __future__ import annotations

import re

from playwright.async_api import Browser, expect

from phonebank.live.requests import PreviewOffer
from tests.browser.conftest import Site, new_page
from tests.browser.test_volunteer_browser import log_in


async def test_an_unanswered_preview_dial_clears_the_card(browser: Browser, site: Site) -> None:
    world = site.world
    context, page = await new_page(browser, "en")
    try:
        await log_in(page, site, "en", "karim")
        await page.goto(f"{site.url}/pair?station=7")
        await page.get_by_role("button", name="Pair this screen").click()
        await page.wait_for_url(f"{site.url}/station")
        await expect(page.locator("#banner")).to_have_text("Connected.")
        offer = PreviewOffer(
            "7",
            world.entry_id,
            world.campaign_id,
            world.contact_id,
            world.phone_id,
            "+262262000111",
            0.0,
        )
        world.desk.offer(offer)
        await expect(page.locator("#contact-name")).to_have_text("Maëlle Payet")
        await page.get_by_role("button", name="Call", exact=True).click()
        await expect(page.locator("#mode")).to_have_class(re.compile("dialing"))
        world.desk.unanswered("7", world.entry_id, 1.0)  # busy
        await expect(page.locator("#mode")).to_have_class(re.compile("ready"))
        await expect(page.locator("#card")).to_be_hidden()
        await expect(page.locator("#idle")).to_be_visible()
        world.desk.offer(offer)  # the next offer (the same contact will do)
        await expect(page.locator("#card")).to_be_visible()
        await expect(page.locator("#contact-name")).to_have_text("Maëlle Payet")
        await expect(page.locator("#dial")).to_be_focused()
    finally:
        await context.close()
