"""Where the wallboard reads the live floor: the dialer service's campaign runners.

The web app is built before the dialer starts, so the composition root hands the
wallboard a `DialerLink` and attaches the `DialerService` once `dialing()` yields it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Protocol

from phonebank.dialer.runner import CampaignRunner
from phonebank.dialer.service import DialerService
from phonebank.supervisor.floor import Abandon, CampaignLive
from phonebank.telephony.adapter import AmiTelephony


class LiveFloor(Protocol):
    """The live part of the wallboard's inputs (the bench has a synthetic one)."""

    @property
    def attached(self) -> bool: ...

    def live(self) -> tuple[CampaignLive, ...]: ...

    def abandon(self) -> Mapping[int, Abandon]: ...

    def handsets(self) -> frozenset[str] | None: ...


def campaign_live(runner: CampaignRunner) -> CampaignLive | None:
    """What a runner's engine knows now (None before its engine is up)."""
    engine = runner.engine
    if engine is None:
        return None
    snapshot = engine.snapshot()
    campaign = runner.campaign
    return CampaignLive(
        campaign_id=campaign.campaign_id,
        name=campaign.name,
        mode=campaign.settings.mode.value,
        stations=engine.stations,
        lines=snapshot.lines,
        bridged=snapshot.bridged,
        throttled=runner.throttled,
    )


class DialerLink:
    """The dialer service, once attached; an empty floor before."""

    def __init__(self) -> None:
        self.dialer: DialerService | None = None

    def attach(self, dialer: DialerService | None) -> None:
        self.dialer = dialer

    @property
    def attached(self) -> bool:
        return self.dialer is not None

    def _runners(self) -> list[CampaignRunner]:
        return list(self.dialer.runners.values()) if self.dialer is not None else []

    def live(self) -> tuple[CampaignLive, ...]:
        views = (campaign_live(runner) for runner in self._runners())
        return tuple(view for view in views if view is not None)

    def abandon(self) -> Mapping[int, Abandon]:
        """The runners' latest abandon figures (read by their guard every minute)."""
        out = {}
        for runner in self._runners():
            report = runner.report
            if report is not None:
                out[runner.campaign.campaign_id] = Abandon(
                    report.today.rate,
                    report.rolling.rate,
                    report.target,
                    report.today.live_answers,
                )
        return out

    def handsets(self) -> frozenset[str] | None:
        telephony = self.dialer.telephony if self.dialer is not None else None
        if isinstance(telephony, AmiTelephony):
            return telephony.book.stations.present()
        return None
