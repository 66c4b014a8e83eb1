"""Sends to a segment, now or at a set time: saved, evaluated when due, queued once per contact.

A segment send is one row of `followup_messages` of kind `segment_send`, which
the SMS and e-mail workers never pick up (repo.PLAN_KINDS). Its body is the
send as JSON (campaign, conditions, text or template, constants) and, once
evaluated, the counts. Its idempotency key is `segment-send:` + a hash of the
definition (or the caller's `--key`): the same command run twice is one send.

States: queued = scheduled (next_attempt_at is its time); sending = being
evaluated (with a lease); sent = its messages are queued; failed = cancelled.
Evaluating queues one message per recipient under the key
`segment:<send id>:<contact id>`, so a crash halfway, or a second run after a
lease ran out, queues only the contacts not queued yet.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from phonebank.db.enums import FollowUpChannel
from phonebank.db.models import Campaign
from phonebank.db.models.followup import FollowUpMessage, MessageState
from phonebank.followup import repo
from phonebank.followup.audience import Audience, Recipient, evaluate
from phonebank.followup.compose import Composer
from phonebank.followup.errors import FollowUpError
from phonebank.followup.policy_store import campaign_named, rules_of
from phonebank.followup.segments import parse_segment

PLAN_KIND = "segment_send"
MESSAGE_KIND = "segment"
LEASE = timedelta(minutes=10)
CANCELLED = "cancelled"


class SendError(FollowUpError):
    code = "segment_send"


@dataclass(frozen=True)
class SendSpec:
    """What a person asked for: which campaign, who, what, when (UTC; None = now)."""

    campaign: str
    channel: FollowUpChannel
    where: tuple[str, ...]
    content: str  # the SMS text or the e-mail template's name
    constants: Mapping[str, str] = field(default_factory=dict)
    at: datetime | None = None

    def definition(self) -> dict[str, Any]:
        return {
            "campaign": self.campaign,
            "channel": self.channel.value,
            "where": list(self.where),
            "content": self.content,
            "fields": dict(sorted(self.constants.items())),
            "at": self.at.isoformat() if self.at else None,
        }

    def default_key(self) -> str:
        canonical = json.dumps(self.definition(), sort_keys=True, ensure_ascii=False)
        return hashlib.sha256(canonical.encode()).hexdigest()[:32]


def message_key(send_id: int, contact_id: int) -> str:
    return f"segment:{send_id}:{contact_id}"


@dataclass
class Preview:
    audience: Audience
    samples: list[tuple[str, str]]  # (address, rendered message)

    def to_json(self) -> dict[str, Any]:
        return {
            **self.audience.to_json(),
            "sample": [{"to": to, "message": text} for to, text in self.samples],
        }


def _today(campaign: Campaign, now: datetime) -> Any:
    return now.astimezone(ZoneInfo(campaign.time_zone)).date()


def prepare(
    session: Session, spec: SendSpec, composer: Composer, now: datetime, samples: int = 3
) -> Preview:
    """Check the send (conditions, merge fields) and evaluate it: what a dry run shows."""
    campaign = campaign_named(session, spec.campaign)
    segment = parse_segment(spec.where)
    composer.check(spec.channel, spec.content, spec.constants)
    rules = rules_of(campaign)
    audience = evaluate(session, campaign.id, segment, spec.channel, rules, _today(campaign, now))
    shown = []
    for recipient in audience.recipients[:samples]:
        fields = composer.fields(recipient, campaign, spec.constants)
        shown.append(
            (
                recipient.address,
                composer.preview(spec.channel, spec.content, fields, recipient.address),
            )
        )
    return Preview(audience, shown)


def create(
    session: Session, spec: SendSpec, composer: Composer, now: datetime, key: str | None = None
) -> tuple[FollowUpMessage, bool]:
    """Save the send (checked first); (the send, True if this call created it)."""
    campaign = campaign_named(session, spec.campaign)
    parse_segment(spec.where)
    composer.check(spec.channel, spec.content, spec.constants)
    if spec.at is not None and spec.at < now - timedelta(minutes=1):
        raise SendError(f"--at {spec.at.isoformat()} is in the past")
    return repo.enqueue(
        session,
        channel=spec.channel,
        recipient=f"segment of {campaign.name}"[:320],
        body=json.dumps({"send": spec.definition()}, ensure_ascii=False),
        template=spec.content[:64] if spec.channel is FollowUpChannel.EMAIL else None,
        key=f"segment-send:{key or spec.default_key()}",
        now=now,
        kind=PLAN_KIND,
        campaign_id=campaign.id,
        send_at=spec.at or now,
    )


def _spec(plan: FollowUpMessage) -> SendSpec:
    data = json.loads(plan.body)["send"]
    at = data.get("at")
    return SendSpec(
        campaign=data["campaign"],
        channel=FollowUpChannel(data["channel"]),
        where=tuple(data["where"]),
        content=data["content"],
        constants=data.get("fields", {}),
        at=datetime.fromisoformat(at) if at else None,
    )


def claim_due(
    session: Session, now: datetime, worker: str, lease: timedelta = LEASE
) -> FollowUpMessage | None:
    """The next send due now (or one whose evaluator died), marked `sending` for `worker`."""
    plan = session.scalar(
        select(FollowUpMessage)
        .where(
            FollowUpMessage.kind == PLAN_KIND,
            or_(
                (FollowUpMessage.state == MessageState.QUEUED)
                & (FollowUpMessage.next_attempt_at <= now),
                (FollowUpMessage.state == MessageState.SENDING)
                & (FollowUpMessage.lease_until < now),
            ),
        )
        .order_by(FollowUpMessage.next_attempt_at, FollowUpMessage.id)
        .limit(1)
        .with_for_update(skip_locked=True)
    )
    if plan is None:
        session.commit()
        return None
    plan.state = MessageState.SENDING
    plan.claimed_by = worker
    plan.lease_until = now + lease
    plan.attempts += 1
    session.commit()
    return plan


@dataclass
class Expanded:
    send_id: int
    audience: Audience
    queued: int = 0
    already: int = 0
    opted_out: int = 0

    def to_json(self) -> dict[str, Any]:
        return {
            "send": self.send_id,
            **self.audience.to_json(),
            "queued": self.queued,
            "already_queued": self.already,
            "opted_out_meanwhile": self.opted_out,
        }


def _existing_keys(session: Session, keys: Sequence[str]) -> set[str]:
    found: set[str] = set()
    for start in range(0, len(keys), 500):
        found.update(
            session.scalars(
                select(FollowUpMessage.idempotency_key).where(
                    FollowUpMessage.idempotency_key.in_(keys[start : start + 500])
                )
            )
        )
    return found


def expand(session: Session, plan: FollowUpMessage, composer: Composer, now: datetime) -> Expanded:
    """Evaluate a claimed send and queue its messages; marks it `sent` with its counts."""
    spec = _spec(plan)
    campaign = session.get(Campaign, plan.campaign_id)
    if campaign is None:
        raise SendError(f"segment send {plan.id}: its campaign is gone")
    rules = rules_of(campaign)
    audience = evaluate(
        session, campaign.id, parse_segment(spec.where), spec.channel, rules, _today(campaign, now)
    )
    result = Expanded(plan.id, audience)
    keys = [message_key(plan.id, r.contact_id) for r in audience.recipients]
    done = _existing_keys(session, keys)
    for recipient, key in zip(audience.recipients, keys, strict=True):
        if key in done:
            result.already += 1
            continue
        if _queue_one(session, composer, spec, campaign, recipient, key, now):
            result.queued += 1
        else:
            result.opted_out += 1
    plan.body = json.dumps({"send": spec.definition(), "result": result.to_json()})
    plan.state = MessageState.SENT
    plan.sent_at = now
    plan.lease_until = None
    session.commit()
    return result


def _queue_one(
    session: Session,
    composer: Composer,
    spec: SendSpec,
    campaign: Campaign,
    recipient: Recipient,
    key: str,
    now: datetime,
) -> bool:
    try:
        composer.queue(
            session,
            channel=spec.channel,
            content=spec.content,
            recipient=recipient,
            fields=composer.fields(recipient, campaign, spec.constants),
            key=key,
            now=now,
            kind=MESSAGE_KIND,
            campaign_id=campaign.id,
        )
    except repo.OptedOut:
        return False
    return True


_SHOWN_STATES = {"queued": "scheduled", "sending": "evaluating", "sent": "queued"}


@dataclass(frozen=True)
class SendInfo:
    id: int
    campaign_id: int | None
    channel: str
    state: str
    at: datetime
    definition: dict[str, Any]
    result: dict[str, Any] | None
    messages: dict[str, int]
    error: str = ""

    @property
    def shown_state(self) -> str:
        if self.state == MessageState.FAILED:
            return CANCELLED if self.error.startswith(CANCELLED) else "failed"
        return _SHOWN_STATES.get(self.state, self.state)

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "state": self.shown_state,
            "at": self.at.isoformat(),
            **self.definition,
            "result": self.result,
            "messages": self.messages,
            "error": self.error,
        }


def listing(
    session: Session, *, channel: FollowUpChannel | None = None, scheduled_only: bool = False
) -> list[SendInfo]:
    query = select(FollowUpMessage).where(FollowUpMessage.kind == PLAN_KIND)
    if channel is not None:
        query = query.where(FollowUpMessage.channel == channel)
    if scheduled_only:
        query = query.where(FollowUpMessage.state == MessageState.QUEUED)
    out = []
    for plan in session.scalars(
        query.order_by(FollowUpMessage.next_attempt_at, FollowUpMessage.id)
    ):
        body = json.loads(plan.body)
        out.append(
            SendInfo(
                plan.id,
                plan.campaign_id,
                plan.channel.value,
                plan.state.value,
                plan.next_attempt_at,
                body["send"],
                body.get("result"),
                message_states(session, plan.id),
                plan.last_error,
            )
        )
    return out


def message_states(session: Session, send_id: int) -> dict[str, int]:
    """How the send's messages stand (queued, sent, delivered, failed...)."""
    counts: dict[str, int] = {}
    for state in session.scalars(
        select(FollowUpMessage.state).where(
            FollowUpMessage.kind == MESSAGE_KIND,
            FollowUpMessage.idempotency_key.startswith(f"segment:{send_id}:"),
        )
    ):
        counts[state.value] = counts.get(state.value, 0) + 1
    return counts


