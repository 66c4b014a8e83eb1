"""Where a campaign keeps its follow-up rules, and finding a campaign by name.

The rules live as JSON under the `followup` key of `campaigns.recycle_rules` (the
recycling code reads only its own keys there): what happens after an outcome is
one set of campaign rules. Only this module knows where they are stored.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from phonebank.db.models import Campaign
from phonebank.followup.errors import FollowUpError
from phonebank.followup.rules import FollowUpRules, parse_rules, stamp_new_triggers

_KEY = "followup"


class CampaignNotFound(FollowUpError):
    code = "campaign_not_found"


def campaign_named(session: Session, name: str) -> Campaign:
    campaign = session.scalar(select(Campaign).where(Campaign.name == name))
    if campaign is None:
        known = ", ".join(session.scalars(select(Campaign.name).order_by(Campaign.name)).all())
        raise CampaignNotFound(f"no campaign named {name!r} (known: {known or 'none'})")
    return campaign


def rules_json(campaign: Campaign) -> dict[str, Any]:
    stored = (campaign.recycle_rules or {}).get(_KEY)
    return dict(stored) if isinstance(stored, dict) else {}


def rules_of(campaign: Campaign) -> FollowUpRules:
    """The campaign's rules; RulesError names the campaign if they cannot be read."""
    return parse_rules(rules_json(campaign))


def save_rules(session: Session, campaign: Campaign, data: dict[str, Any], now: datetime) -> None:
    """Check and store new rules; a trigger new to the campaign starts at `now`."""
    stamped = stamp_new_triggers(data, rules_json(campaign), now)
    parse_rules(stamped)
    # JSON columns are replaced, not changed in place, or the change is not saved.
    campaign.recycle_rules = {**(campaign.recycle_rules or {}), _KEY: stamped}
    session.commit()
