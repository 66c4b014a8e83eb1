"""Who uses the phone bank: user accounts, daily access codes, and the stations (handsets)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, CheckConstraint, ForeignKey, Index, String, true
from sqlalchemy.orm import Mapped, mapped_column

from phonebank.db.base import Base, IdMixin, TimestampMixin
from phonebank.db.enums import Language, Role
from phonebank.db.types import UTCDateTime, str_enum


class User(IdMixin, TimestampMixin, Base):
    __tablename__ = "users"

    # Stored lower-case (see phonebank.db.users.normalize_username).
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(128), default="")
    # argon2id PHC string (phonebank.security.passwords).
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[Role] = mapped_column(str_enum(Role, "role"), default=Role.VOLUNTEER)
    language: Mapped[Language] = mapped_column(str_enum(Language, "language"), default=Language.FR)
    active: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    __table_args__ = (CheckConstraint("username <> ''", name="username_not_empty"),)


class AccessCode(IdMixin, TimestampMixin, Base):
    """A short code a supervisor hands out for one day of volunteering without an account."""

    __tablename__ = "access_codes"

    code: Mapped[str] = mapped_column(String(32), unique=True)
    role: Mapped[Role] = mapped_column(str_enum(Role, "role"), default=Role.VOLUNTEER)
    # Optional: a code may be limited to one campaign.
    campaign_id: Mapped[int | None] = mapped_column(
        ForeignKey("campaigns.id", ondelete="CASCADE"), index=True
    )
    valid_from: Mapped[datetime] = mapped_column(UTCDateTime())
    valid_until: Mapped[datetime] = mapped_column(UTCDateTime())
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    __table_args__ = (
        CheckConstraint("valid_until > valid_from", name="valid_period"),
        Index("ix_access_codes_valid_until", "valid_until"),
    )


class Station(IdMixin, TimestampMixin, Base):
    """A handset a volunteer sits at: an FXS port (DAHDI/N) or a SIP phone (PJSIP/...)."""

    __tablename__ = "stations"

    # The number shown on the handset, typed by the volunteer to pair their screen.
    number: Mapped[str] = mapped_column(String(16), unique=True)
    channel: Mapped[str] = mapped_column(String(128), unique=True)
    label: Mapped[str] = mapped_column(String(128), default="")
    enabled: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
