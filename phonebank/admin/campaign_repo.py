"""Campaign rows for the admin pages (SQLAlchemy sessions given by the caller)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from phonebank.admin.campaign_form import CampaignValues
from phonebank.campaigns.defaults import add_default_dispositions
from phonebank.db.enums import CampaignStatus
from phonebank.db.models import CallList, Campaign, Contact, Disposition


class NameTaken(Exception):
    """Another campaign has this name."""


@dataclass(frozen=True)
class CampaignSummary:
    id: int
    name: str
    status: str
    dial_mode: str
    caller_id: str
    lists: int
    contacts: int


def summaries(session: Session) -> list[CampaignSummary]:
    lists = (
        select(CallList.campaign_id, func.count().label("n"))
        .group_by(CallList.campaign_id)
        .subquery()
    )
    contacts = (
        select(Contact.campaign_id, func.count().label("n"))
        .group_by(Contact.campaign_id)
        .subquery()
    )
    rows = session.execute(
        select(Campaign, lists.c.n, contacts.c.n)
        .outerjoin(lists, lists.c.campaign_id == Campaign.id)
        .outerjoin(contacts, contacts.c.campaign_id == Campaign.id)
        .order_by(Campaign.status == CampaignStatus.ARCHIVED, Campaign.name)
    )
    return [
        CampaignSummary(
            c.id, c.name, c.status.value, c.dial_mode.value, c.caller_id or "", n_l or 0, n_c or 0
        )
        for c, n_l, n_c in rows
    ]


def names(session: Session) -> list[tuple[int, str]]:
    """(id, name) of every campaign not archived, for choosers."""
    rows = session.execute(
        select(Campaign.id, Campaign.name)
        .where(Campaign.status != CampaignStatus.ARCHIVED)
        .order_by(Campaign.name)
    )
    return [(i, n) for i, n in rows]


def get(session: Session, campaign_id: int) -> Campaign | None:
    return session.get(Campaign, campaign_id)


def _apply(campaign: Campaign, values: CampaignValues) -> None:
    for field in CampaignValues.__dataclass_fields__:
        setattr(campaign, field, getattr(values, field))


def _name_free(session: Session, name: str, other_than: int | None) -> bool:
    found = session.scalar(select(Campaign.id).where(Campaign.name == name))
    return found is None or found == other_than


def create(session: Session, values: CampaignValues) -> int:
    """A new draft campaign with the default dispositions; NameTaken if the name is used."""
    if not _name_free(session, values.name, None):
        raise NameTaken(values.name)
    campaign = Campaign()
    _apply(campaign, values)
    try:
        with session.begin_nested():
            session.add(campaign)
    except IntegrityError:
        raise NameTaken(values.name) from None
    add_default_dispositions(session, campaign.id)
    return campaign.id


def update(session: Session, campaign: Campaign, values: CampaignValues, at: datetime) -> None:
    if not _name_free(session, values.name, campaign.id):
        raise NameTaken(values.name)
    _apply(campaign, values)
    campaign.updated_at = at


def active_dispositions(session: Session, campaign_id: int) -> int:
    return (
        session.scalar(
            select(func.count()).where(
                Disposition.campaign_id == campaign_id, Disposition.active.is_(True)
            )
        )
        or 0
    )
