"""Preview mode's record: leads claimed for an offer, the attempt written on the click.

Run on the runner's `LedgerWriter` thread like `ledger.py`, one transaction each.

- `ledger.claim_free_leads` claims leads with every dialling rule (`repo.claim_leads`: do
  not call, calling window, attempt limit, 72 h after an abandon) and hands back
  those whose number has a call in progress or was abandoned within 72 h. No
  attempt row yet: a lead on offer is only claimed, and an offer nobody takes
  leaves no trace but the claim, released by `release_offer` (or by recovery if
  the engine dies).
- `start_offered_call`, when the volunteer clicks: the claim must still be this
  engine's, the window open, the number not on a do-not-call list nor busy
  elsewhere; then the attempt row is written as DIALING and counted, before the
  Originate, in one transaction. Otherwise the lead is handed back and None
  returned.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from phonebank.db.enums import LeadStatus
from phonebank.db.models import CallListEntry, DoNotCallEntry, PhoneNumber
from phonebank.dialer.ledger import (
    NextOpening,
    PreparedCall,
    hand_back,
    mark_dialing,
    number_blocks,
    write_attempt,
)
from phonebank.dialer.recycle import CallableAt
from phonebank.dialer.repo import ClaimedLead


def release_offer(
    session: Session, *, entry_id: int, engine_id: str, until: datetime | None = None
) -> None:
    """An offer withdrawn: the lead is pending again (from `until`), nothing counted."""
    hand_back(session, entry_id, engine_id, until)


def _listed(session: Session, lead: ClaimedLead) -> bool:
    """The number went on a do-not-call list, or became uncallable, since the claim."""
    phone = session.get(PhoneNumber, lead.phone_id)
    if phone is None or not phone.callable or phone.do_not_call:
        return True
    entry = session.scalar(select(DoNotCallEntry.id).where(DoNotCallEntry.e164 == lead.e164))
    return entry is not None


def start_offered_call(
    session: Session,
    *,
    engine_id: str,
    campaign_id: int,
    lead: ClaimedLead,
    now: datetime,
    callable_at: CallableAt,
    next_opening: NextOpening | None = None,
) -> PreparedCall | None:
    """The attempt row of a clicked offer, DIALING and counted; None if it may not be dialled."""
    entry = session.get(CallListEntry, lead.entry_id)
    if entry is None or entry.status is not LeadStatus.CLAIMED or entry.claimed_by != engine_id:
        return None  # the claim was lost (recovered by another engine): not ours to dial
    if not callable_at(lead.time_zone, now):
        opening = next_opening(lead.time_zone, now) if next_opening is not None else None
        hand_back(session, lead.entry_id, engine_id, opening)
        return None
    if _listed(session, lead):
        hand_back(session, lead.entry_id, engine_id, None)  # the next claim settles it
        return None
    until = number_blocks(session, [lead.e164], now).get(lead.e164)
    if until is not None:
        hand_back(session, lead.entry_id, engine_id, until)
        return None
    call = write_attempt(session, engine_id=engine_id, campaign_id=campaign_id, lead=lead, now=now)
    mark_dialing(session, call.attempt_id, now)
    return call
