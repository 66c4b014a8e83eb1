"""Automatic follow-ups on outcomes: who a trigger is due for, and queueing it once each.

An immediate trigger looks at the campaign's outcomes recorded since it was
added (at most `rules.LOOKBACK` ago) and at least `after` ago; a dated one, in
its window, at every contact whose latest outcome in the campaign matches. The
message key `trigger:<campaign>:<rule>:<contact>` makes each fire once per
contact, whatever crashes or reruns happen. A contact left out (no consent
yet, no mobile) is looked at again on the next run, so consent given later
still lets the trigger fire.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from phonebank.db.models import Campaign, Disposition, Outcome
from phonebank.db.models.followup import FollowUpMessage
from phonebank.followup import repo
from phonebank.followup.audience import latest_outcomes, reachable
from phonebank.followup.compose import Composer
from phonebank.followup.rules import FollowUpRules, Trigger

KIND = "outcome"
REMINDER_KIND = "reminder"


def trigger_key(campaign_id: int, rule_id: str, contact_id: int) -> str:
    return f"trigger:{campaign_id}:{rule_id}:{contact_id}"


def due_triggers(rules: FollowUpRules, zone: str, election: Any, now: datetime) -> list[Trigger]:
    """Immediate triggers always; dated ones inside their window. Pure."""
    return [t for t in rules.triggers if not t.dated or t.dated_window_open(now, zone, election)]


@dataclass
class Fired:
    campaign_id: int
    rule: str
    candidates: int = 0
    queued: int = 0
    excluded: Counter[str] = field(default_factory=Counter)

    def to_json(self) -> dict[str, Any]:
        return {
            "campaign": self.campaign_id,
            "rule": self.rule,
            "candidates": self.candidates,
            "queued": self.queued,
            "excluded": dict(sorted(self.excluded.items())),
        }


def _match(trigger: Trigger) -> Any:
    return or_(
        Disposition.code.in_(trigger.dispositions or ("",)),
        Disposition.category.in_(trigger.categories or ()),
    )


def immediate_candidates(
    session: Session, campaign_id: int, trigger: Trigger, now: datetime
) -> list[int]:
    rows = session.scalars(
        select(Outcome.contact_id)
        .join(Disposition, Disposition.id == Outcome.disposition_id)
        .where(
            Outcome.campaign_id == campaign_id,
            Outcome.recorded_at >= trigger.outcomes_from(now),
            Outcome.recorded_at <= now - trigger.after,
            _match(trigger),
        )
        .distinct()
    )
    return sorted(rows)


def dated_candidates(session: Session, campaign_id: int, trigger: Trigger) -> list[int]:
    contacts = sorted(
        session.scalars(
            select(Outcome.contact_id).where(Outcome.campaign_id == campaign_id).distinct()
        )
    )
    latest = latest_outcomes(session, campaign_id, contacts)
    return [cid for cid in contacts if cid in latest and trigger.matches(*latest[cid])]


def _not_fired(session: Session, campaign_id: int, rule: str, contacts: Sequence[int]) -> list[int]:
    keys = {trigger_key(campaign_id, rule, cid): cid for cid in contacts}
    listed = list(keys)
    fired: set[str] = set()
    for start in range(0, len(listed), 500):
        fired.update(
            session.scalars(
                select(FollowUpMessage.idempotency_key).where(
                    FollowUpMessage.idempotency_key.in_(listed[start : start + 500])
                )
            )
        )
    return [cid for key, cid in keys.items() if key not in fired]


def fire(
    session: Session,
    campaign: Campaign,
    rules: FollowUpRules,
    trigger: Trigger,
    composer: Composer,
    now: datetime,
) -> Fired:
    """Queue the trigger's message for every contact it is due for and has not reached yet."""
    result = Fired(campaign.id, trigger.id)
    if trigger.dated:
        candidates = dated_candidates(session, campaign.id, trigger)
    else:
        candidates = immediate_candidates(session, campaign.id, trigger, now)
    pending = _not_fired(session, campaign.id, trigger.id, candidates)
    result.candidates = len(pending)
    if not pending:
        return result
    audience = reachable(session, trigger.channel, pending, rules)
    result.excluded.update(audience.excluded)
    for recipient in audience.recipients:
        try:
            composer.queue(
                session,
                channel=trigger.channel,
                content=trigger.content,
                recipient=recipient,
                fields=composer.fields(recipient, campaign, trigger.fields),
                key=trigger_key(campaign.id, trigger.id, recipient.contact_id),
                now=now,
                kind=REMINDER_KIND if trigger.dated else KIND,
                campaign_id=campaign.id,
            )
        except repo.OptedOut:
            result.excluded["opted_out"] += 1
            continue
        result.queued += 1
    return result
