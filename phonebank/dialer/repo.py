"""Lead claiming in the database: safe with several engines and across crashes.

Claiming takes candidate rows with `SELECT … FOR UPDATE SKIP LOCKED` on PostgreSQL
(engines never wait for each other's rows), lets the pure rules in `recycle.py`
choose among them, then marks each chosen row with a compare-and-set `UPDATE … WHERE
status = 'pending'`. The compare-and-set is what makes a double claim impossible on
any database; SKIP LOCKED only keeps engines from queueing behind each other. SQLite
has no row locks, but it runs one writer at a time, so the compare-and-set suffices.

On SQLite, run claims in a session from `writer_session_factory` (BEGIN IMMEDIATE),
so that two claiming threads queue for the write lock instead of failing.

An engine proves it is alive by its heartbeat row; the claims of an engine whose
heartbeat is stale (it crashed, or the box lost power) go back to pending.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import and_, delete, func, or_, select, update
from sqlalchemy.orm import Session

from phonebank.db.enums import CallbackState, LeadStatus
from phonebank.db.models import (
    Callback,
    CallList,
    CallListEntry,
    Campaign,
    DoNotCallEntry,
    PhoneNumber,
)
from phonebank.db.models.dialer import DialerEngine
from phonebank.dialer.recycle import ABANDON_QUIET, CallableAt, Lead, RecycleRules, next_leads

ABANDONED = "abandoned"
# Candidates read per lead wanted (some will be blocked by a rule), and how many
# times to read more when too many were.
_OVERSCAN = 4
_MAX_ROUNDS = 8


@dataclass(frozen=True)
class ClaimedLead:
    entry_id: int
    contact_id: int
    phone_id: int
    e164: str
    time_zone: str


def register_engine(session: Session, engine_id: str, now: datetime) -> None:
    session.add(
        DialerEngine(
            engine_id=engine_id,
            hostname=socket.gethostname(),
            pid=os.getpid(),
            started_at=now,
            heartbeat_at=now,
        )
    )


def heartbeat(session: Session, engine_id: str, now: datetime) -> None:
    session.execute(
        update(DialerEngine).where(DialerEngine.engine_id == engine_id).values(heartbeat_at=now)
    )


def release_stale_claims(session: Session, now: datetime, max_age: timedelta) -> int:
    """Give back the leads of engines not heard of for `max_age`; returns how many."""
    alive = select(DialerEngine.engine_id).where(DialerEngine.heartbeat_at >= now - max_age)
    released = session.execute(
        update(CallListEntry)
        .where(
            CallListEntry.status == LeadStatus.CLAIMED,
            or_(CallListEntry.claimed_by.is_(None), CallListEntry.claimed_by.not_in(alive)),
        )
        .values(status=LeadStatus.PENDING, claimed_by=None, claimed_at=None)
        .execution_options(synchronize_session=False)
    )
    session.execute(delete(DialerEngine).where(DialerEngine.heartbeat_at < now - max_age))
    return int(getattr(released, "rowcount", 0) or 0)


def release_claim(session: Session, entry_id: int, engine_id: str) -> bool:
    """Hand a lead back without dialling it (the engine changed its mind)."""
    result = session.execute(
        update(CallListEntry)
        .where(CallListEntry.id == entry_id, CallListEntry.claimed_by == engine_id)
        .values(status=LeadStatus.PENDING, claimed_by=None, claimed_at=None)
    )
    return bool(getattr(result, "rowcount", 0))


def _candidates(
    session: Session, campaign_id: int, now: datetime, limit: int, seen: set[int]
) -> list[CallListEntry]:
    query = (
        select(CallListEntry)
        .join(CallList, CallList.id == CallListEntry.call_list_id)
        .where(
            CallList.campaign_id == campaign_id,
            CallList.active.is_(True),
            CallListEntry.status == LeadStatus.PENDING,
            or_(CallListEntry.next_attempt_at.is_(None), CallListEntry.next_attempt_at <= now),
            CallListEntry.id.not_in(seen),
        )
        .order_by(
            CallListEntry.priority.desc(),
            CallListEntry.next_attempt_at.is_not(None),
            CallListEntry.next_attempt_at,
            CallListEntry.id,
        )
        .limit(limit)
        # Other engines skip these rows instead of waiting; ignored by SQLite.
        .with_for_update(of=CallListEntry, skip_locked=True)
    )
    return list(session.scalars(query))


def _phones(session: Session, contact_ids: list[int]) -> dict[int, PhoneNumber]:
    """The first callable phone of each contact that no do-not-call entry names."""
    listed = select(DoNotCallEntry.e164).where(DoNotCallEntry.e164 == PhoneNumber.e164)
    rows = session.scalars(
        select(PhoneNumber)
        .where(
            PhoneNumber.contact_id.in_(contact_ids),
            PhoneNumber.callable.is_(True),
            PhoneNumber.do_not_call.is_(False),
            ~listed.exists(),
        )
        .order_by(PhoneNumber.contact_id, PhoneNumber.position, PhoneNumber.id)
    )
    chosen: dict[int, PhoneNumber] = {}
    for phone in rows:
        chosen.setdefault(phone.contact_id, phone)
    return chosen


def _callbacks(session: Session, campaign_id: int, contact_ids: list[int]) -> dict[int, datetime]:
    rows = session.execute(
        select(Callback.contact_id, func.min(Callback.due_at))
        .where(
            Callback.campaign_id == campaign_id,
            Callback.contact_id.in_(contact_ids),
            Callback.state == CallbackState.SCHEDULED,
        )
        .group_by(Callback.contact_id)
    )
    return {contact_id: due for contact_id, due in rows}


def _set(session: Session, entry_id: int, **values: object) -> None:
    session.execute(
        update(CallListEntry)
        .where(CallListEntry.id == entry_id, CallListEntry.status == LeadStatus.PENDING)
        .values(**values)
        .execution_options(synchronize_session=False)
    )


def _settle_blocked(
    session: Session,
    leads: list[Lead],
    phoneless: list[int],
    now: datetime,
    rules: RecycleRules,
    callable_at: CallableAt,
    next_opening: Callable[[str, datetime], datetime | None] | None,
) -> None:
    """Move the leads no rule lets through out of the head of the queue.

    Left pending, they would be read first again at every claim and starve the
    callable leads behind them.
    """
    for entry_id in phoneless:  # every number is on a do-not-call list or unusable
        _set(session, entry_id, status=LeadStatus.EXCLUDED)
    for lead in leads:
        if lead.callback_at is None and lead.attempts >= rules.max_attempts:
            _set(session, lead.id, status=LeadStatus.EXHAUSTED)
        elif lead.last_abandoned_at is not None and now - lead.last_abandoned_at < ABANDON_QUIET:
            _set(session, lead.id, next_attempt_at=lead.last_abandoned_at + ABANDON_QUIET)
        elif (
            next_opening is not None and lead.callback_at is None and not callable_at(lead.tz, now)
        ):
            opening = next_opening(lead.tz, now)
            if opening is not None:
                _set(session, lead.id, next_attempt_at=opening)


def claim_leads(
    session: Session,
    *,
    engine_id: str,
    campaign_id: int,
    limit: int,
    now: datetime,
    callable_at: CallableAt,
    next_opening: Callable[[str, datetime], datetime | None] | None = None,
) -> list[ClaimedLead]:
    """Claim up to `limit` leads that every dialling rule allows now.

    Candidates that can never be dialled are closed (do-not-call: excluded; attempt
    limit: exhausted), and those that may be dialled later are put off until then
    (72 h after an abandoned call; with `next_opening`, until the callee's calling
    window opens), so they do not crowd the head of the queue.
    """
    campaign = session.get(Campaign, campaign_id)
    if campaign is None or limit <= 0:
        return []
    rules = RecycleRules.from_campaign(campaign.max_attempts, campaign.recycle_rules or {})
    claimed: list[ClaimedLead] = []
    seen: set[int] = set()
    for _round in range(_MAX_ROUNDS):
        want = limit - len(claimed)
        if want <= 0:
            break
        entries = _candidates(session, campaign_id, now, want * _OVERSCAN, seen)
        if not entries:
            break
        seen.update(entry.id for entry in entries)
        contact_ids = [entry.contact_id for entry in entries]
        phones = _phones(session, contact_ids)
        callbacks = _callbacks(session, campaign_id, contact_ids)
        by_id = {entry.id: entry for entry in entries}
        leads = [
            Lead(
                id=entry.id,
                tz=phones[entry.contact_id].time_zone or campaign.time_zone,
                attempts=entry.attempts,
                next_at=entry.next_attempt_at,
                last_abandoned_at=entry.last_attempt_at
                if entry.last_outcome == ABANDONED
                else None,
                callback_at=callbacks.get(entry.contact_id),
                priority=entry.priority,
            )
            for entry in entries
            if entry.contact_id in phones
        ]
        phoneless = [entry.id for entry in entries if entry.contact_id not in phones]
        chosen = next_leads(leads, now, callable_at, rules, want)
        chosen_ids = {lead.id for lead in chosen}
        blocked = [lead for lead in leads if lead.id not in chosen_ids]
        _settle_blocked(session, blocked, phoneless, now, rules, callable_at, next_opening)
        for lead in chosen:
            won = session.execute(
                update(CallListEntry)
                .where(
                    and_(CallListEntry.id == lead.id, CallListEntry.status == LeadStatus.PENDING)
                )
                .values(status=LeadStatus.CLAIMED, claimed_by=engine_id, claimed_at=now)
                .execution_options(synchronize_session=False)
            )
            if getattr(won, "rowcount", 0) != 1:
                continue  # another engine took it between our read and our write
            entry = by_id[lead.id]
            phone = phones[entry.contact_id]
            claimed.append(ClaimedLead(entry.id, entry.contact_id, phone.id, phone.e164, lead.tz))
    return claimed
