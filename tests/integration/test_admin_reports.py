"""Reports on the real databases: per volunteer, per hour, per disposition, survey results
per precinct; CSV exports and their audit rows; the export log."""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from phonebank.campaigns.defaults import DEFAULT_DISPOSITIONS
from phonebank.db.engine import session_factory
from phonebank.db.enums import AttemptResult, AttemptState, QuestionKind
from phonebank.db.models import (
    AuditEntry,
    CallAttempt,
    Campaign,
    Contact,
    Disposition,
    Outcome,
    Script,
    SurveyAnswer,
    SurveyOption,
    SurveyQuestion,
)
from tests.integration.admin_app import NOW, AdminWorld, admin_world

AT = datetime.fromtimestamp(NOW, UTC)  # 2027-01-15 08:00 UTC, 09:00 in Paris


def _seed(session: Session, volunteer: int) -> int:
    campaign = Campaign(name="Lyon 2027", time_zone="Europe/Paris")
    session.add(campaign)
    session.flush()
    codes = {}
    for position, d in enumerate(DEFAULT_DISPOSITIONS):
        row = Disposition(
            campaign_id=campaign.id,
            code=d.code,
            label=d.label,
            category=d.category,
            shortcut_key=d.key,
            position=position,
            recycle_action=d.recycle,
        )
        session.add(row)
        codes[d.code] = row
    script = Script(campaign_id=campaign.id, version=1, title="v1", active=True)
    question = SurveyQuestion(
        key="vote", position=0, kind=QuestionKind.SINGLE, prompt="Will you vote?"
    )
    yes = SurveyOption(value="yes", label="Yes", position=0)
    no = SurveyOption(value="no", label="No", position=1)
    question.options = [yes, no]
    script.questions = [question]
    session.add(script)
    session.flush()
    plan = [  # precinct, disposition, answer, minutes before AT, talk seconds
        ("0112", "strong_support", yes, 30, 120),
        ("0112", "undecided", no, 90, 60),
        ("0113", "strong_support", yes, 95, 30),
        ("0113", "not_home", None, 100, 0),
    ]
    for n, (precinct, code, answer, ago, talk) in enumerate(plan):
        contact = Contact(
            campaign_id=campaign.id, first_name=f"P{n}", last_name=f"Voter{n}", precinct=precinct
        )
        session.add(contact)
        session.flush()
        when = AT - timedelta(minutes=ago)
        attempt = CallAttempt(
            campaign_id=campaign.id,
            contact_id=contact.id,
            e164=f"+3361234567{n}",
            user_id=volunteer,
            engine_id="test",
            state=AttemptState.ENDED,
            result=AttemptResult.HUMAN if talk else AttemptResult.NO_ANSWER,
            created_at=when,
            bridged_at=when if talk else None,
            ended_at=when + timedelta(seconds=talk) if talk else None,
        )
        session.add(attempt)
        session.flush()
        outcome = Outcome(
            campaign_id=campaign.id,
            contact_id=contact.id,
            attempt_id=attempt.id,
            disposition_id=codes[code].id,
            recorded_by_id=volunteer,
            recorded_at=when + timedelta(seconds=talk + 5),
        )
        if answer is not None:
            outcome.answers = [SurveyAnswer(question_id=question.id, option_id=answer.id)]
        session.add(outcome)
    return campaign.id


@pytest.fixture
async def world(migrated_url: str, tmp_path: Path) -> AsyncIterator[AdminWorld]:
    async with admin_world(migrated_url, tmp_path) as built:
        with session_factory(built.engine).begin() as session:
            _seed(session, built.users["volunteer"])
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
