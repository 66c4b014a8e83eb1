"""What the volunteer screen reads from the database (sync SQLAlchemy, run in a thread).

Everything returned is plain values, ready to be sent as JSON: the card of a
call pop is built here in one short read transaction.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session, selectinload

from phonebank.db.enums import CampaignStatus, OutcomeChannel
from phonebank.db.models import (
    CallAttempt,
    Campaign,
    Contact,
    Disposition,
    Outcome,
    PhoneNumber,
    Script,
    Station,
    SurveyAnswer,
    SurveyOption,
    SurveyQuestion,
)
from phonebank.db.models.calls import Callback
from phonebank.volunteer.script import (
    Option,
    Question,
    age_on,
    render_merge,
    render_script,
    zone,
)

HISTORY = 10


@dataclass(frozen=True)
class StationRow:
    id: int
    number: str
    label: str


@dataclass(frozen=True)
class AttemptInfo:
    id: int
    campaign_id: int
    contact_id: int | None
    phone_id: int | None
    station: str | None
    user_id: int | None


def find_station(session: Session, number: str) -> StationRow | None:
    row = session.scalars(
        select(Station).where(Station.number == number.strip(), Station.enabled.is_(True))
    ).one_or_none()
    return StationRow(row.id, row.number, row.label) if row is not None else None


def list_stations(session: Session) -> list[StationRow]:
    rows = session.scalars(select(Station).where(Station.enabled.is_(True)))
    stations = [StationRow(r.id, r.number, r.label) for r in rows]
    # Numbers as people read them: 2 before 10.
    return sorted(stations, key=lambda s: (len(s.number), s.number))


def attempt_info(session: Session, attempt_id: int) -> AttemptInfo | None:
    row = session.execute(
        select(CallAttempt, Station.number)
        .outerjoin(Station, Station.id == CallAttempt.station_id)
        .where(CallAttempt.id == attempt_id)
    ).one_or_none()
    if row is None:
        return None
    attempt, number = row
    return AttemptInfo(
        attempt.id,
        attempt.campaign_id,
        attempt.contact_id,
        attempt.phone_id,
        number,
        attempt.user_id,
    )


def questions_of(
    session: Session, campaign_id: int, script_id: int | None = None
) -> tuple[Script | None, list[Question]]:
    """The campaign's active script and its questions; with `script_id`, that version
    of the campaign's script (the one a volunteer's card was drawn from, even if an
    admin has saved a newer one since), else the active one."""
    loading = selectinload(Script.questions).selectinload(SurveyQuestion.options)
    script = None
    if script_id is not None:
        script = session.scalars(
            select(Script)
            .where(Script.id == script_id, Script.campaign_id == campaign_id)
            .options(loading)
        ).first()
    if script is None:
        script = session.scalars(
            select(Script)
            .where(Script.campaign_id == campaign_id, Script.active.is_(True))
            .order_by(Script.version.desc())
            .limit(1)
            .options(loading)
        ).first()
    if script is None:
        return None, []
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
    return script, questions


def dispositions_of(session: Session, campaign_id: int) -> list[Disposition]:
    return list(
        session.scalars(
            select(Disposition)
            .where(Disposition.campaign_id == campaign_id, Disposition.active.is_(True))
            .order_by(Disposition.position, Disposition.id)
        )
    )


def _history(session: Session, contact_id: int) -> list[dict[str, Any]]:
    outcomes = session.scalars(
        select(Outcome)
        .where(Outcome.contact_id == contact_id)
        .order_by(Outcome.recorded_at.desc(), Outcome.id.desc())
        .limit(HISTORY)
        .options(selectinload(Outcome.answers))
    ).all()
    if not outcomes:
        return []
    labels = dict(
        session.execute(
            select(Disposition.id, Disposition.label).where(
                Disposition.id.in_({o.disposition_id for o in outcomes})
            )
        ).all()
    )
    answers = [a for o in outcomes for a in o.answers]
    prompts = dict(
        session.execute(
            select(SurveyQuestion.id, SurveyQuestion.prompt).where(
                SurveyQuestion.id.in_({a.question_id for a in answers})
            )
        ).all()
    )
    options = dict(
        session.execute(
            select(SurveyOption.id, SurveyOption.label).where(
                SurveyOption.id.in_({a.option_id for a in answers if a.option_id})
            )
        ).all()
    )
    return [
        {
            "at": o.recorded_at.isoformat(),
            "channel": o.channel.value,
            "disposition": labels.get(o.disposition_id, ""),
            "notes": o.notes,
            "answers": [
                {"question": prompts.get(a.question_id, ""), "value": _answer_text(a, options)}
                for a in o.answers
            ],
        }
        for o in outcomes
    ]


def _answer_text(answer: SurveyAnswer, options: dict[int, str]) -> str:
    if answer.option_id is not None:
        return options.get(answer.option_id, "")
    if answer.value_number is not None:
        return f"{answer.value_number:g}"
    return answer.value_text or ""


@dataclass(frozen=True)
class CampaignKit:
    """What every card of a campaign shares: read once, reused by the pops that follow."""

    campaign: dict[str, Any]
    body: dict[str, Any]
    questions: tuple[Question, ...]
    dispositions: tuple[dict[str, Any], ...]
    # The script version the card is drawn from; the outcome is checked against it.
    script_id: int | None = None


def load_kit(session: Session, campaign_id: int) -> CampaignKit | None:
    campaign = session.get(Campaign, campaign_id)
    if campaign is None:
        return None
    script, questions = questions_of(session, campaign_id)
    return CampaignKit(
        campaign={
            "id": campaign.id,
            "name": campaign.name,
            "briefing": campaign.briefing,
            "dial_mode": campaign.dial_mode.value,
            "time_zone": campaign.time_zone,
        },
        body=dict(script.body) if script is not None else {},
        questions=tuple(questions),
        script_id=script.id if script is not None else None,
        dispositions=tuple(
            {
                "code": d.code,
                "label": d.label,
                "key": d.shortcut_key or "",
                "category": d.category.value,
                "callback": d.recycle_action.value == "callback",
            }
            for d in dispositions_of(session, campaign_id)
        ),
    )


def load_person(
    session: Session,
    *,
    campaign_id: int,
    contact_id: int,
    phone_id: int | None,
    e164: str,
    today: date,
) -> dict[str, Any] | None:
    """The contact, the number called and the previous contacts; None if unknown.

    The phone's time zone may be None here: `build_card` falls back to the campaign's.
    """
    contact = session.get(Contact, contact_id)
    if contact is None or contact.campaign_id != campaign_id:
        return None
    phone = session.get(PhoneNumber, phone_id) if phone_id is not None else None
    if phone is not None and phone.contact_id != contact_id:
        phone = None
    return {
        "contact": {
            "id": contact.id,
            "first_name": contact.first_name,
            "last_name": contact.last_name,
            "age": age_on(contact.birth_date, today),
            "city": contact.city or "",
            "postal_code": contact.postal_code or "",
            "precinct": contact.precinct or "",
            "support_level": contact.support_level.value,
            "email": bool(contact.email),
        },
        "phone": {
            "id": phone.id if phone is not None else None,
            "e164": phone.e164 if phone is not None else e164,
            "time_zone": phone.time_zone if phone is not None else None,
        },
        "history": _history(session, contact.id),
    }


def build_card(kit: CampaignKit, person: dict[str, Any], volunteer: str) -> dict[str, Any]:
    """The card a screen shows: the script and survey with this voter's merge fields."""
    contact = person["contact"]
    fields = {str(k): str(v) for k, v in (kit.body.get("fields") or {}).items()}
    fields |= {
        "first_name": contact["first_name"],
        "last_name": contact["last_name"],
        "city": contact["city"],
        "volunteer": volunteer,
        "campaign": kit.campaign["name"],
    }
    text = render_script(kit.body, fields)
    phone = person["phone"] | {
        "time_zone": zone(person["phone"]["time_zone"], kit.campaign["time_zone"])
    }
    return {
        "campaign": kit.campaign,
        **person,
        "phone": phone,
        "script": {
            "id": kit.script_id,
            "opening": text.opening,
            "sections": [{"title": t, "text": s} for t, s in text.sections],
            "closings": dict(text.closings),
        },
        "survey": [_question_json(q, fields) for q in kit.questions],
        "dispositions": [dict(d) for d in kit.dispositions],
    }


