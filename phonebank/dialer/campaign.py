"""What a runner needs to know of a campaign, read from its row."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from phonebank.db.enums import CampaignStatus
from phonebank.db.models import Campaign
from phonebank.dialer.accounting import amd_accuracy
from phonebank.dialer.floor import CampaignSettings
from phonebank.lists.windows import Window, is_callable_at, next_opening, parse_window
from phonebank.telephony.campaign_calls import call_settings
from phonebank.telephony.originate import CallSettings

# The Originate timeout: a line still ringing then is a no answer.
RING_TIMEOUT_SECONDS = 25.0


@dataclass(frozen=True)
class CampaignConfig:
    campaign_id: int
    name: str
    settings: CampaignSettings
    window: Window
    # What its calls carry to the dialplan (caller ID, AMD, messages); None in tests
    # that run on the simulator.
    call: CallSettings | None = None

    def callable_at(self, tz: str, when: datetime) -> bool:
        return is_callable_at(self.window, tz, when)

    def next_opening(self, tz: str, when: datetime) -> datetime | None:
        return next_opening(self.window, tz, when)


def campaign_config(campaign: Campaign) -> CampaignConfig:
    """Dial mode, lines cap, abandon target, connect limit and calling window of a row."""
    return CampaignConfig(
        campaign_id=campaign.id,
        name=campaign.name,
        settings=CampaignSettings(
            mode=campaign.dial_mode,
            lines_cap=campaign.lines_cap,
            abandon_target=campaign.abandon_target,
            connect_limit=campaign.connect_limit_seconds,
            ring_timeout=RING_TIMEOUT_SECONDS,
            amd_accuracy=amd_accuracy(campaign.amd_settings) if campaign.amd_enabled else 1.0,
        ),
        window=parse_window(campaign.calling_window or None),
        call=call_settings(campaign),
    )


def active_campaigns(session: Session) -> list[CampaignConfig]:
    """Every ACTIVE campaign, oldest first."""
    rows = session.scalars(
        select(Campaign).where(Campaign.status == CampaignStatus.ACTIVE).order_by(Campaign.id)
    )
    return [campaign_config(row) for row in rows]
