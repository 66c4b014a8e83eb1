"""Campaigns, their call lists (the dialer's leads) and their dispositions."""

from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    false,
    true,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from phonebank.db.base import Base, IdMixin, TimestampMixin
from phonebank.db.enums import (
    CampaignStatus,
    DialMode,
    DispositionCategory,
    FollowUpChannel,
    LeadStatus,
    MachineAction,
    RecycleAction,
)
from phonebank.db.types import JSONType, UTCDateTime, str_enum

if TYPE_CHECKING:
    from phonebank.db.models.people import Contact


class Campaign(IdMixin, TimestampMixin, Base):
    __tablename__ = "campaigns"

    name: Mapped[str] = mapped_column(String(128), unique=True)
    description: Mapped[str] = mapped_column(Text, default="")
    # Talking points, one click away on the volunteer screen.
    briefing: Mapped[str] = mapped_column(Text, default="")
    dial_mode: Mapped[DialMode] = mapped_column(
        str_enum(DialMode, "dial_mode"), default=DialMode.PREDICTIVE
    )
    status: Mapped[CampaignStatus] = mapped_column(
        str_enum(CampaignStatus, "campaign_status"), default=CampaignStatus.DRAFT
    )
    # Most trunk channels this campaign may hold at once; NULL = no cap of its own.
    lines_cap: Mapped[int | None] = mapped_column(Integer)
    # Abandoned calls / live answers the pacer must stay under (3 % by default).
    abandon_target: Mapped[float] = mapped_column(Float, default=0.03, server_default="0.03")
    # A human not put through to a station within this many seconds is abandoned.
    connect_limit_seconds: Mapped[float] = mapped_column(Float, default=2.0, server_default="2.0")
    max_attempts: Mapped[int] = mapped_column(Integer, default=3, server_default="3")
    # Per network outcome (no_answer, busy, machine, abandoned, ...): delays and limits
    # read by the recycling rules; dispositions carry their own rule columns.
    recycle_rules: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    amd_enabled: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
    # AMD() parameters (initial_silence, greeting, ...); missing keys take the defaults.
    amd_settings: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    machine_action: Mapped[MachineAction] = mapped_column(
        str_enum(MachineAction, "machine_action"), default=MachineAction.HANGUP
    )
    caller_id: Mapped[str | None] = mapped_column(String(32))
    caller_id_name: Mapped[str | None] = mapped_column(String(64))
    # {"preset": "fr_voluntary"} or custom days and hours, in the callee's local time.
    calling_window: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    # IANA zone of the campaign itself (reports, election day); callees have their own.
    time_zone: Mapped[str] = mapped_column(String(64), default="Europe/Paris")
    # Names of sound files (without extension) in the sounds folder.
    safe_harbor_recording: Mapped[str | None] = mapped_column(String(255))
    voicemail_recording: Mapped[str | None] = mapped_column(String(255))
    record_calls: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    election_date: Mapped[date | None] = mapped_column(Date)

    call_lists: Mapped[list[CallList]] = relationship(back_populates="campaign")
    dispositions: Mapped[list[Disposition]] = relationship(back_populates="campaign")

    __table_args__ = (
        CheckConstraint("abandon_target >= 0 AND abandon_target <= 1", name="abandon_target_range"),
        CheckConstraint("lines_cap IS NULL OR lines_cap > 0", name="lines_cap_positive"),
        CheckConstraint("connect_limit_seconds > 0", name="connect_limit_positive"),
        CheckConstraint("max_attempts >= 1", name="max_attempts_positive"),
    )


class CallList(IdMixin, TimestampMixin, Base):
    __tablename__ = "call_lists"

    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(128))
    description: Mapped[str] = mapped_column(Text, default="")
    # The saved target definition, so the list can be rebuilt ("refreshed").
    target: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    # Higher first when several lists of a campaign are active.
    priority: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    active: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
    refreshed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    campaign: Mapped[Campaign] = relationship(back_populates="call_lists")
    entries: Mapped[list[CallListEntry]] = relationship(back_populates="call_list")

    __table_args__ = (UniqueConstraint("campaign_id", "name"),)


class CallListEntry(IdMixin, TimestampMixin, Base):
    """A lead: one contact on one call list, with the dialer's bookkeeping."""

    __tablename__ = "call_list_entries"

    call_list_id: Mapped[int] = mapped_column(ForeignKey("call_lists.id", ondelete="CASCADE"))
    contact_id: Mapped[int] = mapped_column(ForeignKey("contacts.id", ondelete="CASCADE"))
    status: Mapped[LeadStatus] = mapped_column(
        str_enum(LeadStatus, "lead_status"), default=LeadStatus.PENDING
    )
    # Higher first among due leads (callbacks, close precincts).
    priority: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # NULL = may be dialled now (still subject to the callee's calling window).
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # The engine instance holding the claim; a claim whose engine is gone is released.
    claimed_by: Mapped[str | None] = mapped_column(String(64))
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # A network result (no_answer, busy, machine, abandoned) or a disposition code.
    last_outcome: Mapped[str | None] = mapped_column(String(32))

    call_list: Mapped[CallList] = relationship(back_populates="entries")
    contact: Mapped[Contact] = relationship()

    __table_args__ = (
        UniqueConstraint("call_list_id", "contact_id"),
        CheckConstraint("attempts >= 0", name="attempts_not_negative"),
        # Lead claiming: WHERE call_list_id = ? AND status = 'pending'
        # AND (next_attempt_at IS NULL OR next_attempt_at <= now) ... FOR UPDATE SKIP LOCKED.
        Index("ix_call_list_entries_claim", "call_list_id", "status", "next_attempt_at"),
        # Releasing the claims of an engine that died.
        Index("ix_call_list_entries_claimed_by", "claimed_by", "claimed_at"),
        Index("ix_call_list_entries_contact_id", "contact_id"),
    )


class Disposition(IdMixin, TimestampMixin, Base):
    """An outcome a volunteer can record, and what it does to the lead."""

    __tablename__ = "dispositions"

    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"))
    code: Mapped[str] = mapped_column(String(32))
    label: Mapped[str] = mapped_column(String(128))
    category: Mapped[DispositionCategory] = mapped_column(
        str_enum(DispositionCategory, "disposition_category")
    )
    # Keyboard shortcut on the screen (and DTMF digit on a handset without a screen).
    shortcut_key: Mapped[str | None] = mapped_column(String(8))
    position: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    active: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
    recycle_action: Mapped[RecycleAction] = mapped_column(
        str_enum(RecycleAction, "recycle_action"), default=RecycleAction.FINISH
    )
    retry_delay_minutes: Mapped[int | None] = mapped_column(Integer)
    # The number goes on the do-not-call list when this is recorded.
    adds_to_dnc: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    follow_up: Mapped[FollowUpChannel | None] = mapped_column(
        str_enum(FollowUpChannel, "follow_up_channel")
    )

    campaign: Mapped[Campaign] = relationship(back_populates="dispositions")

    __table_args__ = (
        UniqueConstraint("campaign_id", "code"),
        UniqueConstraint("campaign_id", "shortcut_key"),
        CheckConstraint(
            "retry_delay_minutes IS NULL OR retry_delay_minutes >= 0",
            name="retry_delay_not_negative",
        ),
    )
