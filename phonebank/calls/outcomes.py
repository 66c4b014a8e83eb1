"""Recording an outcome: the disposition, survey answers, notes, a callback, consents.

One transaction writes it all, and the lead is settled in the same transaction
(call again later, never again, ...). The browser picks a `client_request_id` for
each outcome; a double submit, or a resend after a dropped connection or an
expired session, finds the row already there and records nothing twice.

Preconditions (checked by the caller, `phonebank.volunteer.service`): the volunteer
may record for this attempt (bridged to their station or put through to them).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from phonebank.db.enums import (
    ConsentChannel,
    DispositionCategory,
    LeadStatus,
    OutcomeChannel,
    RecycleAction,
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
    Outcome,
    PhoneNumber,
    SurveyAnswer,
)
from phonebank.dialer.ledger import settle_after_outcome
from phonebank.dialer.recycle import Lead, RecycleRules, Verdict, after_disposition
from phonebank.lists.dnc import add_e164
from phonebank.volunteer.errors import VolunteerError
from phonebank.volunteer.repo import questions_of
from phonebank.volunteer.script import Answer, Question, check_answers

# What a default disposition says about the voter, for targeting by support level.
_SUPPORT = {
    "strong_support": SupportLevel.STRONG_SUPPORTER,
    "lean_support": SupportLevel.LEAN_SUPPORTER,
    "undecided": SupportLevel.UNDECIDED,
    "opposed": SupportLevel.OPPOSED,
}
_BY_CATEGORY = {
    DispositionCategory.SUPPORTER: SupportLevel.STRONG_SUPPORTER,
    DispositionCategory.UNDECIDED: SupportLevel.UNDECIDED,
    DispositionCategory.OPPOSED: SupportLevel.OPPOSED,
}
# A call reached the person (targeting: "not contacted since").
_NOT_REACHED = {DispositionCategory.NOT_REACHED, DispositionCategory.BAD_NUMBER}
_VERDICT_STATUS = {
    Verdict.FINISH: LeadStatus.COMPLETED,
    Verdict.NEVER: LeadStatus.EXCLUDED,
    Verdict.EXHAUSTED: LeadStatus.EXHAUSTED,
}


@dataclass(frozen=True)
class CallbackRequest:
    due_at: datetime  # UTC
    time_zone: str  # the voter's, as the time was agreed
    note: str = ""


@dataclass(frozen=True)
class OutcomeInput:
    client_request_id: str
    campaign_id: int
    contact_id: int
    user_id: int | None  # None: recorded from a handset without a screen
    disposition_code: str
    channel: OutcomeChannel = OutcomeChannel.PHONE
    attempt_id: int | None = None
    phone_id: int | None = None
    notes: str = ""
    answers: tuple[Answer, ...] = ()
    callback: CallbackRequest | None = None
    consent_email: bool = False
    consent_sms: bool = False
    # The script version the volunteer's card showed; None = the active one.
    script_id: int | None = None


@dataclass(frozen=True)
class RecordedOutcome:
    outcome_id: int
    created: bool  # False: this client_request_id was recorded before
    callback_id: int | None = None
    consents: tuple[str, ...] = field(default=())


def _existing(session: Session, client_request_id: str) -> RecordedOutcome | None:
    row = session.scalars(
        select(Outcome).where(Outcome.client_request_id == client_request_id)
    ).one_or_none()
    if row is None:
        return None
    callback_id = session.scalar(select(Callback.id).where(Callback.outcome_id == row.id))
    return RecordedOutcome(row.id, created=False, callback_id=callback_id)


def record_outcome(session: Session, data: OutcomeInput, now: datetime) -> RecordedOutcome:
    """Write the outcome in the caller's transaction; raises VolunteerError on bad input."""
    if not data.client_request_id or len(data.client_request_id) > 64:
        raise VolunteerError("bad_request", "client_request_id")
    seen = _existing(session, data.client_request_id)
    if seen is not None:
        return seen
    disposition = session.scalars(
        select(Disposition).where(
            Disposition.campaign_id == data.campaign_id,
            Disposition.code == data.disposition_code,
            Disposition.active.is_(True),
        )
    ).one_or_none()
    if disposition is None:
        raise VolunteerError("unknown_disposition", data.disposition_code)
    contact = session.get(Contact, data.contact_id)
    if contact is None or contact.campaign_id != data.campaign_id:
        raise VolunteerError("unknown_contact", str(data.contact_id))
    # Checked against the questions the volunteer was shown: an admin may have saved a
    # new version of the script during the call.
    _script, questions = questions_of(session, data.campaign_id, data.script_id)
    answers = check_answers(questions, data.answers)
    if disposition.recycle_action is RecycleAction.CALLBACK and data.callback is None:
        raise VolunteerError("callback_required", disposition.code)

    outcome = Outcome(
        campaign_id=data.campaign_id,
        contact_id=contact.id,
        attempt_id=data.attempt_id,
        disposition_id=disposition.id,
        channel=data.channel,
        notes=data.notes[:5000],
        recorded_by_id=data.user_id,
        recorded_at=now,
        client_request_id=data.client_request_id,
    )
    try:
        # A savepoint: a resend racing this one loses here and finds the winner's row.
        with session.begin_nested():
            session.add(outcome)
            session.flush()
    except IntegrityError:
        again = _existing(session, data.client_request_id)
        if again is None:
            raise
        return again
    _add_answers(session, outcome, questions, answers)
    callback_id = _add_callback(session, data, outcome, disposition)
    consents = _add_consents(session, data, now)
    _update_contact(session, contact, disposition, now)
    phone = _phone(session, data)
    if disposition.adds_to_dnc and phone is not None:
        add_e164(session.connection(), [phone], source="disposition", reason=disposition.code)
    _settle(session, data, disposition, now)
    return RecordedOutcome(outcome.id, True, callback_id, consents)


