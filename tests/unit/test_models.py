"""The models on SQLite in memory: inserts, relationships, constraints, UTC times."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta, timezone

import pytest
from sqlalchemy import Engine, inspect, select, text
from sqlalchemy.exc import IntegrityError, StatementError
from sqlalchemy.orm import Session

from phonebank.db import Base, make_engine, session_factory
from phonebank.db.enums import (
    AttemptResult,
    AttemptState,
    CampaignStatus,
    DialMode,
    DispositionCategory,
    LeadStatus,
    PhoneType,
    QuestionKind,
    RecycleAction,
    Role,
    SupportLevel,
)
from phonebank.db.models import (
    CallAttempt,
    Callback,
    CallList,
    CallListEntry,
    Campaign,
    Consent,
    Contact,
    Disposition,
    DoNotCallEntry,
    Outcome,
    PhoneNumber,
    Script,
    Station,
    SurveyAnswer,
    SurveyOption,
    SurveyQuestion,
    User,
)

T0 = datetime(2025, 3, 1, 18, 30, tzinfo=UTC)


@pytest.fixture
def engine() -> Iterator[Engine]:
    eng = make_engine("sqlite://")
    Base.metadata.create_all(eng)
    yield eng
    eng.dispose()


@pytest.fixture
def session(engine: Engine) -> Iterator[Session]:
    with session_factory(engine)() as s:
        yield s


def _campaign(session: Session, name: str = "Municipales 2026") -> Campaign:
    campaign = Campaign(name=name)
    session.add(campaign)
    session.flush()
    return campaign


def _contact(session: Session, campaign: Campaign, last: str = "Hoarau") -> Contact:
    contact = Contact(campaign_id=campaign.id, first_name="Élodie", last_name=last)
    session.add(contact)
    session.flush()
    return contact


def test_campaign_defaults(session: Session) -> None:
    campaign = _campaign(session)
    session.commit()
    session.expire_all()
    loaded = session.get(Campaign, campaign.id)
    assert loaded is not None
    assert loaded.dial_mode is DialMode.PREDICTIVE
    assert loaded.status is CampaignStatus.DRAFT
    assert loaded.abandon_target == pytest.approx(0.03)
    assert loaded.connect_limit_seconds == pytest.approx(2.0)
    assert loaded.amd_enabled is True
    assert loaded.calling_window == {}
    assert loaded.created_at.tzinfo is not None


def test_a_whole_call_is_stored_and_read_back(session: Session) -> None:
    campaign = _campaign(session)
    volunteer = User(username="marie", password_hash="$argon2id$x", role=Role.VOLUNTEER)
    station = Station(number="7", channel="DAHDI/7", label="Table 2")
    contact = Contact(
        campaign_id=campaign.id,
        first_name="Jean",
        last_name="Payet",
        birth_name="Grondin",
        birth_date=date(1961, 5, 4),
        address_line1="12 rue de Paris",
        postal_code="97400",
        city="Saint-Denis",
        country="RE",
        precinct="0012",
        support_level=SupportLevel.UNDECIDED,
        tags=["retraité", "quartier nord"],
        custom_fields={"Profession": "Enseignant"},
        source="liste.csv",
        external_id="A-1",
    )
    contact.phones.append(
        PhoneNumber(
            e164="+262692123456",
            raw="0692 12 34 56",
            type=PhoneType.MOBILE,
            country="RE",
            time_zone="Indian/Reunion",
        )
    )
    call_list = CallList(campaign=campaign, name="Indécis")
    entry = CallListEntry(call_list=call_list, contact=contact, next_attempt_at=T0)
    disposition = Disposition(
        campaign=campaign,
        code="undecided",
        label="Indécis",
        category=DispositionCategory.UNDECIDED,
        shortcut_key="3",
        recycle_action=RecycleAction.RETRY,
        retry_delay_minutes=3 * 1440,
    )
    script = Script(
        campaign_id=campaign.id, version=1, title="v1", body={"intro": "Bonjour {first_name}"}
    )
    question = SurveyQuestion(key="vote", kind=QuestionKind.SINGLE, prompt="Irez-vous voter ?")
    question.options.append(SurveyOption(value="yes", label="Oui"))
    script.questions.append(question)
    session.add_all([volunteer, station, contact, call_list, entry, disposition, script])
    session.flush()

    attempt = CallAttempt(
        campaign_id=campaign.id,
        call_list_entry_id=entry.id,
        contact_id=contact.id,
        phone_id=contact.phones[0].id,
        e164="+262692123456",
        station_id=station.id,
        user_id=volunteer.id,
        engine_id="engine-a",
        state=AttemptState.ENDED,
        result=AttemptResult.HUMAN,
        started_at=T0,
        answered_at=T0 + timedelta(seconds=8),
        bridged_at=T0 + timedelta(seconds=10),
        ended_at=T0 + timedelta(minutes=3),
        amd_result="HUMAN",
        hangup_cause=16,
        asterisk_uniqueid="1700000000.1",
    )
    session.add(attempt)
    session.flush()
    outcome = Outcome(
        campaign_id=campaign.id,
        contact_id=contact.id,
        attempt_id=attempt.id,
        disposition_id=disposition.id,
        notes="Rappeler après le débat",
        recorded_by_id=volunteer.id,
        client_request_id="req-1",
    )
    outcome.answers.append(SurveyAnswer(question_id=question.id, option_id=question.options[0].id))
    session.add(outcome)
    session.add(
        Callback(
            campaign_id=campaign.id,
            contact_id=contact.id,
            due_at=T0 + timedelta(days=2),
            time_zone="Indian/Reunion",
            assigned_user_id=volunteer.id,
        )
    )
    session.add(
        Consent(
            contact_id=contact.id,
            channel="sms",
            granted=True,
            source="call",
            recorded_by_id=volunteer.id,
        )
    )
    session.commit()
    session.expire_all()

    loaded = session.scalars(select(Contact).where(Contact.external_id == "A-1")).one()
    assert loaded.tags == ["retraité", "quartier nord"]
    assert loaded.custom_fields == {"Profession": "Enseignant"}
    assert loaded.phones[0].time_zone == "Indian/Reunion"
    assert loaded.phones[0].callable is True and loaded.phones[0].do_not_call is False
    stored_entry = session.scalars(select(CallListEntry)).one()
    assert stored_entry.status is LeadStatus.PENDING
    assert stored_entry.next_attempt_at == T0
    stored_outcome = session.scalars(select(Outcome)).one()
    assert [a.option_id for a in stored_outcome.answers] == [question.options[0].id]
    assert session.scalars(select(CallAttempt)).one().bridged_at == T0 + timedelta(seconds=10)


def test_same_number_twice_on_one_contact_is_refused(session: Session) -> None:
    contact = _contact(session, _campaign(session))
    session.add(PhoneNumber(contact_id=contact.id, e164="+33612345678"))
    session.flush()
    session.add(PhoneNumber(contact_id=contact.id, e164="+33612345678"))
    with pytest.raises(IntegrityError, match="UNIQUE"):
        session.flush()


def test_same_number_on_two_contacts_is_allowed(session: Session) -> None:
    campaign = _campaign(session)
    first, second = _contact(session, campaign, "A"), _contact(session, campaign, "B")
    session.add_all([PhoneNumber(contact_id=c.id, e164="+33123456789") for c in (first, second)])
    session.flush()
    assert session.scalar(select(PhoneNumber.id).where(PhoneNumber.contact_id == second.id))


def test_do_not_call_number_is_unique(session: Session) -> None:
    session.add(DoNotCallEntry(e164="+33612345678", reason="asked on the phone", source="ivr"))
    session.flush()
    session.add(DoNotCallEntry(e164="+33612345678", source="import"))
    with pytest.raises(IntegrityError, match="UNIQUE"):
        session.flush()


def test_a_number_must_be_e164(session: Session) -> None:
    session.add(DoNotCallEntry(e164="0612345678"))
    with pytest.raises(IntegrityError, match="CHECK"):
        session.flush()


def test_campaign_names_are_unique(session: Session) -> None:
    _campaign(session, "Législatives")
    session.add(Campaign(name="Législatives"))
    with pytest.raises(IntegrityError, match="UNIQUE"):
        session.flush()


def test_lead_appears_once_per_list(session: Session) -> None:
    campaign = _campaign(session)
    contact = _contact(session, campaign)
    call_list = CallList(campaign_id=campaign.id, name="Tous")
    session.add(call_list)
    session.flush()
    session.add(CallListEntry(call_list_id=call_list.id, contact_id=contact.id))
    session.flush()
    session.add(CallListEntry(call_list_id=call_list.id, contact_id=contact.id))
    with pytest.raises(IntegrityError, match="UNIQUE"):
        session.flush()


def test_outcome_request_id_records_once(session: Session) -> None:
    campaign = _campaign(session)
    contact = _contact(session, campaign)
    disposition = Disposition(campaign_id=campaign.id, code="x", label="X", category="other")
    session.add(disposition)
    session.flush()
    for _ in range(2):
        session.add(
            Outcome(
                campaign_id=campaign.id,
                contact_id=contact.id,
                disposition_id=disposition.id,
                client_request_id="same-submit",
            )
        )
    with pytest.raises(IntegrityError, match="UNIQUE"):
        session.flush()


def test_enum_check_constraint_guards_raw_sql(engine: Engine) -> None:
    with engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO campaigns (name, description, briefing, dial_mode, "
                "status, abandon_target, connect_limit_seconds, max_attempts, "
                "recycle_rules, amd_enabled, amd_settings, machine_action, "
                "calling_window, time_zone, record_calls) VALUES ('ok', '', '', "
                "'predictive', 'draft', 0.03, 2, 3, '{}', 1, '{}', 'hangup', "
                "'{}', 'Europe/Paris', 0)"
            )
        )
    with pytest.raises(IntegrityError, match="CHECK"), engine.begin() as connection:
        connection.execute(text("UPDATE campaigns SET dial_mode = 'telepathic'"))


def test_enum_rejects_unknown_value_before_sql(session: Session) -> None:
    session.add(Campaign(name="x", dial_mode="telepathic"))
    with pytest.raises(StatementError, match="telepathic"):
        session.flush()


def test_abandon_target_must_be_a_share(session: Session) -> None:
    session.add(Campaign(name="x", abandon_target=3.0))
    with pytest.raises(IntegrityError, match="CHECK"):
        session.flush()


def test_foreign_keys_are_enforced(session: Session) -> None:
    session.add(PhoneNumber(contact_id=999_999, e164="+33612345678"))
    with pytest.raises(IntegrityError, match="FOREIGN KEY"):
        session.flush()


def test_deleting_a_contact_deletes_its_phones_in_the_database(session: Session) -> None:
    contact = _contact(session, _campaign(session))
    session.add(PhoneNumber(contact_id=contact.id, e164="+33612345678"))
    session.commit()
    # Plain SQL: the ON DELETE CASCADE of the schema does it, not the ORM.
    session.execute(text("DELETE FROM contacts WHERE id = :id"), {"id": contact.id})
    session.commit()
    assert session.scalar(text("SELECT count(*) FROM phone_numbers")) == 0


def test_times_come_back_as_aware_utc(session: Session) -> None:
    contact = _contact(session, _campaign(session))
    paris_evening = datetime(2025, 3, 1, 19, 30, tzinfo=timezone(timedelta(hours=1)))
    session.add(
        Callback(
            campaign_id=contact.campaign_id,
            contact_id=contact.id,
            due_at=paris_evening,
            time_zone="Europe/Paris",
        )
    )
    session.commit()
    session.expire_all()
    due = session.scalars(select(Callback.due_at)).one()
    assert due == T0 and due.tzinfo == UTC


def test_naive_times_are_refused(session: Session) -> None:
    contact = _contact(session, _campaign(session))
    session.add(
        Callback(
            campaign_id=contact.campaign_id,
            contact_id=contact.id,
            due_at=datetime(2025, 3, 1, 18, 30),
            time_zone="Europe/Paris",
        )
    )
    with pytest.raises(StatementError, match="naive datetime"):
        session.flush()


def test_updated_at_moves_on_update(session: Session) -> None:
    campaign = Campaign(name="x", created_at=T0, updated_at=T0)
    session.add(campaign)
    session.commit()
    campaign.description = "changed"
    session.commit()
    session.expire_all()
    assert campaign.created_at == T0
    assert campaign.updated_at > T0


def test_lead_claim_index_exists(engine: Engine) -> None:
    indexes = {
        ix["name"]: ix["column_names"] for ix in inspect(engine).get_indexes("call_list_entries")
    }
    assert indexes["ix_call_list_entries_claim"] == ["call_list_id", "status", "next_attempt_at"]


def test_every_constraint_and_index_is_named_within_postgres_limit() -> None:
    for table in Base.metadata.tables.values():
        names = [c.name for c in table.constraints] + [i.name for i in table.indexes]
        for name in names:
            assert name, f"an unnamed constraint or index on {table.name}"
            assert len(str(name)) <= 63, f"{name} is longer than 63 characters"
