"""The wallboard's figures read from the database: the day's tallies, calls per minute,
list penetration, leads left by time zone, the station inventory.

Each function takes a session and `now` and returns plain values (floor.py's types).
Days are each campaign's local day (its time zone), as in the admin reports.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, case, func, or_, select
from sqlalchemy.orm import QueryableAttribute, Session

from phonebank.db.enums import AttemptResult, CampaignStatus, LeadStatus
from phonebank.db.models import (
    CallAttempt,
    CallList,
    CallListEntry,
    Campaign,
    Disposition,
    Outcome,
    PhoneNumber,
    Station,
    SurveyAnswer,
    SurveyOption,
    SurveyQuestion,
    User,
)
from phonebank.dialer.accounting import abandon_report
from phonebank.lists.windows import Window, is_callable_at, parse_window
from phonebank.supervisor.floor import (
    ABANDON_WINDOW_MINUTES,
    CHART_MINUTES,
    Abandon,
    CallMinute,
    CampaignMeta,
    Count,
    ListFigures,
    QuestionTally,
    StationInfo,
    Tallies,
    ZoneLeads,
)


@dataclass(frozen=True)
class Shown:
    """A campaign on the wallboard, with what its figures need."""

    meta: CampaignMeta
    time_zone: str
    window: Window


def shown_campaigns(session: Session, also: Iterable[int] = ()) -> list[Shown]:
    """ACTIVE campaigns, and those in `also` (campaigns a runner still dials for)."""
    wanted = Campaign.status == CampaignStatus.ACTIVE
    extra = list(also)
    rows = session.scalars(
        select(Campaign)
        .where(or_(wanted, Campaign.id.in_(extra)) if extra else wanted)
        .order_by(Campaign.id)
    )
    return [
        Shown(
            CampaignMeta(row.id, row.name, row.dial_mode.value, row.abandon_target),
            row.time_zone,
            parse_window(row.calling_window or None),
        )
        for row in rows
    ]


def local_midnight(now: datetime, zone: str) -> datetime:
    tz = ZoneInfo(zone)
    return datetime.combine(now.astimezone(tz).date(), time(), tzinfo=tz).astimezone(UTC)


def inventory(session: Session) -> tuple[StationInfo, ...]:
    rows = session.execute(select(Station.number, Station.label, Station.enabled))
    return tuple(StationInfo(number, label or "", enabled) for number, label, enabled in rows)


def user_names(session: Session, ids: Iterable[int]) -> dict[int, str]:
    wanted = sorted(set(ids))
    if not wanted:
        return {}
    rows = session.execute(
        select(User.id, User.display_name, User.username).where(User.id.in_(wanted))
    )
    return {uid: display or username for uid, display, username in rows}


def abandon_figures(session: Session, ids: Iterable[int], now: datetime) -> dict[int, Abandon]:
    """Today's and the 30 days' abandon rates from the attempt rows (no runner to ask)."""
    out = {}
    for cid in ids:
        report = abandon_report(session, cid, now)
        if report is not None:
            out[cid] = Abandon(
                report.today.rate, report.rolling.rate, report.target, report.today.live_answers
            )
    return out


def _dispositions(session: Session, cid: int, since: datetime) -> tuple[Count, ...]:
    rows = session.execute(
        select(Disposition.code, Disposition.label, Disposition.category, func.count(Outcome.id))
        .join(Outcome, Outcome.disposition_id == Disposition.id)
        .where(Outcome.campaign_id == cid, Outcome.recorded_at >= since)
        .group_by(Disposition.code, Disposition.label, Disposition.category, Disposition.position)
        .order_by(Disposition.position, Disposition.code)
    )
    return tuple(Count(code, label, int(n), category.value) for code, label, category, n in rows)


def _surveys(session: Session, cid: int, since: datetime) -> tuple[QuestionTally, ...]:
    # Question keys are stable across script versions: results add up over versions.
    rows = session.execute(
        select(
            SurveyQuestion.key,
            func.max(SurveyQuestion.prompt),
            SurveyOption.value,
            func.max(SurveyOption.label),
            func.min(SurveyOption.position),
            SurveyAnswer.value_number,
            func.count(SurveyAnswer.id),
        )
        .select_from(SurveyAnswer)
        .join(Outcome, Outcome.id == SurveyAnswer.outcome_id)
        .join(SurveyQuestion, SurveyQuestion.id == SurveyAnswer.question_id)
        .outerjoin(SurveyOption, SurveyOption.id == SurveyAnswer.option_id)
        .where(
            Outcome.campaign_id == cid,
            Outcome.recorded_at >= since,
            or_(SurveyAnswer.option_id.is_not(None), SurveyAnswer.value_number.is_not(None)),
        )
        .group_by(SurveyQuestion.key, SurveyOption.value, SurveyAnswer.value_number)
    )
    questions: dict[str, tuple[str, list[tuple[float, Count]]]] = {}
    for key, prompt, value, label, position, number, n in rows:
        entry = questions.setdefault(key, (prompt, []))
        # A scale answer has no option: its number is its label and its order.
        text = str(value) if value is not None else f"{number:g}"
        order = float(position) if position is not None else float(number or 0)
        entry[1].append((order, Count(text, label or text, int(n))))
    return tuple(
        QuestionTally(key, prompt, tuple(c for _o, c in sorted(counts, key=lambda x: x[0])))
        for key, (prompt, counts) in sorted(questions.items())
    )


def _bridged_since(session: Session, cid: int, since: datetime) -> int:
    # The dial's time bounds the scan (the index); a call lasts well under an hour.
    return int(
        session.scalar(
            select(func.count(CallAttempt.id)).where(
                CallAttempt.campaign_id == cid,
                CallAttempt.created_at >= since - timedelta(hours=1),
                CallAttempt.bridged_at >= since,
            )
        )
        or 0
    )


def day_tallies(session: Session, shown: Iterable[Shown], now: datetime) -> dict[int, Tallies]:
    out = {}
    for s in shown:
        cid, since = s.meta.campaign_id, local_midnight(now, s.time_zone)
        out[cid] = Tallies(
            dispositions=_dispositions(session, cid, since),
            surveys=_surveys(session, cid, since),
            contacts_today=_bridged_since(session, cid, since),
            contacts_last_hour=_bridged_since(session, cid, now - timedelta(hours=1)),
        )
    return out


def _minute(column: QueryableAttribute[datetime], dialect: str) -> ColumnElement[Any]:
    """The minute a timestamp falls in, computed by the database."""
    if dialect == "postgresql":
        return func.date_trunc("minute", column)
    # SQLite keeps naive UTC text, "YYYY-MM-DD HH:MM:SS[.ffffff]".
    return func.substr(column, 1, 16)


def _epoch(value: object) -> float:
    if isinstance(value, datetime):
        return value.replace(tzinfo=value.tzinfo or UTC).timestamp()
    return datetime.fromisoformat(f"{value}:00").replace(tzinfo=UTC).timestamp()


def _outcome(result: AttemptResult | None, abandoned: bool) -> str:
    if result is AttemptResult.HUMAN:
        return "abandoned" if abandoned else "human"
    if result in (AttemptResult.MACHINE, AttemptResult.BUSY, AttemptResult.NO_ANSWER):
        return result.value
    return "failed"


def call_minutes(session: Session, ids: Iterable[int], now: datetime) -> tuple[CallMinute, ...]:
    """Settled calls per minute of dialling and outcome, over the chart's span."""
    wanted = list(ids)
    if not wanted:
        return ()
    since = now - timedelta(minutes=CHART_MINUTES + ABANDON_WINDOW_MINUTES)
    minute = _minute(CallAttempt.created_at, session.get_bind().dialect.name)
    rows = session.execute(
        select(minute, CallAttempt.result, CallAttempt.abandoned, func.count(CallAttempt.id))
        .where(
            CallAttempt.campaign_id.in_(wanted),
            CallAttempt.created_at >= since,
            CallAttempt.result.is_not(None),
            CallAttempt.result != AttemptResult.CANCELLED,
        )
        .group_by(minute, CallAttempt.result, CallAttempt.abandoned)
    )
    tally: dict[tuple[float, str], int] = defaultdict(int)
    for at, result, abandoned, n in rows:
        tally[(_epoch(at), _outcome(result, bool(abandoned)))] += int(n)
    return tuple(CallMinute(m, o, n) for (m, o), n in sorted(tally.items()))


