"""Follow-up: the outgoing message queue (SMS and e-mail), suppressions, the SMS inbox.

See docs/followup.md for the life of a message and the crash rule.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint, false
from sqlalchemy.orm import Mapped, mapped_column

from phonebank.db.base import Base, IdMixin, TimestampMixin, utcnow
from phonebank.db.enums import FollowUpChannel
from phonebank.db.types import JSONType, UTCDateTime, str_enum


class MessageState(StrEnum):
    QUEUED = "queued"  # waiting for next_attempt_at
    SENDING = "sending"  # claimed by a worker, lease_until set, before the modem/SMTP call
    SENT = "sent"  # accepted by the modem (every part) or the SMTP server
    DELIVERED = "delivered"  # SMS: the network's status report said delivered
    FAILED = "failed"  # refused for good, or retries exhausted
    UNCERTAIN = "uncertain"  # a crash or timeout mid-send: never resent without a person


class FollowUpMessage(IdMixin, TimestampMixin, Base):
    """One message to send, SMS or e-mail, with its idempotency key."""

    __tablename__ = "followup_messages"

    channel: Mapped[FollowUpChannel] = mapped_column(str_enum(FollowUpChannel, "followup_channel"))
    campaign_id: Mapped[int | None] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"))
    contact_id: Mapped[int | None] = mapped_column(ForeignKey("contacts.id", ondelete="CASCADE"))
    # E.164 number (SMS) or e-mail address.
    recipient: Mapped[str] = mapped_column(String(320))
    subject: Mapped[str] = mapped_column(String(255), default="")
    body: Mapped[str] = mapped_column(Text)
    body_html: Mapped[str | None] = mapped_column(Text)
    template: Mapped[str | None] = mapped_column(String(64))
    # manual, stop_ack, outcome, segment, reminder, ...
    kind: Mapped[str] = mapped_column(String(32), default="manual")
    # The caller's name for this message: enqueueing twice with one key sends once.
    idempotency_key: Mapped[str] = mapped_column(String(128), unique=True)
    state: Mapped[MessageState] = mapped_column(
        str_enum(MessageState, "message_state"), default=MessageState.QUEUED
    )
    attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    claimed_by: Mapped[str | None] = mapped_column(String(64))
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # SMS: parts of a concatenated message, how many the modem accepted, their reference.
    parts: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
    parts_sent: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    concat_ref: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # SMS: the TP-MR the modem gave each part; e-mail: [] (see provider_id).
    references: Mapped[list[int]] = mapped_column(JSONType, default=list)
    provider_id: Mapped[str | None] = mapped_column(String(255))
    last_error: Mapped[str] = mapped_column(Text, default="")
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    __table_args__ = (
        Index("ix_followup_messages_channel_state_next", "channel", "state", "next_attempt_at"),
        Index("ix_followup_messages_recipient", "recipient"),
    )


class Suppression(IdMixin, Base):
    """An address or number never to send to on a channel (STOP, unsubscribe, bounce)."""

    __tablename__ = "followup_suppressions"

    channel: Mapped[FollowUpChannel] = mapped_column(str_enum(FollowUpChannel, "followup_channel"))
    recipient: Mapped[str] = mapped_column(String(320))
    # sms-stop, email-unsubscribe, bounce, manual
    reason: Mapped[str] = mapped_column(String(32))
    detail: Mapped[str] = mapped_column(Text, default="")
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    __table_args__ = (UniqueConstraint("channel", "recipient"),)


class SmsInbox(IdMixin, Base):
    """An SMS received on the modem, kept with the contact it came from (if known)."""

    __tablename__ = "sms_inbox"

    sender: Mapped[str] = mapped_column(String(32))
    body: Mapped[str] = mapped_column(Text)
    # The service centre's time stamp; received_at is when this box read it.
    sent_at: Mapped[datetime] = mapped_column(UTCDateTime())
    received_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    contact_id: Mapped[int | None] = mapped_column(ForeignKey("contacts.id", ondelete="SET NULL"))
    is_stop: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    # A message read twice (a crash before AT+CMGD) is stored once.
    dedupe_key: Mapped[str] = mapped_column(String(64), unique=True)

    __table_args__ = (Index("ix_sms_inbox_sender", "sender"),)
