"""A segment evaluated in the database: the contacts it names, and who of them may be reached.

`matching_contacts` applies the segment's conditions (SQL where portable, city
and tags in Python as the call lists do); `reachable` turns contact ids into
recipients on one channel — an SMS-able mobile or an e-mail address — leaving
out, with the reason counted, whoever opted out (STOP, unsubscribe, bounce),
refused consent, lacks the consent the campaign requires, or (SMS) is on the
do-not-call list when the campaign says so.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from phonebank.db.enums import ConsentChannel, DispositionCategory, FollowUpChannel, PhoneType
from phonebank.db.models import Consent, Contact, Disposition, DoNotCallEntry, Outcome, PhoneNumber
from phonebank.db.models.followup import Suppression
from phonebank.followup.merge import ContactFields
from phonebank.followup.rules import FollowUpRules
from phonebank.followup.segments import Segment
from phonebank.lists.target_query import contacts_query, kept

_BATCH = 500


@dataclass(frozen=True)
class Recipient:
    contact_id: int
    address: str  # E.164 number or e-mail address
    fields: ContactFields


@dataclass
class Audience:
    """Who a send reaches, and how many were left out for each reason."""

    recipients: list[Recipient] = field(default_factory=list)
    matched: int = 0
    excluded: Counter[str] = field(default_factory=Counter)

    def to_json(self) -> dict[str, object]:
        return {
            "matched": self.matched,
            "recipients": len(self.recipients),
            "excluded": dict(sorted(self.excluded.items())),
        }


def _batches(ids: Sequence[int]) -> Iterator[Sequence[int]]:
    for start in range(0, len(ids), _BATCH):
        yield ids[start : start + _BATCH]


def latest_outcomes(
    session: Session, campaign_id: int, contact_ids: Sequence[int]
) -> dict[int, tuple[str, DispositionCategory]]:
    """Each contact's latest outcome in the campaign: (disposition code, category)."""
    latest: dict[int, tuple[datetime, int, str, DispositionCategory]] = {}
    for batch in _batches(contact_ids):
        rows = session.execute(
            select(
                Outcome.contact_id,
                Outcome.recorded_at,
                Outcome.id,
                Disposition.code,
                Disposition.category,
            )
            .join(Disposition, Disposition.id == Outcome.disposition_id)
            .where(Outcome.campaign_id == campaign_id, Outcome.contact_id.in_(batch))
        )
        for contact_id, recorded_at, outcome_id, code, category in rows:
            seen = latest.get(contact_id)
            if seen is None or (recorded_at, outcome_id) > seen[:2]:
                latest[contact_id] = (recorded_at, outcome_id, code, category)
    return {cid: (code, category) for cid, (_, _, code, category) in latest.items()}


def matching_contacts(
    session: Session, campaign_id: int, segment: Segment, today: date
) -> list[int]:
    """Ids of the campaign's contacts meeting every condition of the segment, in id order."""
    statement = contacts_query(campaign_id, segment.target, today).order_by(Contact.id)
    found = list(kept(session.execute(statement), segment.target))
    if not segment.needs_outcomes:
        return found
    outcomes = latest_outcomes(session, campaign_id, found)
    return [
        cid
        for cid in found
        if cid in outcomes
        and (outcomes[cid][0] in segment.dispositions or outcomes[cid][1] in segment.categories)
    ]


def latest_consents(
    session: Session, channel: FollowUpChannel, contact_ids: Sequence[int]
) -> dict[int, bool]:
    latest: dict[int, tuple[datetime, int, bool]] = {}
    for batch in _batches(contact_ids):
        rows = session.execute(
            select(Consent.contact_id, Consent.recorded_at, Consent.id, Consent.granted).where(
                Consent.channel == ConsentChannel(channel.value), Consent.contact_id.in_(batch)
            )
        )
        for contact_id, recorded_at, consent_id, granted in rows:
            seen = latest.get(contact_id)
            if seen is None or (recorded_at, consent_id) > seen[:2]:
                latest[contact_id] = (recorded_at, consent_id, bool(granted))
    return {cid: granted for cid, (_, _, granted) in latest.items()}


