"""A volunteer's evening in a real browser, in French and in English: log in, pair
with a station, a call pops, the branching survey, a callback in the voter's time
zone, the outcome saved; an expired session that loses nothing; preview mode;
door-to-door entry. Screenshots of each screen go to docs/screenshots/."""

from __future__ import annotations

import re
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from playwright.async_api import Browser, Page, expect
from sqlalchemy import func, select

from phonebank.db.enums import ConsentChannel, OutcomeChannel
from phonebank.db.models import Callback, Consent, Outcome, SurveyAnswer
from phonebank.live.bus import CallEnded, StationMode
from phonebank.live.requests import PreviewOffer
from tests.browser.conftest import Site, new_page, shoot

pytestmark = pytest.mark.browser
REUNION = ZoneInfo("Indian/Reunion")
TEXT = {
    "fr": {
        "user": "Identifiant",
        "password": "Mot de passe",
        "login": "Se connecter",
        "start": "Lancer les appels",
        "station_number": "Numéro du poste",
        "pair": "Associer cet écran",
        "ready": "Prêt",
        "connected": "Connecté.",
        "waiting": "En attente du prochain appel…",
        "yes": "Oui",
        "transport": "Transports",
        "schools": "Écoles",
        "end": "Fin du questionnaire.",
        "help": "Souhaitez-vous aider la campagne ?",
        "callback": "Rappel",
        "your_time": "Votre heure :",
        "email": "des e-mails de la campagne",
        "saved": "Résultat enregistré.",
        "summary": "Fin de permanence",
        "briefing": "Consignes",
        "close": "Fermer",
        "call_back_label": "Rappeler plus tard",
        "age": "65 ans",
    },
    "en": {
        "user": "User name",
        "password": "Password",
        "login": "Log in",
        "start": "Start calling",
        "station_number": "Station number",
        "pair": "Pair this screen",
        "ready": "Ready",
        "connected": "Connected.",
        "waiting": "Waiting for the next call…",
        "yes": "Oui",  # the survey is the campaign's own text, in French
        "transport": "Transports",
        "schools": "Écoles",
        "end": "End of the survey.",
        "help": "Souhaitez-vous aider la campagne ?",
        "callback": "Callback",
        "your_time": "Your time:",
        "email": "e-mails from the campaign",
        "saved": "Outcome saved.",
        "summary": "End of shift",
        "briefing": "Briefing",
        "close": "Close",
        "call_back_label": "Call back later",
        "age": "65 years",
    },
}


async def log_in(page: Page, site: Site, language: str, username: str) -> None:
    t = TEXT[language]
    await page.goto(f"{site.url}/login?with=account&lang={language}")
    await page.get_by_label(t["user"]).fill(username)
    await page.get_by_label(t["password"]).fill(site.world.passwords[username])
    await page.get_by_role("button", name=t["login"], exact=True).click()
    await page.wait_for_url(re.compile(r"/(\?.*)?$|/station$|/door$"))


async def pair_station(page: Page, site: Site, language: str, station: str) -> None:
    t = TEXT[language]
    await page.get_by_label(t["station_number"]).fill(station)
    await page.get_by_role("button", name=t["pair"]).click()
    await page.wait_for_url(f"{site.url}/station")
    await expect(page.locator("#banner")).to_have_text(t["connected"])


