"""Preview mode in a campaign runner: offer a lead to each ready station, dial on the click.

The runner steps it on the loop (`step`) and tells it of its calls' ends. Each
step it takes back the offers that went stale (the station paused or logged out,
the callee's calling window closed, nobody clicked within `OFFER_SECONDS`),
releasing their leads, and claims a lead for every station that is ready, has a
screen watching offers (`DialDesk.watchers`) and could take a call, then offers
it on the `DialDesk`. A `DialRequest` for the offer a station holds now writes
the attempt row (`preview_ledger.start_offered_call`) and the runner places the
call with that station reserved; any other request (a second click, an older
offer, another campaign's) is ignored. A call that puts nobody through (busy, no
answer, refused) clears the screen's card; the station gets the next offer.

Writes go through the runner's `LedgerWriter`; a finished write comes back to
the loop with `call_soon_threadsafe`, so a click is dialled as soon as its row
is written, not at the next step.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterable
from concurrent.futures import Future
from datetime import UTC, datetime
from functools import partial
from typing import Any

from sqlalchemy.orm import Session

from phonebank.dialer import ledger, preview_ledger
from phonebank.dialer.campaign import CampaignConfig
from phonebank.dialer.ledger import PreparedCall
from phonebank.dialer.preview import PreviewBook, Taken, Withdrawal
from phonebank.dialer.recycle import CallableAt
from phonebank.dialer.repo import ClaimedLead
from phonebank.dialer.writer import LedgerWriter
from phonebank.live.requests import DialDesk, DialRequest, PreviewOffer

log = logging.getLogger(__name__)

Place = Callable[[PreparedCall, str, float], None]


def wall(at: float) -> datetime:
    return datetime.fromtimestamp(at, UTC)


class Previewer:
    def __init__(
        self,
        *,
        desk: DialDesk,
        campaign: CampaignConfig,
        engine_id: str,
        writer: LedgerWriter,
        clock: Callable[[], float],
        place: Place,
        callable_at: CallableAt | None = None,
        next_opening: ledger.NextOpening | None = None,
        book: PreviewBook | None = None,
    ) -> None:
        """`place(call, station, now)`: the runner originates `call` for `station`."""
        self.desk = desk
        self.campaign = campaign
        self.callable_at = callable_at or campaign.callable_at
        self.next_opening = next_opening or campaign.next_opening
        self.engine_id = engine_id
        self.writer = writer
        self.clock = clock
        self.place = place
        self.book = book or PreviewBook()
        self.placing = False  # the runner's say: heartbeat fresh, not stopping
        self.ignored = 0  # dial requests for no current offer of ours (double clicks)
        self._claim: Future[list[ClaimedLead]] | None = None
        self._starts: set[Future[Any]] = set()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop_listening: Callable[[], None] | None = None

    def start(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._stop_listening = self.desk.on_dial(self.on_dial)

    # -- offers ------------------------------------------------------------------------------

    def step(self, now: float, ready: Iterable[str], wanting: Iterable[str]) -> None:
        """`ready`: the campaign's ready stations; `wanting`: those of them that may get
        an offer now (a screen watching, a handset able to take the call)."""
        self._take_claim(wanting, now)
        when = wall(now)
        for taken in self.book.stale(now, ready, lambda lead: self._callable(lead, when)):
            self._take_back(taken, now)
        if self._claim is not None or not self.placing:
            return
        stations = self.book.wanting(s for s in wanting if self.desk.watchers(s) > 0)
        if not stations:
            return
        self.book.claiming(stations, now)
        self._claim = self.writer.submit(partial(self._claim_leads, limit=len(stations), at=when))

    def _take_claim(self, wanting: Iterable[str], now: float) -> None:
        future = self._claim
        if future is None or not future.done():
            return
        self._claim = None
        leads = future.result() if future.exception() is None else []
        eligible = [s for s in wanting if self.desk.watchers(s) > 0]
        offers, spare = self.book.claimed(leads, eligible if self.placing else (), now)
        for lead in spare:
            self._release(lead)
        for offer in offers:
            lead = offer.lead
            self.desk.offer(
                PreviewOffer(
                    station=offer.station,
                    entry_id=lead.entry_id,
                    campaign_id=self.campaign.campaign_id,
                    contact_id=lead.contact_id,
                    phone_id=lead.phone_id,
                    e164=lead.e164,
                    at=now,
                )
            )

    def _callable(self, lead: ClaimedLead, when: datetime) -> bool:
        return self.callable_at(lead.time_zone, when)

    def _take_back(self, taken: Taken, now: float) -> None:
        lead = taken.lead
        self.desk.withdraw(taken.station, lead.entry_id, now)
        until = None
        if taken.reason is Withdrawal.WINDOW:
            until = self.next_opening(lead.time_zone, wall(now))
        self._release(lead, until)
        log.info("campaign %s: offer of lead %d to station %s withdrawn (%s)",
                 self.campaign.name, lead.entry_id, taken.station, taken.reason)  # fmt: skip

    def _release(self, lead: ClaimedLead, until: datetime | None = None) -> None:
        self.writer.submit(
            partial(
                preview_ledger.release_offer,
                entry_id=lead.entry_id,
                engine_id=self.engine_id,
                until=until,
            )
        )

    # -- the click ---------------------------------------------------------------------------

    def on_dial(self, request: DialRequest) -> None:
        """DialDesk listener (on the loop): dial the station's current offer, once."""
        if request.campaign_id != self.campaign.campaign_id:
            return
        lead = self.book.dial(request.station, request.entry_id)
        if lead is None:
            self.ignored += 1
            return
        if not self.placing:
            self.book.not_started(request.station)
            self._release(lead)
            self.desk.unanswered(request.station, lead.entry_id, request.at)
            return
        future = self.writer.submit(partial(self._start, lead=lead, at=wall(self.clock())))
        self._starts.add(future)
        loop = self._loop
        assert loop is not None, "Previewer.start() was not called"
        future.add_done_callback(
            lambda done: loop.call_soon_threadsafe(self._started, request.station, lead, done)
        )

    def _started(self, station: str, lead: ClaimedLead, future: Future[Any]) -> None:
        self._starts.discard(future)
        call: PreparedCall | None = future.result() if future.exception() is None else None
        now = self.clock()
        if call is None:
            self.book.not_started(station)
            self.desk.unanswered(station, lead.entry_id, now)
            return
        if not self.placing:  # the runner began stopping while the row was written
            self.book.not_started(station)
            self.writer.submit(partial(_cancel, attempt_id=call.attempt_id, at=wall(now)))
            self.desk.unanswered(station, lead.entry_id, now)
            return
        self.book.started(station, str(call.attempt_id))
        self.place(call, station, now)

    def ended(self, attempt: str, put_through: bool, at: float) -> None:
        """The runner saw the final event of `attempt` (a no-op for calls not dialled here)."""
        taken = self.book.ended(attempt)
        if taken is not None and not put_through:
            self.desk.unanswered(taken.station, taken.lead.entry_id, at)

    # -- stopping ----------------------------------------------------------------------------

    async def shutdown(self) -> None:
        """Take every offer back and release its lead; let clicks being written finish."""
        self.placing = False
        if self._stop_listening is not None:
            self._stop_listening()
            self._stop_listening = None
        if self._claim is not None:
            await asyncio.wrap_future(self._claim)
            self._take_claim((), self.clock())
        now = self.clock()
        for taken in self.book.withdraw_all():
            self._take_back(taken, now)
        for future in list(self._starts):
            await asyncio.wrap_future(future)
        await asyncio.sleep(0)  # their callbacks hand the rows back (cancelled: not placing)

    # -- ledger work (writer thread) ---------------------------------------------------------

    def _claim_leads(self, session: Session, *, limit: int, at: datetime) -> list[ClaimedLead]:
        return ledger.claim_free_leads(
            session,
            engine_id=self.engine_id,
            campaign_id=self.campaign.campaign_id,
            limit=limit,
            now=at,
            callable_at=self.callable_at,
            next_opening=self.next_opening,
        )

    def _start(self, session: Session, *, lead: ClaimedLead, at: datetime) -> PreparedCall | None:
        return preview_ledger.start_offered_call(
            session,
            engine_id=self.engine_id,
            campaign_id=self.campaign.campaign_id,
            lead=lead,
            now=at,
            callable_at=self.callable_at,
            next_opening=self.next_opening,
        )


def _cancel(session: Session, *, attempt_id: int, at: datetime) -> None:
    """A started preview call that will not be placed: nobody was dialled (FAILED,
    uncounted), the lead comes back a little later."""
    ledger.record_event(session, attempt_id=attempt_id, kind="failed", at=at, detail="not placed")
