"""E-mail follow-up: render and queue, then send the queue through SMTP.

Same queue and crash rule as SMS (repo.py). A permanent SMTP refusal (5xx) at
send time is a bounce: the message fails and the address is suppressed.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from phonebank.db.enums import ConsentChannel, FollowUpChannel
from phonebank.db.models.followup import FollowUpMessage
from phonebank.followup import repo
from phonebank.followup.errors import MailError
from phonebank.followup.mailer import Mailer, Templates, build_message
from phonebank.followup.policy import Backoff, RateLimit
from phonebank.followup.tokens import make_token, unsubscribe_url, verify_token

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Unsubscribing:
    """What an unsubscribe link needs: the signing secret and the web address it points to."""

    secret: bytes
    base_url: str

    def url(self, recipient: str, campaign_id: int | None) -> str:
        token = make_token(self.secret, FollowUpChannel.EMAIL.value, recipient, campaign_id)
        return unsubscribe_url(self.base_url, token)


def enqueue_email(
    session: Session,
    *,
    to: str,
    template: str,
    context: Mapping[str, Any],
    key: str,
    now: datetime,
    templates: Templates,
    unsubscribing: Unsubscribing,
    kind: str = "manual",
    campaign_id: int | None = None,
    contact_id: int | None = None,
    send_at: datetime | None = None,
) -> tuple[FollowUpMessage, bool]:
    """Render `template` with the merge fields in `context` and queue it once per `key`."""
    # Checked before rendering too: a suppressed address needs no merge fields.
    if kind not in repo.UNSUPPRESSED_KINDS and repo.is_suppressed(
        session, FollowUpChannel.EMAIL, to
    ):
        raise repo.OptedOut(f"{to} opted out of e-mail follow-ups")
    fields = {"unsubscribe_url": unsubscribing.url(to, campaign_id), **context}
    rendered = templates.render(template, fields)
    return repo.enqueue(
        session,
        channel=FollowUpChannel.EMAIL,
        recipient=to,
        subject=rendered.subject,
        body=rendered.text,
        body_html=rendered.html,
        template=template,
        key=key,
        now=now,
        kind=kind,
        campaign_id=campaign_id,
        contact_id=contact_id,
        send_at=send_at,
    )


@dataclass
class EmailWorker:
    mailer: Mailer
    sessions: sessionmaker[Session]
    sender: str
    unsubscribing: Unsubscribing
    name: str = "email-worker"
    rate: RateLimit = field(default_factory=lambda: RateLimit(60))
    backoff: Backoff = field(default_factory=Backoff)
    lease: timedelta = timedelta(minutes=5)

    async def step(self, now: datetime) -> FollowUpMessage | None:
        """Expire leases, send one due message if the rate allows; the message handled."""
        with self.sessions() as session:
            repo.expire_leases(session, FollowUpChannel.EMAIL, now)
            if self.rate.wait(now) > 0:
                return None
            message = repo.claim(session, FollowUpChannel.EMAIL, self.name, now, self.lease)
            if message is None:
                return None
            if repo.is_suppressed(session, FollowUpChannel.EMAIL, message.recipient):
                repo.mark_retry(session, message.id, self.name, now, "recipient opted out", None)
                return message
            if repo.refused_consent(session, message):
                repo.mark_retry(
                    session, message.id, self.name, now, "recipient refused consent", None
                )
                return message
            domain = self.sender.rpartition("@")[2] or "localhost"
            email = build_message(
                sender=self.sender,
                to=message.recipient,
                subject=message.subject,
                text=message.body,
                html=message.body_html,
                unsubscribe=self.unsubscribing.url(message.recipient, message.campaign_id),
                message_id_domain=domain,
            )
            # No transaction stays open while the SMTP server takes its time.
            session.commit()
            try:
                self.rate.record(now)
                await self.mailer.send(email)
            except MailError as exc:
                if exc.permanent:
                    repo.suppress(
                        session, FollowUpChannel.EMAIL, message.recipient, "bounce", now, str(exc)
                    )
                    retry = None
                else:
                    retry = self.backoff.next_attempt(now, message.attempts)
                repo.mark_retry(session, message.id, self.name, now, str(exc), retry)
                return message
            repo.mark_sent(session, message.id, self.name, now, email["Message-ID"])
            return message


def apply_unsubscribe(session: Session, secret: bytes, token: str, now: datetime) -> str:
    """Act on an unsubscribe link (the web route calls this): suppress, record consent.

    Returns the address; TokenError for a forged or malformed token. Idempotent.
    """
    request = verify_token(secret, token)
    channel = FollowUpChannel(request.channel)
    repo.suppress(session, channel, request.recipient, "email-unsubscribe", now)
    for contact_id in repo.contacts_with_email(session, request.recipient, request.campaign_id):
        repo.record_consent(
            session, contact_id, ConsentChannel(channel.value), False, "email-unsubscribe", now
        )
    session.commit()
    return request.recipient
