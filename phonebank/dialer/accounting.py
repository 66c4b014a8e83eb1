"""Abandon accounting from the call_attempts rows: per campaign, per day, rolling 30 days.

A live answer is an attempt that AMD (or the bridge) said was a human
(`result = human`: put through, abandoned, or hung up while waiting); an
abandoned one is a live answer not put through within the connect limit
(`abandoned`). Estimated AMD false positives (abandon.py) come from the human
and machine verdict counts and the campaign's measured AMD accuracy
(`campaigns.amd_settings["accuracy"]`, 1 when absent: no false positive
counted). Days are the campaign's local days (`campaigns.time_zone`); a call
belongs to the day its attempt row was written.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from phonebank.db.enums import AttemptResult
from phonebank.db.models import CallAttempt, Campaign
from phonebank.dialer.abandon import ROLLING_DAYS, AbandonFigures, estimated_false_positives


@dataclass(frozen=True)
class AbandonCounts:
    human_verdicts: int = 0  # live answers
    machine_verdicts: int = 0
    abandoned: int = 0


def figures(counts: AbandonCounts, amd_accuracy: float) -> AbandonFigures:
    """Counts to figures, with the estimated AMD false positives."""
    return AbandonFigures(
        live_answers=counts.human_verdicts,
        abandoned=counts.abandoned,
        false_positives=estimated_false_positives(
            human_verdicts=counts.human_verdicts,
            machine_verdicts=counts.machine_verdicts,
            accuracy=amd_accuracy,
        ),
    )


@dataclass(frozen=True)
class AbandonReport:
    """What the supervisor's screen shows, and what the runner's guard checks."""

    campaign_id: int
    day: date
    today: AbandonFigures
    rolling: AbandonFigures  # the ROLLING_DAYS days ending today
    target: float

    @property
    def over_target(self) -> bool:
        return self.today.rate > self.target or self.rolling.rate > self.target


def amd_accuracy(settings: dict[str, Any] | None) -> float:
    """The measured accuracy from `amd_settings`, 1.0 when absent or unusable."""
    value = (settings or {}).get("accuracy")
    if isinstance(value, int | float) and 0.5 < float(value) <= 1.0:
        return float(value)
    return 1.0


def abandon_counts(
    session: Session, campaign_id: int, start: datetime, end: datetime
) -> AbandonCounts:
    """Verdicts and abandons of the campaign's attempts written in [start, end)."""
    human = CallAttempt.result == AttemptResult.HUMAN
    row = session.execute(
        select(
            func.count(case((human, 1))),
            func.count(case((CallAttempt.result == AttemptResult.MACHINE, 1))),
            func.count(case((human & CallAttempt.abandoned.is_(True), 1))),
        ).where(
            CallAttempt.campaign_id == campaign_id,
            CallAttempt.created_at >= start,
            CallAttempt.created_at < end,
        )
    ).one()
    return AbandonCounts(int(row[0]), int(row[1]), int(row[2]))


def _midnight(day: date, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, time(), tzinfo=zone).astimezone(UTC)


def abandon_report(session: Session, campaign_id: int, now: datetime) -> AbandonReport | None:
    """Today's and the rolling window's figures for a campaign (None if it is gone)."""
    campaign = session.get(Campaign, campaign_id)
    if campaign is None:
        return None
    zone = ZoneInfo(campaign.time_zone)
    today = now.astimezone(zone).date()
    end = _midnight(today + timedelta(days=1), zone)
    accuracy = amd_accuracy(campaign.amd_settings)
    day = abandon_counts(session, campaign_id, _midnight(today, zone), end)
    start = _midnight(today - timedelta(days=ROLLING_DAYS - 1), zone)
    rolling = abandon_counts(session, campaign_id, start, end)
    return AbandonReport(
        campaign_id=campaign_id,
        day=today,
        today=figures(day, accuracy),
        rolling=figures(rolling, accuracy),
        target=campaign.abandon_target,
    )
