"""Dialer engines sharing one database: who is alive, so a dead one's claims are released."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from phonebank.db.base import Base
from phonebank.db.types import UTCDateTime


class DialerEngine(Base):
    """One running engine process; its heartbeat keeps its lead claims alive."""

    __tablename__ = "dialer_engines"

    # Random per process start: a restarted engine is a new engine, and the claims of
    # the old one are released once its heartbeat is stale.
    engine_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    hostname: Mapped[str] = mapped_column(String(255), default="")
    pid: Mapped[int] = mapped_column(Integer, default=0)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime())
    heartbeat_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
