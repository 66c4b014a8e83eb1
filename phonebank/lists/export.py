"""Exports of a campaign's personal data as CSV, each written to the audit log.

Rows are streamed from the database to the writer (never all in memory).
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from datetime import UTC, date, datetime
from typing import IO, Any

from sqlalchemy import Connection, Engine, insert, select
from sqlalchemy.orm import Session

from phonebank.db.models import (
    AuditEntry,
    CallAttempt,
    Campaign,
    Contact,
    Disposition,
    Outcome,
    PhoneNumber,
    SurveyAnswer,
    SurveyOption,
    SurveyQuestion,
)
from phonebank.lists.errors import CampaignNotFound
from phonebank.lists.headers import FIELDS

# Every field an import can fill, so that an export can be imported again.
CONTACT_COLUMNS = (
    "contact_id",
    *FIELDS,
    "source",
    "last_contacted_at",
    "custom_fields",
)
PHONE_COLUMNS = ("phone_e164", "phone_type", "timezone", "callable", "dnc", "phone_raw")
RESULT_COLUMNS = (
    "attempt_id",
    "contact_id",
    "last_name",
    "first_name",
    "phone_e164",
    "started_at",
    "answered_at",
    "ended_at",
    "network_result",
    "abandoned",
    "outcome_id",
    "channel",
    "disposition",
    "disposition_label",
    "notes",
    "recorded_at",
    "survey_answers",
)
_YIELD = 2000


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, list):
        return "|".join(str(v) for v in value)
    if isinstance(value, dict):
        return json.dumps(value, ensure_ascii=False, sort_keys=True) if value else ""
    return str(getattr(value, "value", value))


def campaign_id(conn: Connection, name: str) -> int:
    found = conn.execute(select(Campaign.id).where(Campaign.name == name)).scalar_one_or_none()
    if found is None:
        raise CampaignNotFound(f"no campaign named {name!r}")
    return found


def _contact_rows(conn: Connection, campaign: int) -> Iterator[list[str]]:
    statement = (
        select(Contact, PhoneNumber)
        .outerjoin(PhoneNumber, PhoneNumber.contact_id == Contact.id)
        .where(Contact.campaign_id == campaign)
        .order_by(Contact.id, PhoneNumber.position, PhoneNumber.id)
        .execution_options(yield_per=_YIELD)
    )
    with Session(bind=conn) as session:
        for contact, phone in session.execute(statement):
            values = [
                contact.id,
                contact.last_name,
                contact.first_name,
                contact.birth_name,
                contact.birth_date,
                contact.address_line1,
                contact.address_line2,
                contact.address_line3,
                contact.postal_code,
                contact.city,
                contact.country,
                contact.precinct,
                contact.support_level,
                contact.email,
                contact.tags,
                contact.external_id,
                contact.source,
                contact.last_contacted_at,
                contact.custom_fields,
            ]
            if phone is None:
                phone_values: list[Any] = ["", "", "", False, False, ""]
            else:
                phone_values = [
                    phone.e164,
                    phone.type,
                    phone.time_zone,
                    phone.callable,
                    phone.do_not_call,
                    phone.raw,
                ]
            yield [_text(v) for v in (*phone_values, *values)]
            session.expunge_all()


def _answers(conn: Connection, outcome_ids: list[int]) -> dict[int, dict[str, Any]]:
    if not outcome_ids:
        return {}
    rows = conn.execute(
        select(
            SurveyAnswer.outcome_id,
            SurveyQuestion.key,
            SurveyOption.value,
            SurveyAnswer.value_text,
            SurveyAnswer.value_number,
        )
        .join(SurveyQuestion, SurveyQuestion.id == SurveyAnswer.question_id)
        .outerjoin(SurveyOption, SurveyOption.id == SurveyAnswer.option_id)
        .where(SurveyAnswer.outcome_id.in_(outcome_ids))
        .order_by(SurveyAnswer.id)
    )
    out: dict[int, dict[str, Any]] = {}
    for outcome_id, key, option, text, number in rows:
        value = option if option is not None else text if text is not None else number
        answers = out.setdefault(outcome_id, {})
        if key in answers:  # a multiple-choice question: one row per option
            previous = answers[key]
            answers[key] = [*previous, value] if isinstance(previous, list) else [previous, value]
        else:
            answers[key] = value
    return out


def _result_rows(conn: Connection, campaign: int) -> Iterator[list[str]]:
    """Attempts with their outcome (if any), then door-to-door outcomes (no attempt)."""
    attempts = (
        select(
            CallAttempt.id,
            CallAttempt.contact_id,
            Contact.last_name,
            Contact.first_name,
            CallAttempt.e164,
            CallAttempt.started_at,
            CallAttempt.answered_at,
            CallAttempt.ended_at,
            CallAttempt.result,
            CallAttempt.abandoned,
            Outcome.id.label("outcome_id"),
            Outcome.channel,
            Disposition.code,
            Disposition.label,
            Outcome.notes,
            Outcome.recorded_at,
        )
        .outerjoin(Contact, Contact.id == CallAttempt.contact_id)
        .outerjoin(Outcome, Outcome.attempt_id == CallAttempt.id)
        .outerjoin(Disposition, Disposition.id == Outcome.disposition_id)
        .where(CallAttempt.campaign_id == campaign)
        .order_by(CallAttempt.id, Outcome.id)
    )
    doors = (
        select(
            Outcome.contact_id,
            Contact.last_name,
            Contact.first_name,
            Outcome.id.label("outcome_id"),
            Outcome.channel,
            Disposition.code,
            Disposition.label,
            Outcome.notes,
            Outcome.recorded_at,
        )
        .join(Contact, Contact.id == Outcome.contact_id)
        .join(Disposition, Disposition.id == Outcome.disposition_id)
        .where(Outcome.campaign_id == campaign, Outcome.attempt_id.is_(None))
        .order_by(Outcome.id)
    )
    for statement, has_attempt in ((attempts, True), (doors, False)):
        result = conn.execute(statement.execution_options(yield_per=_YIELD))
        for batch in result.partitions():
            answers = _answers(conn, [r.outcome_id for r in batch if r.outcome_id is not None])
            for r in batch:
                m = r._mapping
                row = [
                    m["id"] if has_attempt else None,
                    m["contact_id"],
                    m["last_name"],
                    m["first_name"],
                    m["e164"] if has_attempt else None,
                    m["started_at"] if has_attempt else None,
                    m["answered_at"] if has_attempt else None,
                    m["ended_at"] if has_attempt else None,
                    m["result"] if has_attempt else None,
                    m["abandoned"] if has_attempt else None,
                    m["outcome_id"],
                    m["channel"],
                    m["code"],
                    m["label"],
                    m["notes"],
                    m["recorded_at"],
                    answers.get(m["outcome_id"], {}),
                ]
                yield [_text(v) for v in row]


def export_csv(
    engine: Engine, kind: str, campaign_name: str, out: IO[str], actor: str, target: str
) -> int:
    """Write the export; log who exported what, how many rows, to where. Gives the row count."""
    rows = 0
    with engine.begin() as conn:
        campaign = campaign_id(conn, campaign_name)
        writer = csv.writer(out)
        if kind == "contacts":
            writer.writerow([*PHONE_COLUMNS, *CONTACT_COLUMNS])
            source = _contact_rows(conn, campaign)
        else:
            writer.writerow(RESULT_COLUMNS)
            source = _result_rows(conn, campaign)
        for row in source:
            writer.writerow(row)
            rows += 1
        out.flush()
        conn.execute(
            insert(AuditEntry).values(
                at=datetime.now(UTC),
                actor=actor[:128],
                action=f"export.{kind}",
                object_type="campaign",
                object_id=str(campaign),
                details={"campaign": campaign_name, "rows": rows, "format": "csv", "to": target},
            )
        )
    return rows
