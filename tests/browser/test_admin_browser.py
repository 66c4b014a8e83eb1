"""The admin screens in a real browser (Debian's Chromium): create a campaign, upload a
list with the mapping preview, build a target, create an account and a code, read a
report and export it. Screenshots go to docs/screenshots/admin-*.png."""

from __future__ import annotations

import asyncio
import csv
import io
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from playwright.async_api import Browser, Page, expect
from sqlalchemy import select

from phonebank.db import upgrade
from phonebank.db.engine import session_factory
from phonebank.db.models import AccessCode, AuditEntry, Campaign, User
from tests.browser.conftest import new_page, shoot
from tests.integration.admin_app import AdminWorld, admin_world, login_features, seed_calls

pytestmark = pytest.mark.browser

VOTERS = (
    "Nom;Prénom;Tél. portable;Bureau de vote;Commune;Statut;Remarque\n"
    "Martin;Claire;06 12 34 56 78;0112;Lyon;indécis;appeler le soir\n"
    "Durand;Paul;04 78 00 00 01;0113;Lyon;soutien;\n"
    "Petit;Léa;pas de numéro;0112;Villeurbanne;indécis;\n"
    "Roux;Marc;07 98 76 54 32;0114;Villeurbanne;indécis;\n"
)


@pytest.fixture
async def admin_site(sqlite_url: str, tmp_path: Path) -> AsyncIterator[AdminWorld]:
    upgrade(sqlite_url)
    async with admin_world(sqlite_url, tmp_path, extra=login_features) as built:
        yield built


def _url(world: AdminWorld, path: str) -> str:
    return str(world.client.make_url(path))


async def _log_in(world: AdminWorld, page: Page, role: str, language: str) -> None:
    # The page language wins over the account's (English here).
    await page.goto(_url(world, f"/login?with=account&next=/admin&lang={language}"))
    user = "Identifiant" if language == "fr" else "User name"
    password = "Mot de passe" if language == "fr" else "Password"
    await page.get_by_label(user).fill(f"{role}1")
    await page.get_by_label(password).fill("password-1234")
    await page.get_by_role(
        "button", name="Se connecter" if language == "fr" else "Log in"
    ).last.click()
    await expect(page.locator("h1")).to_have_text("Administration")


async def test_create_a_campaign_in_french(admin_site: AdminWorld, browser: Browser) -> None:
    context, page = await new_page(browser, "fr")
    await _log_in(admin_site, page, "admin", "fr")
    await shoot(page, "admin-overview")
    await page.get_by_role("link", name="Campagnes").first.click()
    await page.get_by_role("link", name="Nouvelle campagne").click()
    await page.get_by_label("Nom", exact=True).fill("Municipales Lyon 2027")
    await page.get_by_label("Mode de numérotation").select_option("progressive")
    custom = page.get_by_label("Lundi")
    await expect(custom).to_be_hidden()
    await page.get_by_label("Horaires d’appel").select_option("custom")
    await expect(custom).to_be_visible()  # shown by CSS alone, no script
    await custom.fill("10:00-13:00, 14:00-20:00")
    await page.get_by_label("Mardi").fill("18:00-17:00")
    await page.get_by_label("Numéro présenté").first.fill("06 12 34 56 78")
    await page.get_by_role("button", name="Créer la campagne").click()
    # The wrong hours are named in the summary and beside the field; nothing is saved.
    summary = page.locator(".error-summary")
    await expect(summary).to_contain_text("Mardi")
    await expect(page.locator("#e-window_tue")).to_contain_text("Écrivez les horaires ainsi")
    await shoot(page, "admin-campaign-errors")
    await page.get_by_label("Mardi").fill("")
    await page.get_by_role("button", name="Créer la campagne").click()
    await expect(page.locator(".notice")).to_have_text("Créé.")
    await expect(page.locator(".warning")).to_contain_text("Arcep")
    await page.get_by_role("button", name="Lancer les appels").click()
    await expect(page.locator(".notice")).to_have_text("La campagne est lancée.")
    await shoot(page, "admin-campaign")
    with session_factory(admin_site.engine)() as session:
        campaign = session.scalars(select(Campaign)).one()
    assert campaign.status.value == "active" and campaign.caller_id == "+33612345678"
    assert campaign.calling_window["days"] == {"mon": [["10:00", "13:00"], ["14:00", "20:00"]]}
    await page.get_by_role("link", name="Issues d’appel").click()
    await expect(page.locator("table.editable tbody tr")).to_have_count(11)
    await shoot(page, "admin-dispositions")
    await context.close()


