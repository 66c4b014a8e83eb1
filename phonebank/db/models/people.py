"""People: contacts (voters), their phone numbers, the do-not-call list, consent."""

from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    false,
    func,
    true,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from phonebank.db.base import Base, IdMixin, TimestampMixin, utcnow
from phonebank.db.enums import ConsentChannel, PhoneType, SupportLevel
from phonebank.db.types import JSONType, UTCDateTime, str_enum

if TYPE_CHECKING:
    from phonebank.db.models.campaigns import Campaign


class Contact(IdMixin, TimestampMixin, Base):
    """A person a campaign may call or visit.

    Contacts belong to a campaign: a list is imported into one, duplicates are
    merged within it, and a campaign's personal data can be erased as a whole.
    """

    __tablename__ = "contacts"

    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"))
    first_name: Mapped[str] = mapped_column(String(128), default="")
    last_name: Mapped[str] = mapped_column(String(128), default="")
    # French lists carry both the birth name (nom de naissance) and the usual name.
    birth_name: Mapped[str | None] = mapped_column(String(128))
    birth_date: Mapped[date | None] = mapped_column(Date)
    address_line1: Mapped[str | None] = mapped_column(String(255))
    address_line2: Mapped[str | None] = mapped_column(String(255))
    address_line3: Mapped[str | None] = mapped_column(String(255))
    postal_code: Mapped[str | None] = mapped_column(String(16))
    city: Mapped[str | None] = mapped_column(String(128))
    # ISO 3166-1 alpha-2 (FR, RE, ...).
    country: Mapped[str | None] = mapped_column(String(2))
    precinct: Mapped[str | None] = mapped_column(String(64))
    support_level: Mapped[SupportLevel] = mapped_column(
        str_enum(SupportLevel, "support_level"), default=SupportLevel.UNKNOWN
    )
    email: Mapped[str | None] = mapped_column(String(320))
    # JSON values are replaced, not mutated in place: assign a new list/dict to save a change.
    tags: Mapped[list[str]] = mapped_column(JSONType, default=list)
    custom_fields: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    # Where the row came from (file name, "door", ...) and its id there, for re-imports.
    source: Mapped[str | None] = mapped_column(String(128))
    external_id: Mapped[str | None] = mapped_column(String(128))
    # Set when a call or a visit reached the person (targeting: "not contacted since").
    last_contacted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    campaign: Mapped[Campaign] = relationship()
    phones: Mapped[list[PhoneNumber]] = relationship(
        back_populates="contact", cascade="all, delete-orphan", passive_deletes=True
    )

    __table_args__ = (
        # NULLs are distinct on both databases: rows without an external id never collide.
        UniqueConstraint("campaign_id", "source", "external_id"),
        Index("ix_contacts_campaign_id_name", "campaign_id", "last_name", "first_name"),
        Index("ix_contacts_campaign_id_postal_code", "campaign_id", "postal_code"),
        Index("ix_contacts_campaign_id_precinct", "campaign_id", "precinct"),
    )


class PhoneNumber(IdMixin, TimestampMixin, Base):
    __tablename__ = "phone_numbers"

    contact_id: Mapped[int] = mapped_column(ForeignKey("contacts.id", ondelete="CASCADE"))
    e164: Mapped[str] = mapped_column(String(16))
    # As written in the source file, for the record and for support questions.
    raw: Mapped[str] = mapped_column(String(64), default="")
    type: Mapped[PhoneType] = mapped_column(
        str_enum(PhoneType, "phone_type"), default=PhoneType.UNKNOWN
    )
    country: Mapped[str | None] = mapped_column(String(2))
    # IANA zone of the callee (Indian/Reunion is not Europe/Paris): the calling window uses it.
    time_zone: Mapped[str | None] = mapped_column(String(64))
    # Order of preference among the contact's numbers (0 first).
    position: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    callable: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
    do_not_call: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())

    contact: Mapped[Contact] = relationship(back_populates="phones")

    __table_args__ = (
        UniqueConstraint("contact_id", "e164"),
        CheckConstraint("e164 LIKE '+%'", name="e164_plus"),
        # Do-not-call matching and inbound call-back lookups go by number.
        Index("ix_phone_numbers_e164", "e164"),
    )


class DoNotCallEntry(IdMixin, Base):
    """A number never to be dialled, whoever it belongs to."""

    __tablename__ = "do_not_call"

    e164: Mapped[str] = mapped_column(String(16), unique=True)
    reason: Mapped[str] = mapped_column(Text, default="")
    # import, manual, ivr (pressed the opt-out key), disposition, sms_stop, ...
    source: Mapped[str] = mapped_column(String(32), default="manual")
    added_at: Mapped[datetime] = mapped_column(
        UTCDateTime(), default=utcnow, server_default=func.now()
    )
    added_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    __table_args__ = (CheckConstraint("e164 LIKE '+%'", name="e164_plus"),)


class Consent(IdMixin, Base):
    """One statement of consent (or its withdrawal); the latest per channel wins."""

    __tablename__ = "consents"

    contact_id: Mapped[int] = mapped_column(ForeignKey("contacts.id", ondelete="CASCADE"))
    channel: Mapped[ConsentChannel] = mapped_column(str_enum(ConsentChannel, "consent_channel"))
    granted: Mapped[bool] = mapped_column(Boolean)
    recorded_at: Mapped[datetime] = mapped_column(
        UTCDateTime(), default=utcnow, server_default=func.now()
    )
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    # call, door, sms_stop, email_unsubscribe, import, ...
    source: Mapped[str] = mapped_column(String(32))
    note: Mapped[str] = mapped_column(Text, default="")

    __table_args__ = (
        Index("ix_consents_contact_id_channel_recorded_at", "contact_id", "channel", "recorded_at"),
    )
