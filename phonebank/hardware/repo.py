"""The station inventory in the database (the `stations` table)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from phonebank.db.models.accounts import Station
from phonebank.hardware.inventory import StationEntry


def load_stations(session: Session) -> list[StationEntry]:
    rows = session.scalars(select(Station).order_by(Station.number)).all()
    return [
        StationEntry(number=r.number, channel=r.channel, label=r.label, enabled=r.enabled)
        for r in rows
    ]


def add_stations(session: Session, stations: list[StationEntry]) -> None:
    """Insert stations (the caller commits)."""
    for entry in stations:
        session.add(
            Station(
                number=entry.number,
                channel=entry.channel,
                label=entry.label,
                enabled=entry.enabled,
            )
        )
