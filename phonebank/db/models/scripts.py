"""Call scripts (versioned, per campaign) and their survey questions."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, ForeignKey, Integer, String, Text, UniqueConstraint, false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from phonebank.db.base import Base, IdMixin, TimestampMixin
from phonebank.db.enums import QuestionKind
from phonebank.db.types import JSONType, UTCDateTime, str_enum


class Script(IdMixin, TimestampMixin, Base):
    """One version of a campaign's script; a published version is never edited."""

    __tablename__ = "scripts"

    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"))
    version: Mapped[int] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(String(255), default="")
    # The branching script: sections, merge fields, closing lines per outcome.
    body: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # The version volunteers see; at most one per campaign by the application's rule.
    active: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    questions: Mapped[list[SurveyQuestion]] = relationship(
        back_populates="script",
        cascade="all, delete-orphan",
        passive_deletes=True,
        order_by="SurveyQuestion.position",
    )

    __table_args__ = (UniqueConstraint("campaign_id", "version"),)


class SurveyQuestion(IdMixin, Base):
    __tablename__ = "survey_questions"

    script_id: Mapped[int] = mapped_column(ForeignKey("scripts.id", ondelete="CASCADE"))
    # Stable across script versions, so results add up over versions.
    key: Mapped[str] = mapped_column(String(64))
    position: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    kind: Mapped[QuestionKind] = mapped_column(str_enum(QuestionKind, "question_kind"))
    prompt: Mapped[str] = mapped_column(Text)
    required: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    # Scale bounds, the default next question, ...
    settings: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)

    script: Mapped[Script] = relationship(back_populates="questions")
    options: Mapped[list[SurveyOption]] = relationship(
        back_populates="question",
        cascade="all, delete-orphan",
        passive_deletes=True,
        order_by="SurveyOption.position",
    )

    __table_args__ = (UniqueConstraint("script_id", "key"),)


class SurveyOption(IdMixin, Base):
    __tablename__ = "survey_options"

    question_id: Mapped[int] = mapped_column(ForeignKey("survey_questions.id", ondelete="CASCADE"))
    value: Mapped[str] = mapped_column(String(64))
    label: Mapped[str] = mapped_column(String(255))
    position: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # Branching: the question asked next when this option is chosen (NULL = in order).
    next_question_key: Mapped[str | None] = mapped_column(String(64))

    question: Mapped[SurveyQuestion] = relationship(back_populates="options")

    __table_args__ = (UniqueConstraint("question_id", "value"),)
