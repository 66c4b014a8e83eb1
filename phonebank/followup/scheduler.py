"""The follow-up scheduler: segment sends that are due, and triggers on outcomes.

`run_due(session, now, composer)` does one pass and says what it did; the
service calls it periodically through `Scheduler.run`. Every message it queues
has a key naming its send or rule and its contact, so two schedulers (two
offices on one database) or a restart never queue a contact twice.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from phonebank.db.enums import CampaignStatus
from phonebank.db.models import Campaign
from phonebank.db.models.followup import MessageState
from phonebank.followup import sends
from phonebank.followup.compose import Composer
from phonebank.followup.errors import FollowUpError
from phonebank.followup.policy_store import rules_of
from phonebank.followup.triggers import Fired, due_triggers, fire

log = logging.getLogger(__name__)

# Campaigns whose triggers no longer fire.
_QUIET = (CampaignStatus.ARCHIVED, CampaignStatus.STOPPED)


@dataclass
class DueReport:
    sends: list[sends.Expanded] = field(default_factory=list)
    fired: list[Fired] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    @property
    def queued(self) -> int:
        return sum(s.queued for s in self.sends) + sum(f.queued for f in self.fired)

    def to_json(self) -> dict[str, Any]:
        return {
            "sends": [s.to_json() for s in self.sends],
            "triggers": [f.to_json() for f in self.fired if f.candidates],
            "errors": self.errors,
        }


def run_sends(session: Session, now: datetime, composer: Composer, worker: str) -> DueReport:
    report = DueReport()
    while (plan := sends.claim_due(session, now, worker)) is not None:
        try:
            report.sends.append(sends.expand(session, plan, composer, now))
        except FollowUpError as exc:
            # A send that cannot be evaluated (template deleted...) fails once, visibly.
            session.rollback()
            plan.state = MessageState.FAILED
            plan.last_error = f"cannot be sent: {exc}"
            plan.lease_until = None
            session.commit()
            report.errors.append(f"segment send {plan.id}: {exc}")
    return report


def run_triggers(session: Session, now: datetime, composer: Composer) -> DueReport:
    report = DueReport()
    campaigns = session.scalars(
        select(Campaign).where(Campaign.status.not_in(_QUIET)).order_by(Campaign.id)
    ).all()
    for campaign in campaigns:
        try:
            rules = rules_of(campaign)
        except FollowUpError as exc:
            report.errors.append(f"campaign {campaign.name!r}: {exc}")
            continue
        for trigger in due_triggers(rules, campaign.time_zone, campaign.election_date, now):
            try:
                report.fired.append(fire(session, campaign, rules, trigger, composer, now))
            except FollowUpError as exc:
                session.rollback()
                report.errors.append(f"campaign {campaign.name!r}, trigger {trigger.id!r}: {exc}")
    return report


def run_due(
    session: Session, now: datetime, composer: Composer, worker: str = "scheduler"
) -> DueReport:
    """One pass: evaluate the segment sends now due, then fire the due triggers."""
    report = run_sends(session, now, composer, worker)
    triggered = run_triggers(session, now, composer)
    report.fired = triggered.fired
    report.errors += triggered.errors
    for error in report.errors:
        log.error("follow-up scheduler: %s", error)
    return report


@dataclass
class Scheduler:
    sessions: sessionmaker[Session]
    composer: Composer
    clock: Callable[[], datetime]
    interval: float = 30.0
    name: str = field(default_factory=lambda: f"scheduler-{socket.gethostname()}-{os.getpid()}")

    def step(self) -> DueReport:
        with self.sessions() as session:
            return run_due(session, self.clock(), self.composer, self.name)

    async def run(self, stop: asyncio.Event) -> None:
        """Run a pass every `interval` seconds until `stop` is set; errors are logged."""
        while not stop.is_set():
            try:
                await asyncio.to_thread(self.step)
            except Exception:
                # The database may be down for a moment: keep the scheduler alive.
                log.exception("follow-up scheduler pass failed")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), self.interval)
