"""The script editor in a real browser (Debian's Chromium): an admin edits the demo
campaign's script, adds a question, moves it, branches an answer to it, follows the
branch in the live preview, meets a refused merge field with nothing lost, saves;
then a call pops on a volunteer's screen with the new question. Screenshots go to
docs/screenshots/admin-script-*.png."""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiohttp.test_utils import TestServer
from playwright.async_api import Browser, Locator, Page, expect
from sqlalchemy import select

from phonebank.admin import routes as admin_routes
from phonebank.admin.recordings import RecordingStore
from phonebank.db.models import Script, SurveyAnswer
from phonebank.security.passwords import PasswordHasher
from tests.browser.conftest import SCREENSHOTS, Site, new_page
from tests.browser.test_volunteer_browser import log_in, pair_station
from tests.fixtures.volunteer import World

pytestmark = pytest.mark.browser


@pytest.fixture
async def office(world: World, tmp_path: Path) -> AsyncIterator[Site]:
    """The volunteer screens and the admin screens in one app, as `phonebank up` serves."""
    app = world.app()
    admin_routes.setup(
        engine=world.engine,
        clock=time.time,
        hasher=PasswordHasher(),
        recordings=RecordingStore(tmp_path / "sounds", "/var/lib/asterisk/sounds/phonebank"),
        work_dir=tmp_path / "admin-work",
    )(app)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    try:
        yield Site(world, str(server.make_url("")).rstrip("/"))
    finally:
        await server.close()


async def shoot(page: Page, name: str, *, full: bool = False) -> None:
    """The editor is long: the documentation shows what fits on a laptop's screen."""
    await asyncio.to_thread(SCREENSHOTS.mkdir, parents=True, exist_ok=True)
    await page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=full)


def question(page: Page, n: int) -> Locator:
    return page.locator('[data-item="q"]').nth(n)


async def test_edit_a_script_follow_a_branch_in_the_preview_then_a_call_pops_with_it(
    browser: Browser, office: Site
) -> None:
    world = office.world
    context, page = await new_page(browser, "fr")
    try:
        await log_in(page, office, "fr", "admin")
        await page.goto(f"{office.url}/admin/campaigns/{world.campaign_id}")
        await page.get_by_role("link", name="Script et questionnaire").click()
        await expect(page.locator("h1")).to_contain_text("Script et questionnaire")
        preview = page.locator("#preview")
        await expect(preview.locator("#pv-opening")).to_contain_text(
            "Bonjour Camille, je m'appelle Admin Démo, bénévole pour Claire Rivière"
        )

        # The opening, with merge fields, shows in the preview as it is typed.
        opening = page.get_by_label("Introduction", exact=True)
        await opening.fill("Bonjour {first_name} ! Ici {volunteer}, pour {candidate} à {city}.")
        await expect(preview.locator("#pv-opening")).to_have_text(
            "Bonjour Camille ! Ici Admin Démo, pour Claire Rivière à Lyon."
        )

        # A new question, free text, moved up to second place.
        await page.get_by_role("button", name="Ajouter une question").click()
        new = question(page, 5)
        await expect(new.locator("legend")).to_have_text("Question 6")
        await expect(new.get_by_label("Question posée")).to_be_focused()
        await new.get_by_label("Clé").fill("doubts")
        await new.get_by_label("Type").select_option("text")
        await new.get_by_label("Question posée").fill(
            "Qu'est-ce qui vous fait hésiter, {first_name} ?"
        )
        await new.get_by_label("Après cette question").select_option("topics")
        for n in range(5, 1, -1):
            await question(page, n).get_by_role("button", name=re.compile("^Monter")).first.click()
        moved = question(page, 1)
        await expect(moved.get_by_label("Clé")).to_have_value("doubts")
        await expect(moved.locator("legend")).to_have_text("Question 2")
        await expect(moved.locator('[data-name="prompt"]')).to_have_attribute("name", "q-1-prompt")
        await expect(question(page, 2).get_by_label("Clé")).to_have_value("why_not")

        # "Je ne sais pas" now leads to it.
        unsure = question(page, 0).locator('[data-item="opt"]').nth(2)
        await expect(unsure.get_by_label("Réponse", exact=True)).to_have_value("Je ne sais pas")
        await unsure.get_by_label("Puis aller à").select_option("doubts")

        # The preview walks the branch as the volunteer screen will.
        survey = preview.locator("#pv-survey")
        await survey.get_by_label("Je ne sais pas").check()
        await expect(survey).to_contain_text("Qu'est-ce qui vous fait hésiter, Camille ?")
        await expect(survey).to_contain_text("Quels sujets comptent le plus pour vous ?")
        await preview.get_by_role("button", name="Soutien ferme").click()
        await expect(preview.locator("#pv-closing")).to_have_text(
            "Merci beaucoup Camille ! On compte sur vous le 14 mars."
        )
        await shoot(page, "admin-script-preview")
        await survey.get_by_label("Oui", exact=True).check()
        await expect(survey).not_to_contain_text("hésiter")
        await expect(survey).to_contain_text("Quels sujets comptent le plus pour vous ?")

        # A merge field the screen does not know: named at once, then refused on save
        # with everything typed still there.
        await opening.fill("Bonjour {prenom} ! Ici {volunteer}, pour {candidate}.")
        await expect(preview.locator(".error-summary")).to_contain_text(
            "Champ de fusion inconnu : {prenom}"
        )
        await page.get_by_role("button", name="Enregistrer comme version 2").click()
        summary = page.locator(".admin-body > .error-summary")
        await expect(summary).to_contain_text("Rien n’a été enregistré")
        await expect(summary).to_contain_text("Introduction: Champ de fusion inconnu : {prenom}")
        await expect(question(page, 1).get_by_label("Clé")).to_have_value("doubts")
        unsure = question(page, 0).locator('[data-item="opt"]').nth(2)
        await expect(unsure.get_by_label("Puis aller à")).to_have_value("doubts")
        await shoot(page, "admin-script-errors")
        with world.session() as session:
            assert len(session.scalars(select(Script)).all()) == 1

        await page.get_by_label("Introduction", exact=True).fill(
            "Bonjour {first_name} ! Ici {volunteer}, pour {candidate}."
        )
        await page.get_by_role("button", name="Enregistrer comme version 2").click()
        await expect(page.locator(".notice")).to_contain_text("La version 2 est enregistrée")
        await expect(page.get_by_role("button", name="Enregistrer comme version 3")).to_be_visible()
        await page.evaluate("document.querySelector('[data-item=q]').scrollIntoView()")
        await shoot(page, "admin-script-editor")
        with world.session() as session:
            scripts = session.scalars(select(Script).order_by(Script.version)).all()
            assert [(s.version, s.active) for s in scripts] == [(1, False), (2, True)]
            assert [q.key for q in scripts[1].questions][:3] == ["will_vote", "doubts", "why_not"]
    finally:
        await context.close()

    # A volunteer's next call shows the new version, and its branch.
    context, page = await new_page(browser, "fr")
    try:
        await log_in(page, office, "fr", "volunteer")
        await page.goto(f"{office.url}/pair")
        await pair_station(page, office, "fr", "3")
        attempt = world.attempt("3")
        world.pop("3", attempt)
        await expect(page.locator("#script-opening")).to_have_text(
            "Bonjour Maëlle ! Ici Bénévole Démo, pour Claire Rivière."
        )
        survey = page.locator("#survey")
        await survey.get_by_label("Je ne sais pas").check()
        await expect(survey).to_contain_text("Qu'est-ce qui vous fait hésiter, Maëlle ?")
        await survey.locator("fieldset[data-key=doubts] textarea").fill("Les transports")
        await shoot(page, "admin-script-volunteer", full=True)
        await page.locator("#contact-name").focus()
        await page.keyboard.press("3")
        await page.locator("#save").click()
        await expect(page.locator("#banner")).to_have_text("Résultat enregistré.")
        with world.session() as session:
            texts = session.scalars(select(SurveyAnswer.value_text)).all()
            assert "Les transports" in texts
    finally:
        await context.close()


