"""The numbers behind the reports, for one campaign and a range of days.

Days are the campaign's local days (its time zone); hours are bucketed in that
zone too, in Python, so both databases give the same answer.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from phonebank.db.enums import AttemptResult, DispositionCategory
from phonebank.db.models import (
    CallAttempt,
    Contact,
    Disposition,
    Outcome,
    SurveyAnswer,
    SurveyOption,
    SurveyQuestion,
    User,
)

REACHED = {
    DispositionCategory.SUPPORTER,
    DispositionCategory.UNDECIDED,
    DispositionCategory.OPPOSED,
    DispositionCategory.CALLBACK,
    DispositionCategory.REFUSED,
    DispositionCategory.DO_NOT_CALL,
}
NO_PRECINCT = ""


@dataclass(frozen=True)
class Period:
    """[start, end) in UTC for the local days `first`..`last` of a zone."""

    first: date
    last: date
    zone: str

    @property
    def start(self) -> datetime:
        return datetime.combine(self.first, time(), ZoneInfo(self.zone)).astimezone(UTC)

    @property
    def end(self) -> datetime:
        after = self.last + timedelta(days=1)
        return datetime.combine(after, time(), ZoneInfo(self.zone)).astimezone(UTC)


@dataclass
class VolunteerRow:
    user_id: int | None
    name: str
    calls: int = 0
    reached: int = 0
    supporters: int = 0
    undecided: int = 0
    opposed: int = 0
    talk_seconds: float = 0.0


def per_volunteer(session: Session, campaign_id: int, period: Period) -> list[VolunteerRow]:
    rows: dict[int | None, VolunteerRow] = {}
    outcomes = session.execute(
        select(Outcome.recorded_by_id, User.display_name, User.username, Disposition.category)
        .join(Disposition, Disposition.id == Outcome.disposition_id)
        .outerjoin(User, User.id == Outcome.recorded_by_id)
        .where(
            Outcome.campaign_id == campaign_id,
            Outcome.recorded_at >= period.start,
            Outcome.recorded_at < period.end,
        )
    )
    for user_id, display, username, category in outcomes:
        row = rows.setdefault(user_id, VolunteerRow(user_id, display or username or ""))
        row.calls += 1
        row.reached += category in REACHED
        row.supporters += category is DispositionCategory.SUPPORTER
        row.undecided += category is DispositionCategory.UNDECIDED
        row.opposed += category is DispositionCategory.OPPOSED
    talks = session.execute(
        select(CallAttempt.user_id, User.display_name, CallAttempt.bridged_at, CallAttempt.ended_at)
        .outerjoin(User, User.id == CallAttempt.user_id)
        .where(
            CallAttempt.campaign_id == campaign_id,
            CallAttempt.bridged_at.is_not(None),
            CallAttempt.ended_at.is_not(None),
            CallAttempt.bridged_at >= period.start,
            CallAttempt.bridged_at < period.end,
        )
    )
    for user_id, display, bridged, ended in talks:
        row = rows.setdefault(user_id, VolunteerRow(user_id, display or ""))
        if bridged is not None and ended is not None:  # the query ensures it; mypy cannot
            row.talk_seconds += max((ended - bridged).total_seconds(), 0.0)
    return sorted(rows.values(), key=lambda r: (-r.calls, r.name))


@dataclass
class HourRow:
    hour: datetime  # local, on the hour
    dials: int = 0
    humans: int = 0
    machines: int = 0
    no_answer: int = 0
    abandoned: int = 0
    outcomes: int = 0


def per_hour(session: Session, campaign_id: int, period: Period) -> list[HourRow]:
    zone = ZoneInfo(period.zone)
    hours: dict[datetime, HourRow] = {}

    def bucket(at: datetime) -> HourRow:
        local = at.astimezone(zone).replace(minute=0, second=0, microsecond=0)
        return hours.setdefault(local, HourRow(local))

    attempts = session.execute(
        select(CallAttempt.created_at, CallAttempt.result, CallAttempt.abandoned)
        .where(
            CallAttempt.campaign_id == campaign_id,
            CallAttempt.created_at >= period.start,
            CallAttempt.created_at < period.end,
        )
        .execution_options(yield_per=5000)
    )
    for created, result, abandoned in attempts:
        row = bucket(created)
        row.dials += 1
        row.humans += result is AttemptResult.HUMAN
        row.machines += result is AttemptResult.MACHINE
        row.no_answer += result in (AttemptResult.NO_ANSWER, AttemptResult.BUSY)
        row.abandoned += bool(abandoned)
    recorded = session.scalars(
        select(Outcome.recorded_at).where(
            Outcome.campaign_id == campaign_id,
            Outcome.recorded_at >= period.start,
            Outcome.recorded_at < period.end,
        )
    )
    for at in recorded:
        bucket(at).outcomes += 1
    return [hours[k] for k in sorted(hours)]


@dataclass(frozen=True)
class DispositionRow:
    code: str
    label: str
    category: str
    count: int


def per_disposition(session: Session, campaign_id: int, period: Period) -> list[DispositionRow]:
    counted = session.execute(
        select(Disposition.code, Disposition.label, Disposition.category, func.count(Outcome.id))
        .join(Outcome, Outcome.disposition_id == Disposition.id)
        .where(
            Outcome.campaign_id == campaign_id,
            Outcome.recorded_at >= period.start,
            Outcome.recorded_at < period.end,
        )
        .group_by(Disposition.code, Disposition.label, Disposition.category)
    )
    rows = [DispositionRow(code, label, cat.value, n) for code, label, cat, n in counted]
    return sorted(rows, key=lambda r: (-r.count, r.code))


@dataclass
class QuestionResult:
    key: str
    prompt: str
    answers: list[str] = field(default_factory=list)  # column order
    # precinct → answer → count
    counts: dict[str, Counter[str]] = field(default_factory=lambda: defaultdict(Counter))

    def total(self, precinct: str) -> int:
        return sum(self.counts[precinct].values())


def survey_by_precinct(session: Session, campaign_id: int, period: Period) -> list[QuestionResult]:
    """Answers per question, per contact's precinct; questions keyed across script versions."""
    rows = session.execute(
        select(
            SurveyQuestion.key,
            SurveyQuestion.prompt,
            SurveyQuestion.position,
            SurveyOption.label,
            SurveyOption.position,
            SurveyAnswer.value_number,
            SurveyAnswer.value_text,
            Contact.precinct,
        )
        .join(Outcome, Outcome.id == SurveyAnswer.outcome_id)
        .join(SurveyQuestion, SurveyQuestion.id == SurveyAnswer.question_id)
        .outerjoin(SurveyOption, SurveyOption.id == SurveyAnswer.option_id)
        .join(Contact, Contact.id == Outcome.contact_id)
        .where(
            Outcome.campaign_id == campaign_id,
            Outcome.recorded_at >= period.start,
            Outcome.recorded_at < period.end,
        )
    )
    questions: dict[str, QuestionResult] = {}
    order: dict[str, int] = {}
    answer_order: dict[str, dict[str, float]] = defaultdict(dict)
    for key, prompt, q_pos, option, o_pos, number, text, precinct in rows:
        result = questions.setdefault(key, QuestionResult(key, prompt))
        order.setdefault(key, q_pos)
        if option is not None:
            answer, rank = option, float(o_pos)
        elif number is not None:
            answer, rank = f"{number:g}", float(number)
        elif text is not None:
            answer, rank = "…", 1e9  # free text: counted, not shown
        else:
            continue
        answer_order[key].setdefault(answer, rank)
        result.counts[(precinct or NO_PRECINCT).strip()][answer] += 1
    for key, result in questions.items():
        result.answers = sorted(answer_order[key], key=lambda a: (answer_order[key][a], a))
    return sorted(questions.values(), key=lambda q: (order[q.key], q.key))