_STATUSES = (
    LeadStatus.PENDING,
    LeadStatus.CLAIMED,
    LeadStatus.COMPLETED,
    LeadStatus.EXHAUSTED,
    LeadStatus.EXCLUDED,
)


def _zones(session: Session, s: Shown, now: datetime) -> tuple[ZoneLeads, ...]:
    # A lead with callable numbers in two zones counts in both (rare: Réunion and Paris).
    zone = func.coalesce(PhoneNumber.time_zone, s.time_zone)
    due = or_(CallListEntry.next_attempt_at.is_(None), CallListEntry.next_attempt_at <= now)
    rows = session.execute(
        select(
            zone,
            func.count(func.distinct(CallListEntry.id)),
            func.count(func.distinct(case((due, CallListEntry.id)))),
        )
        .select_from(CallListEntry)
        .join(CallList, CallList.id == CallListEntry.call_list_id)
        .join(PhoneNumber, PhoneNumber.contact_id == CallListEntry.contact_id)
        .where(
            CallList.campaign_id == s.meta.campaign_id,
            CallList.active.is_(True),
            CallListEntry.status == LeadStatus.PENDING,
            PhoneNumber.callable.is_(True),
            PhoneNumber.do_not_call.is_(False),
        )
        .group_by(zone)
    )
    return tuple(
        ZoneLeads(str(tz), int(pending), int(due_now), is_callable_at(s.window, str(tz), now))
        for tz, pending, due_now in rows
    )


def list_figures(session: Session, shown: Iterable[Shown], now: datetime) -> dict[int, ListFigures]:
    """Penetration (leads dialled at least once ÷ leads) and what is left, per campaign."""
    out = {}
    for s in shown:
        cid = s.meta.campaign_id
        statuses = [func.count(case((CallListEntry.status == st, 1))) for st in _STATUSES]
        row = session.execute(
            select(
                func.count(CallListEntry.id),
                func.count(case((CallListEntry.attempts > 0, 1))),
                *statuses,
            )
            .join(CallList, CallList.id == CallListEntry.call_list_id)
            .where(CallList.campaign_id == cid, CallList.active.is_(True))
        ).one()
        total, attempted, pending, claimed, completed, exhausted, excluded = (int(v) for v in row)
        out[cid] = ListFigures(
            total=total,
            attempted=attempted,
            pending=pending,
            claimed=claimed,
            completed=completed,
            exhausted=exhausted,
            excluded=excluded,
            zones=_zones(session, s, now),
        )
    return out