async def test_removing_a_question_that_answers_lead_to_is_named_in_english(
    browser: Browser, office: Site
) -> None:
    world = office.world
    context, page = await new_page(browser, "en")
    page.on("dialog", lambda dialog: asyncio.ensure_future(dialog.accept()))
    try:
        await log_in(page, office, "en", "admin")
        await page.goto(f"{office.url}/admin/campaigns/{world.campaign_id}/script")
        preview = page.locator("#preview")
        # "Non" leads to why_not; remove why_not: the branch keeps its target, flagged.
        await question(page, 1).get_by_role("button", name=re.compile("^Remove")).first.click()
        await expect(page.locator('[data-item="q"]')).to_have_count(4)
        no = question(page, 0).locator('[data-item="opt"]').nth(1)
        await expect(no.get_by_label("Then go to")).to_have_value("why_not")
        await expect(no.locator("option:checked")).to_have_text("⚠ why_not")
        await expect(preview.locator(".error-summary")).to_contain_text(
            "Question 1 (will_vote), option 2, Then: No question has this key: why_not"
        )
        # Renaming a key carries the branches that lead to it.
        yes = question(page, 0).locator('[data-item="opt"]').nth(0)
        await expect(yes.get_by_label("Then go to")).to_have_value("topics")
        await question(page, 1).get_by_label("Question key").fill("subjects")
        await expect(yes.get_by_label("Then go to")).to_have_value("subjects")
        # Pointing it at the end of the survey clears the problem; the scale's low
        # range still ends the survey in the preview.
        await no.get_by_label("Then go to").select_option("end")
        await expect(preview.locator(".error-summary")).to_have_count(0)
        survey = preview.locator("#pv-survey")
        await survey.get_by_label("Oui", exact=True).check()
        await survey.get_by_label("Logement").check()
        await survey.get_by_label("2", exact=True).check()
        await expect(survey).to_contain_text("End of the survey.")
        await page.get_by_role("button", name="Save as version 2").click()
        await expect(page.locator(".notice")).to_contain_text("Version 2 is saved and active")
        with world.session() as session:
            script = session.scalars(select(Script).where(Script.active.is_(True))).one()
            assert "why_not" not in [q.key for q in script.questions]
            will_vote = script.questions[0]
            assert [o.next_question_key for o in will_vote.options] == [
                "subjects",
                "end",
                "subjects",
            ]
            # Version 1 keeps its why_not question for the answers recorded with it.
            old = session.scalars(select(Script).where(Script.version == 1)).one()
            assert "why_not" in [q.key for q in old.questions]
    finally:
        await context.close()