@pytest.mark.parametrize("language", ["fr", "en"])
async def test_a_volunteer_takes_a_call_and_schedules_a_callback(
    browser: Browser, site: Site, language: str
) -> None:
    t = TEXT[language]
    world = site.world
    context, page = await new_page(browser, language, tablet=language == "en")
    device = "tablet" if language == "en" else "laptop"
    try:
        await page.goto(f"{site.url}/login?lang={language}")
        await shoot(page, f"{language}-1-login")
        await log_in(page, site, language, "volunteer")
        await page.get_by_role("link", name=t["start"]).click()
        await page.wait_for_url(f"{site.url}/pair")
        await shoot(page, f"{language}-2-pair")
        await pair_station(page, site, language, "2")
        await page.get_by_role("button", name=t["ready"], exact=True).click()
        await expect(page.locator("#idle-text")).to_have_text(t["waiting"])
        await expect(page.locator("#card")).to_be_hidden()
        assert world.reports[-1].station == "2" and world.reports[-1].mode is StationMode.READY
        await shoot(page, f"{language}-3-ready")

        attempt = world.attempt("2")
        world.pop("2", attempt)
        await expect(page.locator("#contact-name")).to_have_text("Maëlle Payet")
        await expect(page.locator("#contact-age")).to_have_text(
            re.compile(r"6[56] " + t["age"].split()[1])
        )
        await expect(page.locator("#script-opening")).to_contain_text(
            "Bonjour Maëlle, je m'appelle Bénévole Démo"
        )
        await expect(page.locator("#contact-name")).to_be_focused()
        await shoot(page, f"{language}-4-call-{device}")

        # The briefing is one click away.
        await page.locator("#briefing-open-card").click()
        await expect(page.locator("#briefing")).to_contain_text("deux minutes")
        await page.get_by_role("button", name=t["close"]).click()

        # Branching: "yes" leads to the topics, a low score ends the survey.
        survey = page.locator("#survey")
        await survey.get_by_label(t["yes"], exact=True).check()
        await survey.get_by_label(t["transport"]).check()
        await survey.get_by_label(t["schools"]).check()
        await survey.get_by_label("2", exact=True).check()
        await expect(survey).to_contain_text(t["end"])
        await expect(survey).not_to_contain_text(t["help"])
        await survey.get_by_label("4", exact=True).check()
        await expect(survey).to_contain_text(t["help"])
        await survey.locator("fieldset[data-key=help]").get_by_label(t["yes"]).check()
        await expect(survey).to_contain_text(t["end"])

        world.bus.publish(CallEnded("2", attempt.id, 0.0))
        await expect(page.locator("#mode")).to_have_class(re.compile("wrapup"))
        # One key picks the outcome: 9 is "call back later".
        await page.locator("#contact-name").focus()
        await page.keyboard.press("9")
        pressed = page.locator(".disposition[aria-pressed=true]")
        await expect(pressed).to_contain_text(t["call_back_label"])
        await expect(page.get_by_role("group", name=t["callback"])).to_contain_text(
            "Indian/Reunion"
        )
        day = (datetime.now(REUNION) + timedelta(days=10)).date()
        due = datetime.combine(day, time(19, 30), tzinfo=REUNION)
        await page.locator("#callback-date").fill(day.isoformat())
        await page.locator("#callback-time").fill("19:30")
        # 19:30 in La Réunion is 16:30 or 17:30 in Paris: the screen shows both.
        paris = due.astimezone(ZoneInfo("Europe/Paris")).strftime("%H:%M")
        await expect(page.locator("#callback-mine")).to_contain_text(t["your_time"])
        await expect(page.locator("#callback-mine")).to_contain_text(paris)
        await page.get_by_label(t["email"]).check()
        await page.locator("#notes").fill("Préfère le soir")
        await shoot(page, f"{language}-5-outcome-{device}")
        await page.locator("#contact-name").focus()
        await page.keyboard.press("Enter")
        await expect(page.locator("#banner")).to_have_text(t["saved"])
        await expect(page.locator("#mode")).to_have_class(re.compile("ready"))
        await expect(page.locator("#card")).to_be_hidden()  # the screen moved on
        await shoot(page, f"{language}-6-saved")

        with world.session() as session:
            outcome = session.scalars(select(Outcome)).one()
            assert outcome.attempt_id == attempt.id and outcome.notes == "Préfère le soir"
            assert session.scalar(select(func.count(SurveyAnswer.id))) == 5
            callback = session.scalars(select(Callback)).one()
            assert callback.due_at == due.astimezone(UTC)
            consent = session.scalars(select(Consent)).one()
            assert consent.channel is ConsentChannel.EMAIL

        await page.get_by_role("link", name=t["summary"]).click()
        await expect(page.locator("#summary-calls")).to_have_text("1")
        await expect(page.locator("#summary-callbacks")).to_have_text("1")
        await shoot(page, f"{language}-7-summary")
    finally:
        await context.close()


