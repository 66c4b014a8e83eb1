"""One message for one recipient: merge fields checked up front, then rendered and queued.

Segment sends and triggers both go through `Composer`: `check` refuses an
unknown merge field before anything is queued, `queue` renders the SMS text or
the e-mail template with the recipient's fields and puts it on the queue under
the caller's idempotency key.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from phonebank.db.enums import FollowUpChannel
from phonebank.db.models import Campaign
from phonebank.db.models.followup import FollowUpMessage
from phonebank.followup.audience import Recipient
from phonebank.followup.email_service import Unsubscribing, enqueue_email
from phonebank.followup.gsm import split_text
from phonebank.followup.mailer import Templates
from phonebank.followup.merge import (
    EMAIL_FIELDS,
    available_fields,
    campaign_fields,
    check_fields,
    render_text,
    text_fields,
)
from phonebank.followup.service import enqueue_sms

DEFAULT_LANGUAGE = "fr"


@dataclass(frozen=True)
class Composer:
    templates: Templates
    unsubscribing: Unsubscribing

    def check(self, channel: FollowUpChannel, content: str, constants: Mapping[str, str]) -> None:
        """MergeFieldError (naming the field) or TemplateError before anything is queued."""
        available = available_fields(constants)
        if channel is FollowUpChannel.SMS:
            check_fields(text_fields(content), available, "the text")
            # A text longer than the concatenation limit is refused now, not per recipient.
            split_text(render_text(content, dict.fromkeys(available, "")))
        else:
            used = sorted(self.templates.variables(content))
            check_fields(used, (*available, *EMAIL_FIELDS), f"e-mail template {content!r}")

    def fields(
        self, recipient: Recipient, campaign: Campaign, constants: Mapping[str, str]
    ) -> dict[str, str]:
        return {
            "language": DEFAULT_LANGUAGE,
            **recipient.fields.as_dict(),
            **campaign_fields(campaign.name, campaign.election_date),
            **constants,
        }

    def preview(
        self, channel: FollowUpChannel, content: str, fields: Mapping[str, str], address: str
    ) -> str:
        if channel is FollowUpChannel.SMS:
            return render_text(content, fields)
        url = self.unsubscribing.url(address, None)
        rendered = self.templates.render(content, {"unsubscribe_url": url, **fields})
        return f"{rendered.subject}\n\n{rendered.text}"

    def queue(
        self,
        session: Session,
        *,
        channel: FollowUpChannel,
        content: str,
        recipient: Recipient,
        fields: Mapping[str, str],
        key: str,
        now: datetime,
        kind: str,
        campaign_id: int,
        send_at: datetime | None = None,
    ) -> tuple[FollowUpMessage, bool]:
        """Queue once per `key`; repo.OptedOut if the address opted out meanwhile."""
        if channel is FollowUpChannel.SMS:
            return enqueue_sms(
                session,
                to=recipient.address,
                text=render_text(content, fields),
                key=key,
                now=now,
                kind=kind,
                campaign_id=campaign_id,
                contact_id=recipient.contact_id,
                send_at=send_at,
            )
        return enqueue_email(
            session,
            to=recipient.address,
            template=content,
            context=fields,
            key=key,
            now=now,
            templates=self.templates,
            unsubscribing=self.unsubscribing,
            kind=kind,
            campaign_id=campaign_id,
            contact_id=recipient.contact_id,
            send_at=send_at,
        )