def cancel(session: Session, send_id: int, now: datetime, who: str = "") -> int:
    """Cancel a send and its messages not sent yet; how many messages were withdrawn."""
    plan = session.get(FollowUpMessage, send_id)
    if plan is None or plan.kind != PLAN_KIND:
        raise SendError(f"no segment send {send_id}")
    if plan.state is MessageState.FAILED:
        raise SendError(f"segment send {send_id} is already cancelled")
    if plan.state is MessageState.SENDING and plan.lease_until and plan.lease_until > now:
        # Its messages are being queued this very moment; cancelling then leaves them be.
        raise SendError(f"segment send {send_id} is being evaluated; cancel it in a minute")
    reason = f"{CANCELLED}{' by ' + who if who else ''}"
    plan.state = MessageState.FAILED
    plan.last_error = reason
    plan.lease_until = None
    withdrawn = session.execute(
        update(FollowUpMessage)
        .where(
            FollowUpMessage.kind == MESSAGE_KIND,
            FollowUpMessage.idempotency_key.startswith(f"segment:{send_id}:"),
            FollowUpMessage.state == MessageState.QUEUED,
        )
        .values(state=MessageState.FAILED, last_error=reason, updated_at=now)
    )
    session.commit()
    return int(withdrawn.rowcount or 0)  # type: ignore[attr-defined]
