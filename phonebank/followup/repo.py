"""The follow-up queue in the database: enqueue, claim with a lease, record progress.

Every function takes a Session and commits what it changed, so that a crash
between two calls leaves the database saying exactly how far a send got.

The crash rule (docs/followup.md): a message is `sending` (with a lease) before
the modem or the SMTP server sees it, and each SMS part's reference is written
as soon as the modem accepts it. A `sending` message whose lease has passed is
never resent automatically: it becomes `uncertain`, is counted in `phonebank sms
status`, and a person requeues it (`requeue`) or drops it. So nothing goes out
twice, and nothing is lost without someone being told.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from phonebank.db.enums import ConsentChannel, FollowUpChannel
from phonebank.db.models import Consent, Contact, PhoneNumber
from phonebank.db.models.followup import FollowUpMessage, MessageState, SmsInbox, Suppression
from phonebank.followup.errors import FollowUpError

# Kinds that still go to a suppressed recipient: the one confirmation of a STOP.
UNSUPPRESSED_KINDS = frozenset({"stop_ack"})
# Rows that are not messages but sends to a segment (sends.py): no worker sends them.
PLAN_KINDS = ("segment_send",)


class OptedOut(FollowUpError):
    """The recipient asked not to be contacted on this channel (STOP, unsubscribe, bounce)."""

    code = "opted_out"


def is_suppressed(session: Session, channel: FollowUpChannel, recipient: str) -> bool:
    found = session.scalar(
        select(Suppression.id).where(
            Suppression.channel == channel, Suppression.recipient == recipient
        )
    )
    return found is not None


def enqueue(
    session: Session,
    *,
    channel: FollowUpChannel,
    recipient: str,
    body: str,
    key: str,
    now: datetime,
    subject: str = "",
    body_html: str | None = None,
    template: str | None = None,
    kind: str = "manual",
    campaign_id: int | None = None,
    contact_id: int | None = None,
    parts: int = 1,
    concat_ref: int = 0,
    send_at: datetime | None = None,
) -> tuple[FollowUpMessage, bool]:
    """Queue a message once per `key`: (the message, True if this call created it)."""
    existing = session.scalar(select(FollowUpMessage).where(FollowUpMessage.idempotency_key == key))
    if existing is not None:
        return existing, False
    if kind not in (*UNSUPPRESSED_KINDS, *PLAN_KINDS) and is_suppressed(
        session, channel, recipient
    ):
        raise OptedOut(f"{recipient} opted out of {channel.value} follow-ups")
    message = FollowUpMessage(
        channel=channel,
        recipient=recipient,
        body=body,
        body_html=body_html,
        subject=subject,
        template=template,
        kind=kind,
        idempotency_key=key,
        campaign_id=campaign_id,
        contact_id=contact_id,
        parts=parts,
        concat_ref=concat_ref,
        next_attempt_at=send_at or now,
        state=MessageState.QUEUED,
        references=[],
    )
    try:
        with session.begin_nested():
            session.add(message)
    except IntegrityError:
        # Another process enqueued the same key between our SELECT and INSERT.
        session.rollback()
        raced = session.scalar(
            select(FollowUpMessage).where(FollowUpMessage.idempotency_key == key)
        )
        if raced is None:
            raise
        return raced, False
    session.commit()
    return message, True


def expire_leases(session: Session, channel: FollowUpChannel, now: datetime) -> int:
    """Mark `sending` messages whose lease passed as `uncertain` (never resent blindly)."""
    result = session.execute(
        update(FollowUpMessage)
        .where(
            FollowUpMessage.channel == channel,
            FollowUpMessage.state == MessageState.SENDING,
            FollowUpMessage.lease_until < now,
            FollowUpMessage.kind.not_in(PLAN_KINDS),
        )
        .values(
            state=MessageState.UNCERTAIN,
            last_error="the sender stopped during the send (crash or timeout): "
            "it may or may not have gone out; requeue it or drop it",
            updated_at=now,
        )
    )
    session.commit()
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def claim(
    session: Session, channel: FollowUpChannel, worker: str, now: datetime, lease: timedelta
) -> FollowUpMessage | None:
    """Take the next due message for `worker` and mark it `sending` until `now + lease`."""
    query = (
        select(FollowUpMessage)
        .where(
            FollowUpMessage.channel == channel,
            FollowUpMessage.state == MessageState.QUEUED,
            FollowUpMessage.next_attempt_at <= now,
            FollowUpMessage.kind.not_in(PLAN_KINDS),
        )
        .order_by(FollowUpMessage.next_attempt_at, FollowUpMessage.id)
        .limit(1)
        .with_for_update(skip_locked=True)
    )
    message = session.scalar(query)
    if message is None:
        session.commit()
        return None
    message.state = MessageState.SENDING
    message.claimed_by = worker
    message.lease_until = now + lease
    message.attempts += 1
    session.commit()
    return message


def _owned(message_id: int, worker: str) -> list[object]:
    # A worker records only on messages it claimed; an expired lease (uncertain) still
    # counts as its own, because it knows better than the sweeper what happened.
    return [
        FollowUpMessage.id == message_id,
        FollowUpMessage.claimed_by == worker,
        FollowUpMessage.state.in_([MessageState.SENDING, MessageState.UNCERTAIN]),
    ]


def record_part(
    session: Session, message: FollowUpMessage, worker: str, part: int, reference: int
) -> None:
    """Part `part` (1-based) was accepted by the modem with TP-MR `reference`."""
    session.refresh(message)
    if message.claimed_by != worker:
        raise FollowUpError(f"message {message.id} is no longer claimed by {worker}")
    message.parts_sent = part
    message.references = [*message.references, reference]
    session.commit()


def mark_sent(
    session: Session,
    message_id: int,
    worker: str,
    now: datetime,
    provider_id: str | None = None,
) -> None:
    session.execute(
        update(FollowUpMessage)
        .where(*_owned(message_id, worker))  # type: ignore[arg-type]
        .values(
            state=MessageState.SENT,
            sent_at=now,
            lease_until=None,
            provider_id=provider_id,
            last_error="",
            updated_at=now,
        )
    )
    session.commit()


def mark_retry(
    session: Session,
    message_id: int,
    worker: str,
    now: datetime,
    error: str,
    next_attempt: datetime | None,
) -> None:
    """Back to the queue at `next_attempt`, or `failed` when it is None."""
    state = MessageState.FAILED if next_attempt is None else MessageState.QUEUED
    session.execute(
        update(FollowUpMessage)
        .where(*_owned(message_id, worker))  # type: ignore[arg-type]
        .values(
            state=state,
            next_attempt_at=next_attempt or now,
            lease_until=None,
            claimed_by=None if next_attempt is not None else worker,
            last_error=error[:2000],
            updated_at=now,
        )
    )
    session.commit()


def mark_uncertain(
    session: Session, message_id: int, worker: str, now: datetime, error: str
) -> None:
    session.execute(
        update(FollowUpMessage)
        .where(*_owned(message_id, worker))  # type: ignore[arg-type]
        .values(state=MessageState.UNCERTAIN, lease_until=None, last_error=error, updated_at=now)
    )
    session.commit()


def requeue(session: Session, message_id: int, now: datetime) -> bool:
    """A person decided an uncertain (or failed) message should go again, unsent parts only."""
    result = session.execute(
        update(FollowUpMessage)
        .where(
            FollowUpMessage.id == message_id,
            FollowUpMessage.state.in_([MessageState.UNCERTAIN, MessageState.FAILED]),
        )
        .values(state=MessageState.QUEUED, next_attempt_at=now, claimed_by=None, updated_at=now)
    )
    session.commit()
    return bool(result.rowcount)  # type: ignore[attr-defined]


def record_delivery(
    session: Session, recipient: str, reference: int, delivered: bool, now: datetime
) -> FollowUpMessage | None:
    """Apply a status report to the latest SMS to `recipient` whose last part has `reference`."""
    candidates = session.scalars(
        select(FollowUpMessage)
        .where(
            FollowUpMessage.channel == FollowUpChannel.SMS,
            FollowUpMessage.recipient == recipient,
            FollowUpMessage.state == MessageState.SENT,
        )
        .order_by(FollowUpMessage.sent_at.desc())
        .limit(20)
    ).all()
    for message in candidates:
        if message.references and message.references[-1] == reference:
            if delivered:
                message.state = MessageState.DELIVERED
                message.delivered_at = now
            else:
                message.last_error = "the network reported the message undeliverable"
            session.commit()
            return message
    session.commit()
    return None


def counts(session: Session, channel: FollowUpChannel) -> dict[str, int]:
    rows = session.execute(
        select(FollowUpMessage.state, func.count())
        .where(FollowUpMessage.channel == channel, FollowUpMessage.kind.not_in(PLAN_KINDS))
        .group_by(FollowUpMessage.state)
    ).all()
    return {str(state): int(count) for state, count in rows}


def contacts_with_number(session: Session, e164: str) -> Sequence[Contact]:
    return session.scalars(
        select(Contact).join(PhoneNumber).where(PhoneNumber.e164 == e164).order_by(Contact.id)
    ).all()


def contacts_with_email(session: Session, address: str, campaign_id: int | None) -> list[int]:
    query = select(Contact.id).where(func.lower(Contact.email) == address.lower())
    if campaign_id is not None:
        query = query.where(Contact.campaign_id == campaign_id)
    return list(session.scalars(query).all())


def suppress(
    session: Session,
    channel: FollowUpChannel,
    recipient: str,
    reason: str,
    now: datetime,
    detail: str = "",
) -> bool:
    """Record that `recipient` must not be contacted on `channel`; False if already so."""
    if is_suppressed(session, channel, recipient):
        return False
    try:
        with session.begin_nested():
            session.add(
                Suppression(
                    channel=channel,
                    recipient=recipient,
                    reason=reason,
                    detail=detail,
                    recorded_at=now,
                )
            )
    except IntegrityError:
        return False
    return True


def record_consent(
    session: Session,
    contact_id: int,
    channel: ConsentChannel,
    granted: bool,
    source: str,
    now: datetime,
    note: str = "",
) -> None:
    session.add(
        Consent(
            contact_id=contact_id,
            channel=channel,
            granted=granted,
            source=source,
            recorded_at=now,
            note=note,
        )
    )


def store_incoming(session: Session, row: SmsInbox) -> bool:
    """Keep an incoming SMS once (by its dedupe key); False if it was already stored."""
    if session.scalar(select(SmsInbox.id).where(SmsInbox.dedupe_key == row.dedupe_key)):
        return False
    try:
        with session.begin_nested():
            session.add(row)
    except IntegrityError:
        return False
    return True


def inbox(session: Session, limit: int = 50) -> Sequence[SmsInbox]:
    return session.scalars(
        select(SmsInbox).order_by(SmsInbox.received_at.desc(), SmsInbox.id.desc()).limit(limit)
    ).all()


def latest_consent(session: Session, contact_id: int, channel: ConsentChannel) -> bool | None:
    """The contact's latest statement for `channel`: True, False, or None if never asked."""
    value = session.scalar(
        select(Consent.granted)
        .where(Consent.contact_id == contact_id, Consent.channel == channel)
        .order_by(Consent.recorded_at.desc(), Consent.id.desc())
        .limit(1)
    )
    return None if value is None else bool(value)


def refused_consent(session: Session, message: FollowUpMessage) -> bool:
    """The message's contact withdrew consent for its channel since it was queued."""
    if message.contact_id is None or message.kind in UNSUPPRESSED_KINDS:
        return False
    channel = ConsentChannel(message.channel.value)
    return latest_consent(session, message.contact_id, channel) is False