def _question_json(q: Question, fields: dict[str, str]) -> dict[str, Any]:
    return {
        "key": q.key,
        "kind": q.kind,
        "prompt": render_merge(q.prompt, fields),
        "required": q.required,
        "options": [{"value": o.value, "label": o.label, "next": o.next} for o in q.options],
        "next": q.next,
        "min": q.low,
        "max": q.high,
        "branches": [{"from": b.low, "to": b.high, "next": b.next} for b in q.branches],
    }


def first_phone(session: Session, contact_id: int) -> PhoneNumber | None:
    return session.scalars(
        select(PhoneNumber)
        .where(PhoneNumber.contact_id == contact_id)
        .order_by(PhoneNumber.position, PhoneNumber.id)
        .limit(1)
    ).first()


def door_campaigns(session: Session) -> list[tuple[int, str]]:
    rows = session.execute(
        select(Campaign.id, Campaign.name)
        .where(Campaign.status.in_((CampaignStatus.ACTIVE, CampaignStatus.DRAFT)))
        .order_by(Campaign.name)
    ).all()
    return [(campaign_id, name) for campaign_id, name in rows]


def search_contacts(
    session: Session, campaign_id: int, name: str, city: str, limit: int = 20
) -> list[dict[str, Any]]:
    """Voters of one campaign whose name (and city, if given) starts with what was typed."""
    query = select(Contact).where(Contact.campaign_id == campaign_id)
    for word in name.split()[:3]:
        pattern = f"{_like(word.lower())}%"
        query = query.where(
            or_(
                func.lower(Contact.last_name).like(pattern, escape="\\"),
                func.lower(Contact.first_name).like(pattern, escape="\\"),
                func.lower(Contact.birth_name).like(pattern, escape="\\"),
            )
        )
    if city.strip():
        query = query.where(
            func.lower(Contact.city).like(f"{_like(city.strip().lower())}%", escape="\\")
        )
    rows = session.scalars(
        query.order_by(Contact.last_name, Contact.first_name, Contact.id).limit(limit)
    )
    return [
        {
            "id": c.id,
            "first_name": c.first_name,
            "last_name": c.last_name,
            "city": c.city or "",
            "postal_code": c.postal_code or "",
            "address": c.address_line1 or "",
        }
        for c in rows
    ]


