"""Call lists as the admin pages show them (counts per status)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from phonebank.db.enums import LeadStatus
from phonebank.db.models import CallList, CallListEntry, Campaign


@dataclass(frozen=True)
class ListSummary:
    id: int
    campaign_id: int
    campaign: str
    name: str
    target: dict[str, Any]
    entries: int
    pending: int
    refreshed_at: datetime | None


def summaries(session: Session, campaign_id: int | None = None) -> list[ListSummary]:
    counts = (
        select(
            CallListEntry.call_list_id.label("list_id"),
            func.count().label("entries"),
            func.count(case((CallListEntry.status == LeadStatus.PENDING, 1))).label("pending"),
        )
        .group_by(CallListEntry.call_list_id)
        .subquery()
    )
    statement = (
        select(CallList, Campaign.name, counts.c.entries, counts.c.pending)
        .join(Campaign, Campaign.id == CallList.campaign_id)
        .outerjoin(counts, counts.c.list_id == CallList.id)
        .order_by(Campaign.name, CallList.priority.desc(), CallList.name)
    )
    if campaign_id is not None:
        statement = statement.where(CallList.campaign_id == campaign_id)
    return [
        ListSummary(
            row.id,
            row.campaign_id,
            campaign,
            row.name,
            dict(row.target or {}),
            entries or 0,
            pending or 0,
            row.refreshed_at,
        )
        for row, campaign, entries, pending in session.execute(statement)
    ]


def list_by_id(session: Session, list_id: int) -> tuple[str, str] | None:
    """(campaign name, list name) of a call list."""
    row = session.execute(
        select(Campaign.name, CallList.name)
        .join(CallList, CallList.campaign_id == Campaign.id)
        .where(CallList.id == list_id)
    ).first()
    return (row[0], row[1]) if row else None


def campaign_name(session: Session, campaign_id: int) -> str | None:
    return session.scalar(select(Campaign.name).where(Campaign.id == campaign_id))