async def test_upload_a_list_then_build_a_target(
    admin_site: AdminWorld, browser: Browser, tmp_path: Path
) -> None:
    with session_factory(admin_site.engine).begin() as session:
        session.add(Campaign(name="Lyon 2027"))
    (tmp_path / "electeurs.csv").write_text(VOTERS, encoding="cp1252")
    context, page = await new_page(browser, "fr")
    await _log_in(admin_site, page, "admin", "fr")
    await page.goto(_url(admin_site, "/admin/lists"))
    await page.get_by_label("Fichier", exact=True).set_input_files(str(tmp_path / "electeurs.csv"))
    await page.get_by_role("button", name="Envoyer et prévisualiser").click()
    # The preview: guessed fields for each column, the first rows, the encoding found.
    await expect(page.get_by_label("Colonne Tél. portable")).to_have_value("phone")
    await expect(page.get_by_label("Colonne Bureau de vote")).to_have_value("precinct")
    await expect(page.locator(".preview-table")).to_contain_text("appeler le soir")
    await expect(page.locator("main")).to_contain_text("cp1252")
    await page.get_by_label("Colonne Remarque").select_option("ignore")
    await page.get_by_label("Mettre aussi les contacts sur cette liste d’appel").fill("Tous")
    await shoot(page, "admin-list-mapping")
    await page.get_by_role("button", name="Importer").click()
    await expect(page.locator("#import-state")).to_contain_text("Terminé.")
    await expect(page.locator('[data-key="contacts_created"]')).to_have_text("3")
    await expect(page.locator("#import-rejected")).to_have_text("1")
    async with page.expect_download() as download_info:
        await page.get_by_role("link", name="Télécharger le rapport des rejets (CSV)").click()
    download = await download_info.value
    rejects = await asyncio.to_thread(Path(await download.path()).read_text, "utf-8-sig")
    assert "Petit" in rejects
    await shoot(page, "admin-list-import")

    await page.get_by_role("link", name="Constituer une liste d’appel").first.click()
    await page.get_by_label("Campagne").select_option(label="Lyon 2027")
    await page.get_by_label("Nom de la liste d’appel").fill("Indécis de Lyon")
    await page.get_by_label("indécis", exact=True).check()
    await page.get_by_label("Communes").fill("lyon")
    await page.get_by_role("button", name="Compter les contacts correspondants").click()
    await expect(page.locator("#match-count")).to_contain_text("1")
    await shoot(page, "admin-list-build")
    await page.get_by_role("button", name="Constituer la liste").click()
    await expect(page.locator(".notice")).to_have_text("La liste d’appel est constituée.")
    await expect(page.locator("table.grid")).to_contain_text("Indécis de Lyon")
    await shoot(page, "admin-lists")
    await context.close()


async def test_create_an_account_and_a_code(admin_site: AdminWorld, browser: Browser) -> None:
    context, page = await new_page(browser, "en")
    await _log_in(admin_site, page, "admin", "en")
    await page.get_by_role("link", name="Users").first.click()
    await page.get_by_role("link", name="New account").click()
    await page.get_by_label("User name").fill("marie")
    await page.get_by_label("Name shown on screens").fill("Marie Curie")
    await page.get_by_label("Role").select_option("supervisor")
    await page.get_by_label("Password", exact=True).fill("radium-1898")
    await page.get_by_label("Same password again").fill("radium-1898")
    await page.get_by_role("button", name="Create the account").click()
    await expect(page.locator(".notice")).to_have_text("Created.")
    await expect(page.get_by_label("Password", exact=True)).to_have_value("")
    await page.get_by_role("link", name="Users").first.click()
    await expect(page.locator("table.grid")).to_contain_text("Marie Curie")
    await shoot(page, "admin-users")
    await page.get_by_role("link", name="Access codes").first.click()
    await page.get_by_label("Valid for (hours)").fill("4")
    await page.get_by_role("button", name="Make the code").click()
    code = await page.get_by_test_id("new-code").text_content()
    assert code is not None and len(code) == 9
    await shoot(page, "admin-codes")
    with session_factory(admin_site.engine)() as session:
        assert session.scalars(select(AccessCode.code)).one() == code.replace("-", "")
        assert session.scalars(select(User).where(User.username == "marie")).one().role.value == (
            "supervisor"
        )
    await page.get_by_role("button", name="Revoke").click()
    await expect(page.locator(".notice")).to_have_text("The code no longer logs anyone in.")
    await context.close()


async def test_read_a_report_and_export_it(admin_site: AdminWorld, browser: Browser) -> None:
    with session_factory(admin_site.engine).begin() as session:
        seed_calls(session, admin_site.users["volunteer"])
    context, page = await new_page(browser, "en")
    await _log_in(admin_site, page, "supervisor", "en")
    await page.get_by_role("link", name="Reports").first.click()
    await expect(page.locator("#r-volunteers")).to_be_visible()
    await expect(page.locator("section", has=page.locator("#r-survey"))).to_contain_text(
        "Will you vote?"
    )
    await shoot(page, "admin-reports")
    async with page.expect_download() as download_info:
        await page.locator("form[action='/admin/reports/dispositions.csv'] button").click()
    download = await download_info.value
    text = await asyncio.to_thread(Path(await download.path()).read_text, "utf-8-sig")
    rows = list(csv.reader(io.StringIO(text), delimiter=";"))
    assert rows[0] == ["code", "label", "category", "count"]
    assert ["strong_support", "Strong supporter", "supporter", "2"] in rows
    with session_factory(admin_site.engine)() as session:
        entry = session.scalars(select(AuditEntry)).one()
    assert entry.action == "export.report.dispositions"
    assert entry.user_id == admin_site.users["supervisor"]
    # A supervisor sees no personal-data export and no export log.
    await expect(page.get_by_role("link", name="Export log")).to_have_count(0)
    await context.close()

    context, page = await new_page(browser, "en")
    await _log_in(admin_site, page, "admin", "en")
    await page.get_by_role("link", name="Export log").first.click()
    await expect(page.locator("table.grid")).to_contain_text("report.dispositions")
    await shoot(page, "admin-export-log")
    await context.close()