def _like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def shift_summary(session: Session, user_id: int, since: datetime) -> dict[str, Any]:
    """What one volunteer recorded since `since`: counts per disposition and channel."""
    rows = session.execute(
        select(Disposition.code, Disposition.label, Outcome.channel, func.count(Outcome.id))
        .join(Disposition, Disposition.id == Outcome.disposition_id)
        .where(Outcome.recorded_by_id == user_id, Outcome.recorded_at >= since)
        .group_by(Disposition.code, Disposition.label, Outcome.channel)
        .order_by(func.count(Outcome.id).desc(), Disposition.code)
    ).all()
    per: dict[str, dict[str, Any]] = {}
    calls = doors = 0
    for code, label, channel, count in rows:
        entry = per.setdefault(code, {"code": code, "label": label, "count": 0})
        entry["count"] += count
        if channel is OutcomeChannel.DOOR:
            doors += count
        else:
            calls += count
    callbacks = session.scalar(
        select(func.count(Callback.id))
        .join(Outcome, Outcome.id == Callback.outcome_id)
        .where(Outcome.recorded_by_id == user_id, Outcome.recorded_at >= since)
    )
    return {
        "calls": calls,
        "doors": doors,
        "callbacks": int(callbacks or 0),
        "dispositions": list(per.values()),
    }
