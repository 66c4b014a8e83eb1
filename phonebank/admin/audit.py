"""Exports in the audit log (the `audit_log` table that `phonebank export` also writes):
who exported what, when, how many rows, from which address."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session

from phonebank.db.models import AuditEntry


@dataclass(frozen=True)
class Exporter:
    user_id: int
    actor: str
    client: str | None


def record_export(
    session: Session,
    who: Exporter,
    at: datetime,
    *,
    kind: str,
    campaign_id: int,
    details: dict[str, Any],
) -> None:
    session.execute(
        insert(AuditEntry).values(
            at=at,
            user_id=who.user_id,
            actor=who.actor,
            action=f"export.{kind}",
            object_type="campaign",
            object_id=str(campaign_id),
            details=details,
            client_address=(who.client or "")[:64] or None,
        )
    )


def claim_cli_style_entry(session: Session, who: Exporter, action: str) -> None:
    """phonebank.lists.export writes its entry with the actor's name only; add the
    account and the address to the newest entry of that actor and action."""
    newest = session.scalar(
        select(AuditEntry.id)
        .where(AuditEntry.actor == who.actor, AuditEntry.action == action)
        .order_by(AuditEntry.id.desc())
        .limit(1)
    )
    if newest is not None:
        session.execute(
            update(AuditEntry)
            .where(AuditEntry.id == newest)
            .values(user_id=who.user_id, client_address=(who.client or "")[:64] or None)
        )


def exports(session: Session, limit: int = 300) -> list[AuditEntry]:
    return list(
        session.scalars(
            select(AuditEntry)
            .where(AuditEntry.action.startswith("export."))
            .order_by(AuditEntry.at.desc(), AuditEntry.id.desc())
            .limit(limit)
        )
    )
