"""Calls: dial attempts, the outcomes volunteers record, survey answers, callbacks."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    Boolean,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    false,
    func,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from phonebank.db.base import Base, IdMixin, TimestampMixin, utcnow
from phonebank.db.enums import AttemptResult, AttemptState, CallbackState, OutcomeChannel
from phonebank.db.types import UTCDateTime, str_enum


class CallAttempt(IdMixin, TimestampMixin, Base):
    """One dial. Written before the Originate; its id travels on the channel."""

    __tablename__ = "call_attempts"

    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"))
    call_list_entry_id: Mapped[int | None] = mapped_column(
        ForeignKey("call_list_entries.id", ondelete="SET NULL")
    )
    contact_id: Mapped[int | None] = mapped_column(ForeignKey("contacts.id", ondelete="SET NULL"))
    phone_id: Mapped[int | None] = mapped_column(
        ForeignKey("phone_numbers.id", ondelete="SET NULL")
    )
    # The number dialled, kept even if the phone row goes (abandon rule: 72 h per number).
    e164: Mapped[str] = mapped_column(String(16))
    station_id: Mapped[int | None] = mapped_column(ForeignKey("stations.id", ondelete="SET NULL"))
    # The volunteer at the station when the call was put through.
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    engine_id: Mapped[str] = mapped_column(String(64))
    state: Mapped[AttemptState] = mapped_column(
        str_enum(AttemptState, "attempt_state"), default=AttemptState.CREATED
    )
    result: Mapped[AttemptResult | None] = mapped_column(str_enum(AttemptResult, "attempt_result"))
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    amd_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    bridged_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # AMDSTATUS (HUMAN, MACHINE, NOTSURE, HANGUP) and AMDCAUSE as Asterisk reports them.
    amd_result: Mapped[str | None] = mapped_column(String(16))
    amd_cause: Mapped[str | None] = mapped_column(String(64))
    # Q.850 cause code and its text.
    hangup_cause: Mapped[int | None] = mapped_column(Integer)
    hangup_cause_text: Mapped[str | None] = mapped_column(String(64))
    # A human answer not put through within the campaign's limit.
    abandoned: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    asterisk_uniqueid: Mapped[str | None] = mapped_column(String(64))
    asterisk_channel: Mapped[str | None] = mapped_column(String(128))

    __table_args__ = (
        # Abandon accounting per day and over 30 days.
        Index("ix_call_attempts_campaign_id_created_at", "campaign_id", "created_at"),
        # No redial of an abandoned number within 72 h.
        Index("ix_call_attempts_e164_created_at", "e164", "created_at"),
        # Settling what was in flight after a crash.
        Index("ix_call_attempts_engine_id_state", "engine_id", "state"),
        Index("ix_call_attempts_asterisk_uniqueid", "asterisk_uniqueid"),
        Index("ix_call_attempts_call_list_entry_id", "call_list_entry_id"),
        Index("ix_call_attempts_contact_id", "contact_id"),
    )


class Outcome(IdMixin, Base):
    """What a volunteer recorded about a call (or a door knock)."""

    __tablename__ = "outcomes"

    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"))
    contact_id: Mapped[int] = mapped_column(ForeignKey("contacts.id", ondelete="CASCADE"))
    # NULL for a door-to-door entry.
    attempt_id: Mapped[int | None] = mapped_column(
        ForeignKey("call_attempts.id", ondelete="SET NULL")
    )
    disposition_id: Mapped[int] = mapped_column(ForeignKey("dispositions.id", ondelete="RESTRICT"))
    channel: Mapped[OutcomeChannel] = mapped_column(
        str_enum(OutcomeChannel, "outcome_channel"), default=OutcomeChannel.PHONE
    )
    notes: Mapped[str] = mapped_column(Text, default="")
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    recorded_at: Mapped[datetime] = mapped_column(
        UTCDateTime(), default=utcnow, server_default=func.now()
    )
    # Chosen by the browser for each submit: a resent or double submit records once.
    client_request_id: Mapped[str | None] = mapped_column(String(64), unique=True)

    answers: Mapped[list[SurveyAnswer]] = relationship(
        back_populates="outcome", cascade="all, delete-orphan", passive_deletes=True
    )

    __table_args__ = (
        Index("ix_outcomes_attempt_id", "attempt_id"),
        Index("ix_outcomes_contact_id_recorded_at", "contact_id", "recorded_at"),
        Index("ix_outcomes_campaign_id_recorded_at", "campaign_id", "recorded_at"),
    )


class SurveyAnswer(IdMixin, Base):
    """One answer to one question; a multiple-choice question gives one row per option."""

    __tablename__ = "survey_answers"

    outcome_id: Mapped[int] = mapped_column(ForeignKey("outcomes.id", ondelete="CASCADE"))
    question_id: Mapped[int] = mapped_column(ForeignKey("survey_questions.id", ondelete="RESTRICT"))
    option_id: Mapped[int | None] = mapped_column(
        ForeignKey("survey_options.id", ondelete="RESTRICT")
    )
    value_text: Mapped[str | None] = mapped_column(Text)
    value_number: Mapped[float | None] = mapped_column(Float)

    outcome: Mapped[Outcome] = relationship(back_populates="answers")

    __table_args__ = (
        Index("ix_survey_answers_outcome_id", "outcome_id"),
        Index("ix_survey_answers_question_id_option_id", "question_id", "option_id"),
    )


class Callback(IdMixin, TimestampMixin, Base):
    """A call promised for a given time; scheduled callbacks come first when due."""

    __tablename__ = "callbacks"

    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"))
    contact_id: Mapped[int] = mapped_column(ForeignKey("contacts.id", ondelete="CASCADE"))
    phone_id: Mapped[int | None] = mapped_column(
        ForeignKey("phone_numbers.id", ondelete="SET NULL")
    )
    # The outcome that asked for it.
    outcome_id: Mapped[int | None] = mapped_column(ForeignKey("outcomes.id", ondelete="SET NULL"))
    due_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # The zone the time was agreed in (the voter's), to show it back as it was said.
    time_zone: Mapped[str] = mapped_column(String(64))
    # NULL = any volunteer.
    assigned_user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )
    state: Mapped[CallbackState] = mapped_column(
        str_enum(CallbackState, "callback_state"), default=CallbackState.SCHEDULED
    )
    note: Mapped[str] = mapped_column(Text, default="")

    __table_args__ = (
        Index("ix_callbacks_campaign_id_state_due_at", "campaign_id", "state", "due_at"),
        Index("ix_callbacks_contact_id", "contact_id"),
    )