def _add_answers(
    session: Session, outcome: Outcome, questions: list[Question], answers: list[Answer]
) -> None:
    by_key = {q.key: q for q in questions}
    for answer in answers:
        question = by_key[answer.key]
        if question.kind in ("single", "multiple"):
            ids = {o.value: o.id for o in question.options}
            for value in answer.options:
                row = SurveyAnswer(outcome_id=outcome.id, question_id=question.id)
                row.option_id = ids[value]
                session.add(row)
        elif question.kind == "scale":
            session.add(
                SurveyAnswer(
                    outcome_id=outcome.id, question_id=question.id, value_number=answer.number
                )
            )
        else:
            session.add(
                SurveyAnswer(outcome_id=outcome.id, question_id=question.id, value_text=answer.text)
            )


def _add_callback(
    session: Session, data: OutcomeInput, outcome: Outcome, disposition: Disposition
) -> int | None:
    if data.callback is None:
        return None
    if disposition.recycle_action is RecycleAction.NEVER:
        raise VolunteerError("bad_callback", "this outcome says never to call again")
    callback = Callback(
        campaign_id=data.campaign_id,
        contact_id=data.contact_id,
        phone_id=data.phone_id,
        outcome_id=outcome.id,
        due_at=data.callback.due_at,
        time_zone=data.callback.time_zone,
        note=data.callback.note[:1000],
    )
    session.add(callback)
    session.flush()
    return callback.id


def _add_consents(session: Session, data: OutcomeInput, now: datetime) -> tuple[str, ...]:
    source = "door" if data.channel is OutcomeChannel.DOOR else "call"
    granted = []
    for wanted, channel in (
        (data.consent_email, ConsentChannel.EMAIL),
        (data.consent_sms, ConsentChannel.SMS),
    ):
        if wanted:
            session.add(
                Consent(
                    contact_id=data.contact_id,
                    channel=channel,
                    granted=True,
                    recorded_at=now,
                    recorded_by_id=data.user_id,
                    source=source,
                )
            )
            granted.append(channel.value)
    return tuple(granted)


def _update_contact(
    session: Session, contact: Contact, disposition: Disposition, now: datetime
) -> None:
    level = _SUPPORT.get(disposition.code) or _BY_CATEGORY.get(disposition.category)
    if level is not None:
        contact.support_level = level
    if disposition.category not in _NOT_REACHED:
        contact.last_contacted_at = now


def _phone(session: Session, data: OutcomeInput) -> str | None:
    if data.attempt_id is not None:
        attempt = session.get(CallAttempt, data.attempt_id)
        if attempt is not None:
            return attempt.e164
    if data.phone_id is not None:
        phone = session.get(PhoneNumber, data.phone_id)
        if phone is not None and phone.contact_id == data.contact_id:
            return phone.e164
    return None


def _settle(session: Session, data: OutcomeInput, disposition: Disposition, now: datetime) -> None:
    """Decide the lead's next step with the recycling rules and write it."""
    callback_at = data.callback.due_at if data.callback else None
    if data.attempt_id is not None:
        # The dialer's ledger owns its leads: it releases its own claim.
        settle_after_outcome(
            session,
            attempt_id=data.attempt_id,
            disposition=disposition,
            now=now,
            callback_at=callback_at,
        )
        return
    campaign = session.get(Campaign, data.campaign_id)
    assert campaign is not None  # the contact belongs to it
    rules = RecycleRules.from_campaign(campaign.max_attempts, campaign.recycle_rules or {})
    # A door knock settles the voter's leads the dialer is not holding right now.
    entries = session.scalars(
        select(CallListEntry)
        .join(CallList, CallList.id == CallListEntry.call_list_id)
        .where(
            CallList.campaign_id == data.campaign_id,
            CallListEntry.contact_id == data.contact_id,
            CallListEntry.status == LeadStatus.PENDING,
        )
    ).all()
    for entry in entries:
        decision = after_disposition(
            action=disposition.recycle_action,
            category=disposition.category,
            retry_delay_minutes=disposition.retry_delay_minutes,
            lead=Lead(id=entry.id, tz=campaign.time_zone, attempts=entry.attempts),
            rules=rules,
            now=now,
            callback_at=callback_at,
        )
        entry.status = _VERDICT_STATUS.get(decision.verdict, LeadStatus.PENDING)
        entry.last_outcome = disposition.code
        if decision.next_at is not None:
            entry.next_attempt_at = decision.next_at
    if disposition.recycle_action is RecycleAction.NEVER or any(
        entry.status is LeadStatus.EXCLUDED for entry in entries
    ):
        session.execute(
            update(PhoneNumber)
            .where(PhoneNumber.contact_id == data.contact_id)
            .values(callable=False)
            .execution_options(synchronize_session=False)
        )