def _suppressed(session: Session, channel: FollowUpChannel, addresses: Iterable[str]) -> set[str]:
    wanted = sorted({a.lower() for a in addresses})
    found: set[str] = set()
    for start in range(0, len(wanted), _BATCH):
        chunk = wanted[start : start + _BATCH]
        found.update(
            r.lower()
            for r in session.scalars(
                select(Suppression.recipient).where(
                    Suppression.channel == channel, func.lower(Suppression.recipient).in_(chunk)
                )
            )
        )
    return found


def _on_dnc(session: Session, numbers: Iterable[str]) -> set[str]:
    wanted = sorted(set(numbers))
    found: set[str] = set()
    for start in range(0, len(wanted), _BATCH):
        chunk = wanted[start : start + _BATCH]
        found.update(
            session.scalars(select(DoNotCallEntry.e164).where(DoNotCallEntry.e164.in_(chunk)))
        )
    return found


def _fields(row: Contact) -> ContactFields:
    return ContactFields(
        row.first_name or "",
        row.last_name or "",
        row.city or "",
        row.precinct or "",
        row.postal_code or "",
    )


def _addresses(
    session: Session, channel: FollowUpChannel, batch: Sequence[int]
) -> dict[int, list[tuple[str, bool]]]:
    """Candidate addresses per contact in order of preference, with the phone's DNC flag."""
    out: dict[int, list[tuple[str, bool]]] = {}
    if channel is FollowUpChannel.SMS:
        rows = session.execute(
            select(PhoneNumber.contact_id, PhoneNumber.e164, PhoneNumber.do_not_call)
            .where(PhoneNumber.contact_id.in_(batch), PhoneNumber.type == PhoneType.MOBILE)
            .order_by(PhoneNumber.contact_id, PhoneNumber.position, PhoneNumber.id)
        )
        for contact_id, e164, dnc in rows:
            out.setdefault(contact_id, []).append((e164, bool(dnc)))
    else:
        for contact_id, email in session.execute(
            select(Contact.id, Contact.email).where(Contact.id.in_(batch))
        ):
            address = (email or "").strip()
            if "@" in address:
                out[contact_id] = [(address, False)]
    return out


def reachable(
    session: Session,
    channel: FollowUpChannel,
    contact_ids: Sequence[int],
    rules: FollowUpRules,
    *,
    consent_only: bool = False,
) -> Audience:
    """Recipients on `channel` among `contact_ids` (one per address), and who was left out."""
    audience = Audience(matched=len(contact_ids))
    need_consent = consent_only or rules.needs_consent(channel)
    taken: set[str] = set()
    for batch in _batches(contact_ids):
        candidates = _addresses(session, channel, batch)
        every = [address for options in candidates.values() for address, _ in options]
        suppressed = _suppressed(session, channel, every)
        dnc = (
            _on_dnc(session, every)
            if channel is FollowUpChannel.SMS and rules.dnc_blocks_sms
            else set()
        )
        consents = latest_consents(session, channel, batch)
        rows = {c.id: c for c in session.scalars(select(Contact).where(Contact.id.in_(batch)))}
        for contact_id in batch:
            options = candidates.get(contact_id, [])
            if not options:
                audience.excluded[
                    "no_mobile" if channel is FollowUpChannel.SMS else "no_email"
                ] += 1
                continue
            consent = consents.get(contact_id)
            if consent is False:
                audience.excluded["refused"] += 1
                continue
            if need_consent and consent is not True:
                audience.excluded["no_consent"] += 1
                continue
            reason, chosen = "", ""
            for address, flagged in options:
                if address.lower() in suppressed:
                    reason = reason or "opted_out"
                elif rules.dnc_blocks_sms and (flagged or address in dnc):
                    reason = reason or "do_not_call"
                else:
                    chosen = address
                    break
            if not chosen:
                audience.excluded[reason] += 1
                continue
            if chosen.lower() in taken:
                # One household phone or shared address: one message, not one per person.
                audience.excluded["duplicate"] += 1
                continue
            taken.add(chosen.lower())
            audience.recipients.append(Recipient(contact_id, chosen, _fields(rows[contact_id])))
    return audience


def evaluate(
    session: Session,
    campaign_id: int,
    segment: Segment,
    channel: FollowUpChannel,
    rules: FollowUpRules,
    today: date,
) -> Audience:
    contacts = matching_contacts(session, campaign_id, segment, today)
    return reachable(session, channel, contacts, rules, consent_only=segment.consent_only)
