"""The dialer's record in the database: one CallAttempt row per dial, leads settled.

Synchronous functions taking a Session and the time (the runner's clock, passed
in); the runner runs them on its `LedgerWriter` thread, one transaction each.

Life of a lead and its attempt:

1. `prepare_calls` claims leads (`repo.claim_leads`) and writes a CREATED attempt
   row for each, before anything is dialled: the row's id is the attempt id on
   the channel. A number with a call still in progress, or abandoned less than
   72 h ago (whatever lead it is on), is handed back instead.
2. `mark_dialing` when the engine originates: DIALING, started_at, and the lead's
   attempt count (every dial counts). `cancel_prepared` when a prepared call is
   never placed (the runner stops, the window closed): CANCELLED, lead pending.
3. `record_event` for each telephony event. A call that reached no volunteer
   (machine, busy, no answer, invalid, lost, abandoned) settles its lead by the
   recycling rules and releases the claim; a failed dial (nobody was dialled) is
   not counted and its lead comes back after `FAILED_RETRY`. A bridged call's lead stays claimed
   until the volunteer records an outcome: `settle_after_outcome`.
4. `recover_dead_engines` settles what engines that stopped heartbeating left in
   flight and releases their claims.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Select, delete, func, or_, select, update
from sqlalchemy.orm import Session

from phonebank.db.enums import AttemptResult, AttemptState, LeadStatus
from phonebank.db.models import CallAttempt, CallListEntry, Campaign, Contact, PhoneNumber
from phonebank.db.models.accounts import Station
from phonebank.db.models.campaigns import Disposition
from phonebank.db.models.dialer import DialerEngine
from phonebank.dialer.recycle import (
    ABANDON_QUIET,
    CallableAt,
    Decision,
    Lead,
    NetworkOutcome,
    RecycleRules,
    Verdict,
    after_disposition,
    after_network,
)
from phonebank.dialer.repo import ClaimedLead, claim_leads, release_stale_claims

log = logging.getLogger(__name__)

NextOpening = Callable[[str, datetime], datetime | None]

# Retry delays for outcomes the campaign's recycle rules do not name.
INVALID_RETRY = timedelta(hours=24)  # the network refused the number: maybe a glitch
# Our side failed to place the call (nobody dialled), or lost it (Asterisk restarted).
FAILED_RETRY = timedelta(minutes=10)
BUSY_ELSEWHERE_RETRY = timedelta(minutes=10)  # the number is on a call placed for another lead
# A bridged call whose engine died before the volunteer recorded an outcome: leave
# the volunteer time to record it before anyone may dial the lead again.
OUTCOME_GRACE = timedelta(hours=1)

_NETWORK = {o.value for o in NetworkOutcome}
_VERDICT_STATUS = {
    Verdict.RETRY: LeadStatus.PENDING,
    Verdict.CALLBACK: LeadStatus.PENDING,
    Verdict.FINISH: LeadStatus.COMPLETED,
    Verdict.NEVER: LeadStatus.EXCLUDED,
    Verdict.EXHAUSTED: LeadStatus.EXHAUSTED,
}


@dataclass(frozen=True)
class PreparedCall:
    attempt_id: int
    entry_id: int
    contact_id: int
    phone_id: int
    e164: str
    time_zone: str


def network_decision(outcome: str, lead: Lead, rules: RecycleRules, now: datetime) -> Decision:
    """After a call that reached no volunteer; `lead.attempts` already counts it."""
    if outcome in _NETWORK:
        return after_network(NetworkOutcome(outcome), lead, rules, now)
    if lead.attempts >= rules.max_attempts:
        return Decision(Verdict.EXHAUSTED)
    return Decision(Verdict.RETRY, now + (INVALID_RETRY if outcome == "invalid" else FAILED_RETRY))


def number_blocks(session: Session, numbers: list[str], now: datetime) -> dict[str, datetime]:
    """Numbers that may not be dialled now, whatever lead they are on, and until when."""
    rows = session.execute(
        select(CallAttempt.e164, CallAttempt.state, CallAttempt.created_at).where(
            CallAttempt.e164.in_(numbers),
            or_(
                CallAttempt.state != AttemptState.ENDED,
                CallAttempt.abandoned.is_(True) & (CallAttempt.created_at > now - ABANDON_QUIET),
            ),
        )
    )
    blocks: dict[str, datetime] = {}
    for e164, state, created_at in rows:
        if state is AttemptState.ENDED:
            until = created_at + ABANDON_QUIET  # abandoned: 72 h per number
        else:
            until = now + BUSY_ELSEWHERE_RETRY  # a call to this number is in progress
        blocks[e164] = max(until, blocks.get(e164, until))
    return blocks


def claim_free_leads(
    session: Session,
    *,
    engine_id: str,
    campaign_id: int,
    limit: int,
    now: datetime,
    callable_at: CallableAt,
    next_opening: NextOpening | None = None,
) -> list[ClaimedLead]:
    """Claim up to `limit` leads, handing back those whose number may not be dialled now."""
    claimed = claim_leads(
        session,
        engine_id=engine_id,
        campaign_id=campaign_id,
        limit=limit,
        now=now,
        callable_at=callable_at,
        next_opening=next_opening,
    )
    blocks = number_blocks(session, [c.e164 for c in claimed], now) if claimed else {}
    free: list[ClaimedLead] = []
    for lead in claimed:
        until = blocks.get(lead.e164)
        if until is not None:
            hand_back(session, lead.entry_id, engine_id, until)
            continue
        # Two leads of one batch may share a number: only the first is dialled now.
        blocks[lead.e164] = now + BUSY_ELSEWHERE_RETRY
        free.append(lead)
    return free


def write_attempt(
    session: Session, *, engine_id: str, campaign_id: int, lead: ClaimedLead, now: datetime
) -> PreparedCall:
    """The CREATED attempt row of a call to `lead`, flushed for its id."""
    attempt = CallAttempt(
        campaign_id=campaign_id,
        call_list_entry_id=lead.entry_id,
        contact_id=lead.contact_id,
        phone_id=lead.phone_id,
        e164=lead.e164,
        engine_id=engine_id,
        state=AttemptState.CREATED,
        created_at=now,
        updated_at=now,
    )
    session.add(attempt)
    session.flush()
    return PreparedCall(
        attempt.id, lead.entry_id, lead.contact_id, lead.phone_id, lead.e164, lead.time_zone
    )


def prepare_calls(
    session: Session,
    *,
    engine_id: str,
    campaign_id: int,
    limit: int,
    now: datetime,
    callable_at: CallableAt,
    next_opening: NextOpening | None = None,
) -> list[PreparedCall]:
    """Claim up to `limit` leads and write a CREATED attempt row for each."""
    free = claim_free_leads(
        session,
        engine_id=engine_id,
        campaign_id=campaign_id,
        limit=limit,
        now=now,
        callable_at=callable_at,
        next_opening=next_opening,
    )
    return [
        write_attempt(session, engine_id=engine_id, campaign_id=campaign_id, lead=lead, now=now)
        for lead in free
    ]


def hand_back(session: Session, entry_id: int, engine_id: str, until: datetime | None) -> None:
    """The lead is pending again (from `until`) if `engine_id` still holds it."""
    values: dict[str, object] = {
        "status": LeadStatus.PENDING,
        "claimed_by": None,
        "claimed_at": None,
    }
    if until is not None:
        values["next_attempt_at"] = until
    session.execute(
        update(CallListEntry)
        .where(CallListEntry.id == entry_id, CallListEntry.claimed_by == engine_id)
        .values(**values)
    )


def mark_dialing(session: Session, attempt_id: int, at: datetime) -> None:
    attempt = session.get(CallAttempt, attempt_id)
    if attempt is None or attempt.state is not AttemptState.CREATED:
        return
    attempt.state = AttemptState.DIALING
    attempt.started_at = at
    attempt.updated_at = at
    if attempt.call_list_entry_id is not None:
        session.execute(
            update(CallListEntry)
            .where(CallListEntry.id == attempt.call_list_entry_id)
            .values(attempts=CallListEntry.attempts + 1, last_attempt_at=at)
        )


def cancel_prepared(
    session: Session, attempt_id: int, at: datetime, until: datetime | None = None
) -> None:
    """A prepared call that will not be placed: the lead goes back, its attempt uncounted."""
    attempt = session.get(CallAttempt, attempt_id)
    if attempt is None or attempt.state is not AttemptState.CREATED:
        return
    _end(attempt, AttemptResult.CANCELLED, at)
    if attempt.call_list_entry_id is not None:
        hand_back(session, attempt.call_list_entry_id, attempt.engine_id, until)


def _end(attempt: CallAttempt, result: AttemptResult | None, at: datetime) -> None:
    attempt.state = AttemptState.ENDED
    if result is not None:
        attempt.result = result
    attempt.ended_at = at
    attempt.updated_at = at


def _rules(session: Session, campaign_id: int) -> RecycleRules:
    campaign = session.get(Campaign, campaign_id)
    if campaign is None:
        return RecycleRules()
    return RecycleRules.from_campaign(campaign.max_attempts, campaign.recycle_rules or {})


def _lead(entry: CallListEntry) -> Lead:
    return Lead(id=entry.id, tz="", attempts=entry.attempts, priority=entry.priority)


def _apply(
    session: Session,
    entry: CallListEntry,
    decision: Decision,
    *,
    outcome: str,
    claimant: str,
) -> bool:
    """Write the decision unless another engine holds the lead (it settles it itself)."""
    if entry.status is LeadStatus.CLAIMED and entry.claimed_by != claimant:
        log.warning("lead %d is claimed by %s now; %s not applied", entry.id, entry.claimed_by,
                    outcome)  # fmt: skip
        return False
    if entry.status not in (LeadStatus.CLAIMED, LeadStatus.PENDING):
        return False  # already closed (an outcome recorded after a crash, a list refresh)
    entry.status = _VERDICT_STATUS[decision.verdict]
    entry.claimed_by = None
    entry.claimed_at = None
    entry.last_outcome = outcome
    if decision.next_at is not None:
        entry.next_attempt_at = decision.next_at
    return True


def _settle_network(session: Session, attempt: CallAttempt, outcome: str, at: datetime) -> None:
    if attempt.call_list_entry_id is None:
        return
    entry = session.get(CallListEntry, attempt.call_list_entry_id)
    if entry is None:
        return
    decision = network_decision(outcome, _lead(entry), _rules(session, attempt.campaign_id), at)
    _apply(session, entry, decision, outcome=outcome, claimant=attempt.engine_id)


_ENDINGS = {
    "answered_machine": (AttemptResult.MACHINE, "machine"),
    "busy": (AttemptResult.BUSY, "busy"),
    "no_answer": (AttemptResult.NO_ANSWER, "no_answer"),
    "invalid": (AttemptResult.INVALID, "invalid"),
}


def record_event(
    session: Session,
    *,
    attempt_id: int,
    kind: str,
    at: datetime,
    station: str | None = None,
    user_id: int | None = None,
    detail: str | None = None,
) -> None:
    """Write one telephony event (`EventKind` value) onto its attempt and its lead."""
    attempt = session.get(CallAttempt, attempt_id)
    if attempt is None:
        log.warning("event %s for unknown attempt %s", kind, attempt_id)
        return
    if attempt.state is AttemptState.ENDED:
        return  # late or repeated: the first ending stands
    attempt.updated_at = at
    if detail:
        attempt.hangup_cause_text = detail[:64]
    if kind == "answered_human":
        attempt.answered_at = attempt.amd_at = at
        attempt.amd_result = "HUMAN"
        attempt.result = AttemptResult.HUMAN
        attempt.state = AttemptState.ANSWERED
    elif kind in _ENDINGS:
        result, outcome = _ENDINGS[kind]
        if kind == "answered_machine":
            attempt.answered_at = attempt.amd_at = at
            attempt.amd_result = "MACHINE"
        _end(attempt, result, at)
        _settle_network(session, attempt, outcome, at)
    elif kind == "failed":
        _end(attempt, AttemptResult.FAILED, at)
        _settle_failed(session, attempt, at)
    elif kind == "abandoned":
        attempt.abandoned = True
        attempt.answered_at = attempt.answered_at or at
        _end(attempt, AttemptResult.HUMAN, at)
        _settle_network(session, attempt, "abandoned", at)
    elif kind == "bridged":
        _bridged(session, attempt, at, station, user_id)
    elif kind == "hung_up":
        _hung_up(session, attempt, at)
    elif kind == "lost":
        if attempt.bridged_at is not None:
            _end(attempt, None, at)  # the volunteer talked to them: their outcome settles it
        else:
            attempt.hangup_cause_text = attempt.hangup_cause_text or "lost"
            human = attempt.result is AttemptResult.HUMAN
            _end(attempt, AttemptResult.HUMAN if human else AttemptResult.FAILED, at)
            _settle_network(session, attempt, "lost", at)


def _settle_failed(session: Session, attempt: CallAttempt, at: datetime) -> None:
    """Nobody was dialled: the dial is not counted, the lead comes back a little later."""
    entry = session.get(CallListEntry, attempt.call_list_entry_id or 0)
    if entry is None:
        return
    decision = Decision(Verdict.RETRY, at + FAILED_RETRY)
    if _apply(session, entry, decision, outcome="failed", claimant=attempt.engine_id):
        entry.attempts = max(0, entry.attempts - 1)


def _bridged(
    session: Session, attempt: CallAttempt, at: datetime, station: str | None, user_id: int | None
) -> None:
    attempt.state = AttemptState.BRIDGED
    attempt.bridged_at = at
    attempt.answered_at = attempt.answered_at or at
    attempt.result = AttemptResult.HUMAN
    attempt.user_id = user_id
    if station is not None:
        attempt.station_id = session.scalar(select(Station.id).where(Station.number == station))
    if attempt.contact_id is not None:
        session.execute(
            update(Contact).where(Contact.id == attempt.contact_id).values(last_contacted_at=at)
        )


def _hung_up(session: Session, attempt: CallAttempt, at: datetime) -> None:
    if attempt.bridged_at is not None:
        _end(attempt, None, at)  # the lead waits for the volunteer's outcome
        return
    # Hung up before any volunteer took it (the callee gave up while waiting).
    answered = attempt.result is AttemptResult.HUMAN
    _end(attempt, AttemptResult.HUMAN if answered else AttemptResult.NO_ANSWER, at)
    _settle_network(session, attempt, "no_answer", at)


def settle_after_outcome(
    session: Session,
    *,
    attempt_id: int,
    disposition: Disposition,
    now: datetime,
    callback_at: datetime | None = None,
) -> Decision | None:
    """Settle the lead of a call after the volunteer recorded `disposition`.

    For the outcome service, in the transaction that writes the Outcome row: the
    lead's status, next attempt and last outcome follow `recycle.after_disposition`
    (retry later, callback at `callback_at`, finished, never, exhausted) and the
    engine's claim is released. A "never" verdict also makes the contact's numbers
    uncallable. Returns the decision, or None when the attempt or lead is gone, or
    when another engine has claimed the lead since (it is dialling it: nothing is
    changed, and its own result settles the lead).
    """
    attempt = session.get(CallAttempt, attempt_id)
    if attempt is None or attempt.call_list_entry_id is None:
        return None
    entry = session.get(CallListEntry, attempt.call_list_entry_id)
    if entry is None:
        return None
    decision = after_disposition(
        action=disposition.recycle_action,
        category=disposition.category,
        retry_delay_minutes=disposition.retry_delay_minutes,
        lead=_lead(entry),
        rules=_rules(session, attempt.campaign_id),
        now=now,
        callback_at=callback_at,
    )
    if not _apply(session, entry, decision, outcome=disposition.code, claimant=attempt.engine_id):
        return None
    if decision.verdict is Verdict.NEVER:
        session.execute(
            update(PhoneNumber)
            .where(PhoneNumber.contact_id == entry.contact_id)
            .values(callable=False)
        )
    return decision


def unregister_engine(session: Session, engine_id: str) -> None:
    """A clean stop: what the engine still holds is settled by the next recovery at once."""
    session.execute(delete(DialerEngine).where(DialerEngine.engine_id == engine_id))


@dataclass(frozen=True)
class Recovery:
    attempts_settled: int
    claims_released: int


def recover_dead_engines(
    session: Session, *, now: datetime, max_age: timedelta, keep: str
) -> Recovery:
    """Settle the attempts engines silent for `max_age` left in flight; free their leads.

    Never dialled (CREATED): cancelled, the lead back to pending uncounted. Fate
    unknown (dialling, ringing, answered): ended as failed (or human when AMD had
    said so), the lead retried by the rules. Bridged: ended, and the lead put off
    for `OUTCOME_GRACE` so that the volunteer's outcome can still settle it.
    """
    alive = select(DialerEngine.engine_id).where(DialerEngine.heartbeat_at >= now - max_age)
    stale = list(
        session.scalars(
            select(CallAttempt).where(
                CallAttempt.state != AttemptState.ENDED,
                CallAttempt.engine_id != keep,
                CallAttempt.engine_id.not_in(alive),
            )
        )
    )
    for attempt in stale:
        if attempt.state is AttemptState.CREATED:
            cancel_prepared(session, attempt.id, now)
        elif attempt.bridged_at is not None:
            _end(attempt, None, now)
        else:
            record_event(session, attempt_id=attempt.id, kind="lost", at=now, detail="engine lost")
    _grant_outcome_grace(session, alive, now, keep)
    released = release_stale_claims(session, now, max_age)
    return Recovery(attempts_settled=len(stale), claims_released=released)


def _grant_outcome_grace(session: Session, alive: Select[Any], now: datetime, keep: str) -> None:
    """Put off the dead engines' leads whose last call was put through to a volunteer."""
    claims = list(
        session.scalars(
            select(CallListEntry.id).where(
                CallListEntry.status == LeadStatus.CLAIMED,
                CallListEntry.claimed_by != keep,
                CallListEntry.claimed_by.not_in(alive),
            )
        )
    )
    if not claims:
        return
    latest = (
        select(CallAttempt.call_list_entry_id, func.max(CallAttempt.id).label("last"))
        .where(CallAttempt.call_list_entry_id.in_(claims))
        .group_by(CallAttempt.call_list_entry_id)
        .subquery()
    )
    bridged = session.scalars(
        select(CallAttempt.call_list_entry_id)
        .join(latest, CallAttempt.id == latest.c.last)
        .where(CallAttempt.bridged_at.is_not(None))
    )
    ids = [entry_id for entry_id in bridged if entry_id is not None]
    if ids:
        session.execute(
            update(CallListEntry)
            .where(CallListEntry.id.in_(ids))
            .values(next_attempt_at=now + OUTCOME_GRACE)
            .execution_options(synchronize_session=False)
        )
