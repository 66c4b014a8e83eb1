"""The script editor's reads and writes (sync SQLAlchemy, run in a thread).

Saving never edits a version: it adds the next one and makes it the active one.
Older versions stay, with their questions and options, because the answers
recorded against them point at those rows (`survey_answers` refuses their removal).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session, selectinload

from phonebank.admin.script_form import Draft, question_settings
from phonebank.admin.script_preview import CampaignFacts, OutcomeChoice
from phonebank.db.enums import QuestionKind
from phonebank.db.models import (
    Campaign,
    Disposition,
    Script,
    SurveyAnswer,
    SurveyOption,
    SurveyQuestion,
    User,
)
from phonebank.volunteer.script import Option, Question


@dataclass(frozen=True)
class VersionRow:
    version: int
    title: str
    published_at: datetime | None
    author: str
    active: bool
    questions: int
    answers: int  # survey answers recorded against this version's questions


@dataclass(frozen=True)
class Loaded:
    """One version as the editor reads it back."""

    version: int
    title: str
    body: dict[str, object]
    questions: list[Question]


class Conflict(Exception):
    """Someone saved a version after the editor was opened."""

    def __init__(self, latest: int) -> None:
        super().__init__(f"version {latest} was saved meanwhile")
        self.latest = latest


def campaign_facts(
    session: Session, campaign_id: int, *, lock: bool = False
) -> CampaignFacts | None:
    query = select(Campaign).where(Campaign.id == campaign_id)
    # Two saves at once on PostgreSQL take turns here (SQLite writers already do).
    campaign = session.scalars(query.with_for_update() if lock else query).one_or_none()
    if campaign is None:
        return None
    return CampaignFacts(campaign.id, campaign.name, campaign.briefing or "", campaign.time_zone)


def outcome_choices(session: Session, campaign_id: int) -> list[OutcomeChoice]:
    rows = session.scalars(
        select(Disposition)
        .where(Disposition.campaign_id == campaign_id)
        .order_by(Disposition.active.desc(), Disposition.position, Disposition.id)
    )
    return [OutcomeChoice(d.code, d.label, d.category.value) for d in rows]


def latest_version(session: Session, campaign_id: int) -> int:
    found = session.scalar(
        select(func.max(Script.version)).where(Script.campaign_id == campaign_id)
    )
    return int(found or 0)


def load_version(session: Session, campaign_id: int, version: int | None) -> Loaded | None:
    """The given version, or the active one (the latest if none is active)."""
    query = select(Script).where(Script.campaign_id == campaign_id)
    if version is not None:
        query = query.where(Script.version == version)
    else:
        query = query.order_by(Script.active.desc(), Script.version.desc()).limit(1)
    script = session.scalars(
        query.options(selectinload(Script.questions).selectinload(SurveyQuestion.options))
    ).first()
    if script is None:
        return None
    questions = [
        Question.from_settings(
            q.id,
            q.key,
            q.kind.value,
            q.prompt,
            q.required,
            [Option(o.value, o.label, o.next_question_key, o.id) for o in q.options],
            q.settings or {},
        )
        for q in script.questions
    ]
    return Loaded(script.version, script.title, dict(script.body or {}), questions)


def versions(session: Session, campaign_id: int) -> list[VersionRow]:
    answers = (
        select(SurveyQuestion.script_id, func.count(SurveyAnswer.id).label("n"))
        .join(SurveyAnswer, SurveyAnswer.question_id == SurveyQuestion.id)
        .group_by(SurveyQuestion.script_id)
        .subquery()
    )
    questions = (
        select(SurveyQuestion.script_id, func.count(SurveyQuestion.id).label("n"))
        .group_by(SurveyQuestion.script_id)
        .subquery()
    )
    rows = session.execute(
        select(
            Script,
            func.coalesce(func.nullif(User.display_name, ""), User.username),
            func.coalesce(questions.c.n, 0),
            func.coalesce(answers.c.n, 0),
        )
        .outerjoin(User, User.id == Script.created_by_id)
        .outerjoin(questions, questions.c.script_id == Script.id)
        .outerjoin(answers, answers.c.script_id == Script.id)
        .where(Script.campaign_id == campaign_id)
        .order_by(Script.version.desc())
    ).all()
    return [
        VersionRow(s.version, s.title, s.published_at, author or "", s.active, int(nq), int(na))
        for s, author, nq, na in rows
    ]


def save_version(
    session: Session,
    campaign_id: int,
    draft: Draft,
    *,
    base: int,
    user_id: int | None,
    at: datetime,
) -> int:
    """Add the next version and make it the only active one; its number.

    `base` is the latest version when the editor was opened: if another was saved
    since, `Conflict` is raised and nothing is written. The caller holds the
    campaign's row lock (`campaign_facts(lock=True)`) in the same transaction.
    """
    latest = latest_version(session, campaign_id)
    if latest != base:
        raise Conflict(latest)
    session.execute(
        update(Script)
        .where(Script.campaign_id == campaign_id, Script.active.is_(True))
        .values(active=False, updated_at=at)
    )
    script = Script(
        campaign_id=campaign_id,
        version=latest + 1,
        title=draft.title,
        body=draft.body,
        published_at=at,
        active=True,
        created_by_id=user_id,
        created_at=at,
        updated_at=at,
    )
    for position, q in enumerate(draft.questions):
        row = SurveyQuestion(
            key=q.key,
            position=position,
            kind=QuestionKind(q.kind),
            prompt=q.prompt,
            required=q.required,
            settings=question_settings(q),
        )
        row.options = [
            SurveyOption(value=o.value, label=o.label, position=i, next_question_key=o.next)
            for i, o in enumerate(q.options)
        ]
        script.questions.append(row)
    session.add(script)
    session.flush()
    return script.version
