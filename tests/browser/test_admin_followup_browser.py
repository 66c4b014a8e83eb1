"""The follow-up screens in a real browser (Debian's Chromium): a text to a segment with
its live count, the preview, the confirm, a scheduled send cancelled, the rules editor.
Screenshots go to docs/screenshots/admin-followup-*.png."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from playwright.async_api import Browser, Page, expect

from phonebank.admin.followup_form import sms_count
from phonebank.db import upgrade
from tests.browser.conftest import new_page, shoot
from tests.fixtures.followup_world import World, build_world
from tests.integration.admin_app import AdminWorld, admin_world, login_features

pytestmark = pytest.mark.browser


@pytest.fixture
async def site(sqlite_url: str, tmp_path: Path) -> AsyncIterator[tuple[AdminWorld, World]]:
    upgrade(sqlite_url)
    async with admin_world(sqlite_url, tmp_path, extra=login_features) as built:
        yield built, build_world(built.engine)


async def _log_in(admin: AdminWorld, page: Page, language: str) -> None:
    await page.goto(str(admin.client.make_url(f"/login?with=account&next=/admin&lang={language}")))
    french = language == "fr"
    await page.get_by_label("Identifiant" if french else "User name").fill("admin1")
    await page.get_by_label("Mot de passe" if french else "Password").fill("password-1234")
    await page.get_by_role("button", name="Se connecter" if french else "Log in").last.click()
    await expect(page.locator("h1")).to_have_text("Administration")


async def test_text_a_segment_with_preview_and_confirm(
    site: tuple[AdminWorld, World], browser: Browser
) -> None:
    admin, world = site
    context, page = await new_page(browser, "fr")
    await _log_in(admin, page, "fr")
    await page.get_by_role("link", name="Relance").first.click()
    await expect(page.locator("h1")).to_have_text("Relances par SMS et e-mail")
    await page.get_by_role("link", name="Municipales").click()
    await page.get_by_role("link", name="Envoyer à un segment").click()

    # The SMS text shows its count as it is typed, with the modem's alphabet rules.
    text = page.get_by_label("Texte du SMS")
    count = page.locator("#sms-count")
    # The page counts as the server does (gsm.split_text), on the text as typed.
    for typed, alphabet in (
        ("Bonjour {first_name}, meeting ce soir 20h30 bureau {precinct} !", "GSM 7 bits"),
        ("Fête ce soir 20h30 [Mairie] " * 3, "UCS-2 (accents hors GSM, émojis)"),
        ("Meeting {first_name} [Mairie] ~ 20h30 € " * 5, "GSM 7 bits"),
    ):
        await text.fill(typed)
        counted = sms_count(typed)
        assert counted is not None
        await expect(count).to_have_text(
            f"{counted.characters} caractères · {alphabet} · {counted.parts} SMS"
        )
    # The e-mail template replaces the text when e-mail is chosen (CSS alone).
    template = page.get_by_label("Modèle d’e-mail")
    await expect(template).to_be_hidden()
    await page.get_by_label("E-mail", exact=True).check()
    await expect(template).to_be_visible()
    await expect(text).to_be_hidden()
    await page.get_by_label("SMS par le modem").check()

    await text.fill("Bonjour {prenom}, meeting ce soir 20h30 bureau {precinct} !")
    await page.get_by_label("indécis").first.check()
    await page.get_by_label("Communes").fill("Paris")
    await page.get_by_role("button", name="Aperçu", exact=True).click()
    # The unknown merge field is named, beside the field and in the summary.
    await expect(page.locator("#e-text")).to_contain_text("{prenom}")
    await expect(page.locator(".error-summary")).to_contain_text("Texte du SMS")
    await text.fill("Bonjour {first_name}, meeting ce soir 20h30 bureau {precinct} !")
    await page.get_by_role("button", name="Aperçu", exact=True).click()

    await expect(page.locator("#preview-recipients")).to_contain_text("3")
    await expect(page.locator("#preview-excluded")).to_contain_text(
        "même numéro ou adresse qu’une autre personne"
    )
    await expect(page.locator(".samples")).to_contain_text(
        "Bonjour Alice, meeting ce soir 20h30 bureau 0112 !"
    )
    assert world.messages() == []  # a preview queues nothing
    await shoot(page, "admin-followup-preview")
    await page.get_by_role("button", name="Mettre ces messages en file maintenant").click()
    await expect(page.locator(".notice")).to_have_text(
        "Les messages sont en file d’attente ; le service les envoie maintenant."
    )
    await expect(page.locator("#queue tbody tr").first).to_contain_text("3")
    assert sorted(m.recipient for m in world.messages("segment")) == [
        "+33611111111",
        "+33644444444",
        "+33655555555",
    ]

    # A send at a set time, then cancelled from the campaign's page.
    await page.get_by_role("link", name="Envoyer à un segment").click()
    await page.get_by_label("E-mail", exact=True).check()
    await page.get_by_label("soutien ferme").first.check()
    await page.get_by_label("À une heure donnée").check()
    await page.get_by_label("Date et heure").fill("2027-02-01T18:00")
    await page.get_by_role("button", name="Aperçu", exact=True).click()
    await expect(page.locator(".samples")).to_contain_text("Merci pour votre soutien, Bruno")
    await page.get_by_role("button", name="Le programmer pour le 2027-02-01 18:00").click()
    await expect(page.locator(".notice")).to_have_text("L’envoi est programmé.")
    scheduled = page.locator("#sends tbody tr", has_text="programmé")
    await expect(scheduled).to_contain_text("2027-02-01 18:00")
    await shoot(page, "admin-followup-campaign")
    await scheduled.get_by_role("button", name="Annuler").click()
    await expect(page.locator(".notice")).to_contain_text("L’envoi est annulé")
    await expect(page.locator("#sends")).to_contain_text("annulé")
    await page.get_by_role("link", name="Relance", exact=True).click()
    await expect(page.locator("tbody")).to_contain_text("Municipales")
    await shoot(page, "admin-followup-overview")
    await context.close()


async def test_rules_editor_in_english(site: tuple[AdminWorld, World], browser: Browser) -> None:
    admin, world = site
    context, page = await new_page(browser, "en")
    await _log_in(admin, page, "en")
    await page.goto(str(admin.client.make_url(f"/admin/followup/{world.campaign_id}/rules")))
    rule = page.locator("#rule-0")
    await rule.get_by_label("Name").fill("d-2")
    await rule.get_by_label("undecided").check()
    days = rule.get_by_label("Days before election day")
    await expect(days).to_be_hidden()
    await rule.get_by_label("Before election day", exact=True).check()
    await expect(days).to_be_visible()
    await days.fill("2")
    await rule.get_by_label("At", exact=True).fill("18:00")
    await rule.get_by_label("Text of the SMS").fill("Bonjour {first_name}, on vote dimanche !")
    await page.get_by_label("E-mails only to people whose consent is recorded").uncheck()
    await page.get_by_role("button", name="Save the follow-ups").click()
    await expect(page.locator(".notice")).to_have_text("The automatic follow-ups are saved.")
    await expect(page.locator("#rules-title + p")).to_contain_text("Consent required for: SMS")
    await page.get_by_role("link", name="Automatic follow-ups").click()
    await expect(page.locator("#rule-0 > legend")).to_have_text("d-2")
    await expect(page.locator("#rule-1 > legend")).to_have_text("New follow-up")
    await shoot(page, "admin-followup-rules")
    await context.close()
