"""What the follow-up pages read: a campaign's queue, replies, opt-outs and sends."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from phonebank.db.enums import ConsentChannel, FollowUpChannel
from phonebank.db.models import Campaign, Consent, Contact, Disposition
from phonebank.db.models.followup import FollowUpMessage, MessageState, SmsInbox
from phonebank.followup import repo, sends

# What the queue table shows, in the order a message lives through them.
STATES = tuple(s.value for s in MessageState)
# Consent refusals that came from the person themselves, not from a call.
OPT_OUT_SOURCES = ("sms-stop", "email-unsubscribe")


@dataclass(frozen=True)
class CampaignQueue:
    id: int
    name: str
    # channel → state → messages
    counts: dict[str, dict[str, int]]
    scheduled: int


@dataclass(frozen=True)
class Reply:
    received_at: datetime
    sender: str
    body: str
    is_stop: bool
    contact: str


@dataclass(frozen=True)
class OptOut:
    recorded_at: datetime
    channel: str
    contact: str
    source: str


def _name(first: str | None, last: str | None) -> str:
    return " ".join(p for p in (first, last) if p) or "—"


def queue_counts(
    session: Session, campaign_id: int | None = None
) -> dict[int, dict[str, dict[str, int]]]:
    """campaign → channel → state → how many messages (sends themselves not counted)."""
    query = (
        select(
            FollowUpMessage.campaign_id,
            FollowUpMessage.channel,
            FollowUpMessage.state,
            func.count(),
        )
        .where(FollowUpMessage.kind.not_in(repo.PLAN_KINDS))
        .group_by(FollowUpMessage.campaign_id, FollowUpMessage.channel, FollowUpMessage.state)
    )
    if campaign_id is not None:
        query = query.where(FollowUpMessage.campaign_id == campaign_id)
    out: dict[int, dict[str, dict[str, int]]] = {}
    for cid, channel, state, count in session.execute(query):
        if cid is None:
            continue
        by_channel = out.setdefault(cid, {c.value: {} for c in FollowUpChannel})
        by_channel[channel.value][state.value] = int(count)
    return out


def campaigns(session: Session) -> list[CampaignQueue]:
    """Every campaign with its queue counts and how many sends wait for their time."""
    counts = queue_counts(session)
    scheduled = dict(
        session.execute(
            select(FollowUpMessage.campaign_id, func.count())
            .where(
                FollowUpMessage.kind == sends.PLAN_KIND,
                FollowUpMessage.state == MessageState.QUEUED,
            )
            .group_by(FollowUpMessage.campaign_id)
        ).all()
    )
    empty: dict[str, dict[str, int]] = {c.value: {} for c in FollowUpChannel}
    return [
        CampaignQueue(c.id, c.name, counts.get(c.id, empty), int(scheduled.get(c.id, 0)))
        for c in session.scalars(select(Campaign).order_by(Campaign.name))
    ]


def replies(session: Session, campaign_id: int | None, limit: int = 20) -> list[Reply]:
    """Latest SMS received from the campaign's contacts (None: from unknown numbers)."""
    query = select(SmsInbox, Contact.first_name, Contact.last_name).outerjoin(
        Contact, Contact.id == SmsInbox.contact_id
    )
    if campaign_id is None:
        query = query.where(SmsInbox.contact_id.is_(None))
    else:
        query = query.where(Contact.campaign_id == campaign_id)
    rows = session.execute(
        query.order_by(SmsInbox.received_at.desc(), SmsInbox.id.desc()).limit(limit)
    )
    return [
        Reply(row.received_at, row.sender, row.body, row.is_stop, _name(first, last))
        for row, first, last in rows
    ]


def opt_outs(session: Session, campaign_id: int, limit: int = 20) -> list[OptOut]:
    """Latest STOP replies and unsubscribe links used by the campaign's contacts."""
    rows = session.execute(
        select(Consent, Contact.first_name, Contact.last_name)
        .join(Contact, Contact.id == Consent.contact_id)
        .where(
            Contact.campaign_id == campaign_id,
            Consent.granted.is_(False),
            Consent.source.in_(OPT_OUT_SOURCES),
        )
        .order_by(Consent.recorded_at.desc(), Consent.id.desc())
        .limit(limit)
    )
    return [
        OptOut(c.recorded_at, ConsentChannel(c.channel).value, _name(first, last), c.source)
        for c, first, last in rows
    ]


def campaign_sends(session: Session, campaign_id: int, limit: int = 30) -> list[sends.SendInfo]:
    """The campaign's sends to segments: scheduled ones first (soonest first), then the
    latest others."""
    infos = [i for i in sends.listing(session) if i.campaign_id == campaign_id]
    waiting = [i for i in infos if i.shown_state in ("scheduled", "evaluating")]
    done = sorted((i for i in infos if i not in waiting), key=lambda i: (i.at, i.id), reverse=True)
    return [*waiting, *done][:limit]


def dispositions(session: Session, campaign_id: int) -> Sequence[tuple[str, str]]:
    """(code, label) of the campaign's dispositions, in their order."""
    return session.execute(
        select(Disposition.code, Disposition.label)
        .where(Disposition.campaign_id == campaign_id)
        .order_by(Disposition.position, Disposition.id)
    ).all()
