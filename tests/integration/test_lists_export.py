"""Exports of contacts and results on PostgreSQL and SQLite, with their audit entries."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from phonebank.cli.main import main
from phonebank.db import make_engine
from phonebank.db.enums import AttemptResult, DispositionCategory, OutcomeChannel, QuestionKind
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
from phonebank.lists.export import export_csv
from phonebank.lists.service import ImportOptions, import_file


@pytest.fixture
def engine(migrated_url: str) -> Iterator[Engine]:
    engine = make_engine(migrated_url)
    yield engine
    engine.dispose()


@pytest.fixture
def loaded(engine: Engine, tmp_path: Path) -> Engine:
    path = tmp_path / "list.csv"
    path.write_text(
        "Nom;Prénom;Fixe;Portable;CP;Tags\n"
        "Payet;Jean;0262 16 12 34;0692 12 34 56;97400;a, b\n"
        "Martin;Léa;;06 12 34 56 78;75011;\n",
        encoding="utf-8",
    )
    import_file(engine, path, ImportOptions("C", create_campaign=True))
    return engine


def read_csv(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


def test_contacts_export_one_row_per_phone_and_audit(loaded: Engine) -> None:
    out = io.StringIO()
    rows = export_csv(loaded, "contacts", "C", out, "cli:tester", "stdout")
    assert rows == 3
    exported = read_csv(out.getvalue())
    assert [r["phone_e164"] for r in exported] == ["+262262161234", "+262692123456", "+33612345678"]
    jean = exported[0]
    assert jean["phone_type"] == "fixed"
    assert jean["timezone"] == "Indian/Reunion"
    assert (jean["callable"], jean["dnc"]) == ("true", "false")
    assert (jean["last_name"], jean["first_name"], jean["tags"]) == ("Payet", "Jean", "a|b")
    with Session(loaded) as session:
        entry = session.scalars(select(AuditEntry)).one()
    assert entry.actor == "cli:tester"
    assert entry.action == "export.contacts"
    assert entry.details == {"campaign": "C", "rows": 3, "format": "csv", "to": "stdout"}
    assert entry.at <= datetime.now(UTC)


def _results(engine: Engine) -> None:
    with Session(engine) as session:
        campaign = session.scalars(select(Campaign)).one()
        contact = session.scalars(select(Contact).where(Contact.last_name == "Payet")).one()
        undecided = Disposition(
            campaign_id=campaign.id,
            code="undecided",
            label="Indécis",
            category=DispositionCategory.UNDECIDED,
        )
        script = Script(campaign_id=campaign.id, version=1)
        question = SurveyQuestion(key="issues", kind=QuestionKind.MULTIPLE, prompt="Sujets ?")
        housing = SurveyOption(value="housing", label="Logement")
        transport = SurveyOption(value="transport", label="Transports")
        question.options = [housing, transport]
        script.questions = [question]
        session.add_all([undecided, script])
        session.flush()
        attempt = CallAttempt(
            campaign_id=campaign.id,
            contact_id=contact.id,
            e164="+262692123456",
            engine_id="e1",
            result=AttemptResult.HUMAN,
            started_at=datetime(2026, 11, 23, 7, 0, tzinfo=UTC),
        )
        missed = CallAttempt(
            campaign_id=campaign.id,
            contact_id=contact.id,
            e164="+262262161234",
            engine_id="e1",
            result=AttemptResult.NO_ANSWER,
        )
        session.add_all([attempt, missed])
        session.flush()
        outcome = Outcome(
            campaign_id=campaign.id,
            contact_id=contact.id,
            attempt_id=attempt.id,
            disposition_id=undecided.id,
            notes="rappeler",
        )
        door = Outcome(
            campaign_id=campaign.id,
            contact_id=contact.id,
            disposition_id=undecided.id,
            channel=OutcomeChannel.DOOR,
        )
        outcome.answers = [
            SurveyAnswer(question_id=question.id, option_id=housing.id),
            SurveyAnswer(question_id=question.id, option_id=transport.id),
        ]
        session.add_all([outcome, door])
        session.commit()


def test_results_export_attempts_dispositions_answers(
    loaded: Engine, migrated_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _results(loaded)
    monkeypatch.setenv("PHONEBANK_DATABASE_URL", migrated_url)
    target = tmp_path / "out" / "results.csv"
    assert (
        main(["export", "results", "--campaign", "C", "--format", "csv", "--out", str(target)]) == 0
    )
    exported = read_csv(target.read_text(encoding="utf-8"))
    assert len(exported) == 3
    answered, missed, door = exported
    assert answered["network_result"] == "human"
    assert answered["disposition"] == "undecided" and answered["notes"] == "rappeler"
    assert answered["survey_answers"] == '{"issues": ["housing", "transport"]}'
    assert missed["network_result"] == "no_answer" and missed["disposition"] == ""
    assert door["channel"] == "door" and door["attempt_id"] == ""
    with Session(loaded) as session:
        entry = session.scalars(select(AuditEntry)).one()
    assert entry.action == "export.results"
    assert entry.actor.startswith("cli:")
    assert entry.details["rows"] == 3 and entry.details["to"] == str(target)


def test_unknown_campaign(
    engine: Engine, migrated_url: str, monkeypatch: pytest.MonkeyPatch, capsys: Any
) -> None:
    monkeypatch.setenv("PHONEBANK_DATABASE_URL", migrated_url)
    assert main(["export", "contacts", "--campaign", "nope"]) == 1
    assert "no campaign named 'nope'" in capsys.readouterr().err
