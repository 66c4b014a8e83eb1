"""What the follow-up screens share: the parts the service gives them (the composer of the
follow-up workers, the modem's state), the campaign of a URL, and writer sessions."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web
from sqlalchemy.orm import Session

from phonebank.admin.http import parts
from phonebank.db.models import Campaign
from phonebank.followup.compose import Composer
from phonebank.followup.workers import FollowUpWorkers


@dataclass(frozen=True)
class ModemView:
    """What the page may say of the modem: the device, and the errors seen since start."""

    device: str
    errors: int
    last_error: str


class ModemWatch:
    """The running follow-up workers, once the service has started them (the web app
    is built before they start)."""

    def __init__(self) -> None:
        self.workers: FollowUpWorkers | None = None

    def view(self) -> ModemView | None:
        running = self.workers
        if running is None or not running.sms_device:
            return None
        errors = running.modem_errors
        return ModemView(running.sms_device, len(errors), errors[-1] if errors else "")


def _no_modem() -> ModemView | None:
    return None


@dataclass(frozen=True)
class FollowUpScreens:
    """What the follow-up pages need besides the admin's parts."""

    composer: Composer
    modem: Callable[[], ModemView | None] = field(default=_no_modem)


FOLLOWUP = web.AppKey("admin_followup", FollowUpScreens)


def screens(request: web.Request) -> FollowUpScreens:
    return request.app[FOLLOWUP]


def campaign_or_404(session: Session, campaign_id: int) -> Campaign:
    campaign = session.get(Campaign, campaign_id)
    if campaign is None:
        raise web.HTTPNotFound()
    return campaign


async def writing(request: web.Request, work: Callable[[Session], Any]) -> Any:
    """`work` in a writer session of its own: the follow-up code commits as it goes."""
    sessions = parts(request).writers

    def run() -> Any:
        with sessions() as session:
            return work(session)

    return await asyncio.to_thread(run)
