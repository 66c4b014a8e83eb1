"""Reports on the real databases: per volunteer, per hour, per disposition, survey results
per precinct; CSV exports and their audit rows; the export log."""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import select

from phonebank.db.engine import session_factory
from phonebank.db.models import AuditEntry, Campaign
from tests.integration.admin_app import AdminWorld, admin_world, seed_calls


@pytest.fixture
async def world(migrated_url: str, tmp_path: Path) -> AsyncIterator[AdminWorld]:
    async with admin_world(migrated_url, tmp_path) as built:
        with session_factory(built.engine).begin() as session:
            seed_calls(session, built.users["volunteer"])
        yield built


def _campaign(world: AdminWorld) -> int:
    with session_factory(world.engine)() as session:
        return session.scalars(select(Campaign.id)).one()


async def test_the_reports_page_shows_the_four_reports(world: AdminWorld) -> None:
    world.act_as("supervisor")
    page = await (await world.client.get(f"/admin/reports?campaign={_campaign(world)}")).text()
    # Per volunteer: 4 calls, 3 reached, 2 supporters, 3.5 minutes of talk.
    assert "<td>Volunteer1</td>" not in page  # the display name is shown, not the login
    assert '<td class="num">4</td><td class="num">3</td><td class="num">2</td>' in page
    assert '<td class="num">3.5</td>' in page
    # Per hour, in Paris time: 07:30 UTC is 08:00 Paris, 06:xx UTC is 07:00 Paris.
    assert "2027-01-15 08:00" in page and "2027-01-15 07:00" in page
    # Per disposition, labels in the page's language.
    assert "Strong supporter" in page and "50.0&nbsp;%" in page
    # Survey per precinct.
    assert "Will you vote?" in page and "<td>0112</td>" in page
    french = await (
        await world.client.get(f"/admin/reports?campaign={_campaign(world)}&lang=fr")
    ).text()
    assert "Soutien ferme" in french


async def test_report_csv_export_is_audited(world: AdminWorld) -> None:
    world.act_as("supervisor")
    campaign = str(_campaign(world))
    response = await world.client.post(
        "/admin/reports/volunteers.csv",
        data={
            "csrf_token": world.token,
            "campaign": campaign,
            "from": "2027-01-10",
            "to": "2027-01-15",
        },
    )
    assert response.status == 200
    assert response.headers["Content-Disposition"].startswith("attachment;")
    rows = list(csv.reader(io.StringIO((await response.read()).decode("utf-8-sig")), delimiter=";"))
    assert rows[0][:3] == ["volunteer", "calls", "reached"]
    assert rows[1][1:4] == ["4", "3", "2"]
    survey = await world.client.post(
        "/admin/reports/survey.csv", data={"csrf_token": world.token, "campaign": campaign}
    )
    survey_rows = (await survey.read()).decode("utf-8-sig").splitlines()
    assert "vote;0112;Yes;1" in survey_rows and "vote;0113;Yes;1" in survey_rows
    with session_factory(world.engine)() as session:
        entries = session.scalars(select(AuditEntry).order_by(AuditEntry.id)).all()
    assert [e.action for e in entries] == ["export.report.volunteers", "export.report.survey"]
    first = entries[0]
    assert first.user_id == world.users["supervisor"]
    assert first.actor == "web:supervisor-name" and first.client_address == "127.0.0.1"
    assert first.details["rows"] == 1 and first.details["personal"] is True
    assert first.details["from"] == "2027-01-10"
    assert entries[1].details["personal"] is False


async def test_personal_exports_and_the_export_log(world: AdminWorld) -> None:
    campaign = str(_campaign(world))
    response = await world.client.post(
        "/admin/reports/export/contacts.csv", data={"csrf_token": world.token, "campaign": campaign}
    )
    assert response.status == 200
    text = (await response.read()).decode()
    assert "Voter0" in text and "phone_e164" in text.splitlines()[0]
    results = await world.client.post(
        "/admin/reports/export/results.csv", data={"csrf_token": world.token, "campaign": campaign}
    )
    assert "strong_support" in (await results.read()).decode()
    with session_factory(world.engine)() as session:
        entries = session.scalars(select(AuditEntry).order_by(AuditEntry.id)).all()
    assert [e.action for e in entries] == ["export.contacts", "export.results"]
    assert all(e.user_id == world.users["admin"] for e in entries)
    assert entries[0].details["rows"] == 4
    log = await (await world.client.get("/admin/exports")).text()
    assert "web:admin-name" in log and "contacts" in log and "127.0.0.1" in log