async def test_an_outcome_recorded_after_the_session_expired_is_sent_after_login(
    browser: Browser, site: Site
) -> None:
    world = site.world
    context, page = await new_page(browser, "fr")
    try:
        await log_in(page, site, "fr", "volunteer")
        await page.goto(f"{site.url}/pair")
        await pair_station(page, site, "fr", "4")
        attempt = world.attempt("4")
        world.pop("4", attempt)
        await expect(page.locator("#contact-name")).to_have_text("Maëlle Payet")
        await context.clear_cookies(name="phonebank_session")
        await page.keyboard.press("3")
        await page.locator("#save").click()
        await expect(page.locator("#banner")).to_contain_text("Votre session a expiré")
        await shoot(page, "fr-8-session-expired")
        kept = await page.evaluate("Object.keys(localStorage).filter(k => k.includes('outbox'))")
        assert kept
        with world.session() as session:
            assert session.scalar(select(func.count(Outcome.id))) == 0
        # Double-clicking Save while expired still keeps one copy only.
        await page.locator("#save").click()
        await page.get_by_role("link", name="Se reconnecter").click()
        await page.wait_for_url(re.compile(r"/login\?next="))
        await page.goto(f"{site.url}/login?with=account&next=/station")
        await page.get_by_label("Identifiant").fill("volunteer")
        await page.get_by_label("Mot de passe").fill(world.passwords["volunteer"])
        await page.get_by_role("button", name="Se connecter", exact=True).click()
        await page.wait_for_url(f"{site.url}/station")
        await expect(page.locator("#banner")).to_contain_text("renvoyé au retour de la connexion")
        assert len(await page.evaluate("window.phonebank.saved")) == 1
        with world.session() as session:
            assert session.scalar(select(func.count(Outcome.id))) == 1
        left = await page.evaluate(
            "Object.keys(localStorage).filter(k => k.includes('outbox'))"
            ".map(k => JSON.parse(localStorage.getItem(k)).length)"
        )
        assert left == [0]
    finally:
        await context.close()


async def test_preview_mode_shows_the_contact_then_dials_on_click(
    browser: Browser, site: Site
) -> None:
    world = site.world
    context, page = await new_page(browser, "en")
    try:
        await log_in(page, site, "en", "karim")
        await page.goto(f"{site.url}/pair?station=6")
        await expect(page.get_by_label("Station number")).to_have_value("6")
        await page.get_by_role("button", name="Pair this screen").click()
        await page.wait_for_url(f"{site.url}/station")
        await expect(page.locator("#banner")).to_have_text("Connected.")
        world.desk.offer(
            PreviewOffer(
                "6",
                world.entry_id,
                world.campaign_id,
                world.contact_id,
                world.phone_id,
                "+262262000111",
                0.0,
            )
        )
        await expect(page.locator("#contact-name")).to_have_text("Maëlle Payet")
        await expect(page.locator(".outcome")).to_be_hidden()
        await expect(page.locator("#dial")).to_be_focused()
        await shoot(page, "en-9-preview")
        await page.get_by_role("button", name="Call", exact=True).click()
        await expect(page.locator("#mode")).to_have_class(re.compile("dialing"))
        assert [(d.station, d.entry_id) for d in world.dials] == [("6", world.entry_id)]
        world.pop("6", world.attempt("6"))
        await expect(page.locator(".outcome")).to_be_visible()
    finally:
        await context.close()


async def test_door_to_door_entry(browser: Browser, site: Site) -> None:
    world = site.world
    context, page = await new_page(browser, "fr", tablet=True)
    try:
        await log_in(page, site, "fr", "karim")
        await page.goto(f"{site.url}/door")
        await page.get_by_label("Nom", exact=True).fill("pay")
        await page.get_by_role("button", name="Chercher").click()
        await page.get_by_role("button", name=re.compile("Payet Maëlle")).click()
        await expect(page.locator("#contact-name")).to_have_text("Maëlle Payet")
        await page.locator("#survey").get_by_label("Non", exact=True).check()
        await page.locator("#survey textarea").fill("Travaille le dimanche")
        await page.get_by_role("button", name=re.compile("Soutien ferme")).click()
        await expect(page.locator("#closing")).to_contain_text("On compte sur vous")
        await shoot(page, "fr-10-door-tablet")
        await page.get_by_role("button", name="Enregistrer le résultat").click()
        await expect(page.locator("#banner")).to_have_text("Résultat enregistré.")
        with world.session() as session:
            outcome = session.scalars(select(Outcome)).one()
            assert outcome.channel is OutcomeChannel.DOOR
            texts = session.scalars(select(SurveyAnswer.value_text)).all()
            assert "Travaille le dimanche" in texts
    finally:
        await context.close()
