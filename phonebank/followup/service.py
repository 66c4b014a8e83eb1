"""SMS follow-up: queue a text, send the queue through the modem, read what comes back.

`SmsWorker.step(now)` does one round (expire leases, send one due message within
the rate limit, read notifications); `run` repeats it until told to stop. The
modem is blocking: an asyncio service runs `run` in a thread.
"""

from __future__ import annotations

import hashlib
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from sqlalchemy.orm import Session, sessionmaker

from phonebank.db.enums import ConsentChannel, FollowUpChannel
from phonebank.db.models.followup import FollowUpMessage, SmsInbox
from phonebank.followup import repo
from phonebank.followup.errors import EncodingError, ModemError, PduError, SendUncertain
from phonebank.followup.gsm import split_text
from phonebank.followup.modem import GsmModem, is_permanent
from phonebank.followup.optout import is_stop
from phonebank.followup.pdu import Deliver, StatusReport, build_submits, decode_incoming
from phonebank.followup.policy import Backoff, RateLimit

log = logging.getLogger(__name__)

STOP_ACK_TEXT = (
    "Vous ne recevrez plus de SMS de notre part. / You will receive no more texts from us."
)


def enqueue_sms(
    session: Session,
    *,
    to: str,
    text: str,
    key: str,
    now: datetime,
    kind: str = "manual",
    campaign_id: int | None = None,
    contact_id: int | None = None,
    send_at: datetime | None = None,
) -> tuple[FollowUpMessage, bool]:
    """Queue `text` for `to` (E.164) once per `key`; parts counted now, refused if too long."""
    parts = len(split_text(text))
    # The concatenation reference only has to differ between messages in flight to
    # one phone; a hash of the key keeps it stable across retries.
    reference = hashlib.sha256(key.encode()).digest()[0]
    return repo.enqueue(
        session,
        channel=FollowUpChannel.SMS,
        recipient=to,
        body=text,
        key=key,
        now=now,
        kind=kind,
        campaign_id=campaign_id,
        contact_id=contact_id,
        parts=parts,
        concat_ref=reference,
        send_at=send_at,
    )


@dataclass
class Incoming:
    """What became of one incoming SMS."""

    sender: str
    text: str
    stored: bool
    is_stop: bool
    acknowledged: bool = False


@dataclass
class SmsWorker:
    modem: GsmModem
    sessions: sessionmaker[Session]
    name: str = "sms-worker"
    rate: RateLimit = field(default_factory=lambda: RateLimit(6))
    backoff: Backoff = field(default_factory=Backoff)
    # Longer than a send can take (each part may wait `send_timeout` for the network).
    lease: timedelta = timedelta(minutes=5)
    validity_minutes: int = 24 * 60
    status_reports: bool = True

    def step(self, now: datetime) -> FollowUpMessage | None:
        """Expire leases, send one due message if the rate allows; the message handled."""
        with self.sessions() as session:
            expired = repo.expire_leases(session, FollowUpChannel.SMS, now)
            if expired:
                log.warning("%d SMS left 'sending' by a crash marked uncertain", expired)
            if self.rate.wait(now) > 0:
                return None
            message = repo.claim(session, FollowUpChannel.SMS, self.name, now, self.lease)
            if message is None:
                return None
            self._send(session, message, now)
            return message

    def _send(self, session: Session, message: FollowUpMessage, now: datetime) -> None:
        # Suppressed since it was queued (a STOP arrived meanwhile): never send.
        if message.kind not in repo.UNSUPPRESSED_KINDS and repo.is_suppressed(
            session, FollowUpChannel.SMS, message.recipient
        ):
            repo.mark_retry(session, message.id, self.name, now, "recipient opted out", None)
            return
        if repo.refused_consent(session, message):
            repo.mark_retry(session, message.id, self.name, now, "recipient refused consent", None)
            return
        # End the read transaction: the modem may take seconds, and a SQLite writer lock
        # held that long would stall every other writer.
        session.commit()
        try:
            submits = build_submits(
                message.recipient,
                message.body,
                reference=message.concat_ref,
                status_report=self.status_reports,
                validity_minutes=self.validity_minutes,
            )
        except EncodingError as exc:
            repo.mark_retry(session, message.id, self.name, now, str(exc), None)
            return
        try:
            # Parts the modem already accepted (before a failure) are not sent again.
            for submit in submits[message.parts_sent :]:
                reference = self.modem.send(submit)
                self.rate.record(now)
                repo.record_part(session, message, self.name, submit.part, reference)
        except SendUncertain as exc:
            repo.mark_uncertain(session, message.id, self.name, now, str(exc))
            return
        except ModemError as exc:
            retry = None if is_permanent(exc) else self.backoff.next_attempt(now, message.attempts)
            repo.mark_retry(session, message.id, self.name, now, str(exc), retry)
            return
        repo.mark_sent(session, message.id, self.name, now)

    # -- incoming ----------------------------------------------------------------

    def read_notifications(self, now: datetime, timeout: float = 0.0) -> list[Incoming]:
        """Handle +CMTI (new message) and +CDS (delivery report) received so far."""
        out: list[Incoming] = []
        for urc in self.modem.poll(timeout):
            if urc.name == "+CDS" and urc.pdu:
                self._delivery(urc.pdu, now)
            elif urc.name in ("+CMTI", "+CDSI"):
                out += self.sweep_inbox(now)
        return out

    def _delivery(self, pdu: str, now: datetime) -> None:
        try:
            report = decode_incoming(pdu)
        except PduError as exc:
            log.warning("unreadable status report: %s", exc)
            return
        if isinstance(report, StatusReport):
            self._delivery_report(report, now)

    def sweep_inbox(self, now: datetime) -> list[Incoming]:
        """Read every stored message, handle complete ones, delete what was handled."""
        stored = self.modem.list_messages()
        groups: dict[tuple[str, int], list[tuple[int, Deliver]]] = {}
        handled: list[Incoming] = []
        for item in stored:
            message = item.message
            if isinstance(message, StatusReport):
                self._delivery_report(message, now)
                self.modem.delete(item.index)
            elif isinstance(message, Deliver):
                key = (message.sender, message.concat.reference if message.concat else -item.index)
                groups.setdefault(key, []).append((item.index, message))
            else:
                log.warning(
                    "message %d in the modem is unreadable (%s); deleted", item.index, item.error
                )
                self.modem.delete(item.index)
        for parts in groups.values():
            first = parts[0][1]
            if first.concat and len(parts) < first.concat.total:
                continue  # wait for the other parts
            parts.sort(key=lambda p: p[1].concat.sequence if p[1].concat else 0)
            text = "".join(part.text for _, part in parts)
            handled.append(self.handle_incoming(first.sender, text, first.timestamp, now))
            # Deleted only once stored: a crash before this line reads it again, and the
            # dedupe key keeps it from being stored (or acknowledged) twice.
            for index, _ in parts:
                self.modem.delete(index)
        return handled

    def _delivery_report(self, report: StatusReport, now: datetime) -> None:
        if report.final:
            with self.sessions() as session:
                repo.record_delivery(
                    session, report.recipient, report.reference, report.delivered, now
                )

    def handle_incoming(self, sender: str, text: str, sent_at: datetime, now: datetime) -> Incoming:
        return handle_incoming(self.sessions, sender, text, sent_at, now)

    def run(self, stop: threading.Event, clock: Callable[[], datetime] | None = None) -> None:
        """Send and read until `stop` is set; modem errors are logged and retried."""
        now_of = clock or (lambda: datetime.now(UTC))
        self.sweep_inbox(now_of())
        while not stop.is_set():
            try:
                sent = self.step(now_of())
                self.read_notifications(now_of(), timeout=0.0 if sent else 1.0)
            except ModemError as exc:
                log.error("SMS worker: %s", exc)
                stop.wait(5.0)


def handle_incoming(
    sessions: sessionmaker[Session], sender: str, text: str, sent_at: datetime, now: datetime
) -> Incoming:
    """Store a reply with its contact; a STOP opts the number out and is acknowledged once."""
    stop = is_stop(text)
    dedupe = hashlib.sha256(f"{sender}\n{sent_at.isoformat()}\n{text}".encode()).hexdigest()
    with sessions() as session:
        contacts = repo.contacts_with_number(session, sender)
        row = SmsInbox(
            sender=sender,
            body=text,
            sent_at=sent_at,
            received_at=now,
            contact_id=contacts[0].id if contacts else None,
            is_stop=stop,
            dedupe_key=dedupe,
        )
        stored = repo.store_incoming(session, row)
        result = Incoming(sender, text, stored, stop)
        if stored and stop:
            repo.suppress(session, FollowUpChannel.SMS, sender, "sms-stop", now, text)
            for contact in contacts:
                # A repeated STOP adds nothing for a contact already opted out.
                if repo.latest_consent(session, contact.id, ConsentChannel.SMS) is False:
                    continue
                repo.record_consent(
                    session, contact.id, ConsentChannel.SMS, False, "sms-stop", now, text
                )
        session.commit()
        if stored and stop:
            # One confirmation per number, ever: the key is the number.
            _, result.acknowledged = enqueue_sms(
                session,
                to=sender,
                text=STOP_ACK_TEXT,
                key=f"sms-stop-ack:{sender}",
                now=now,
                kind="stop_ack",
                contact_id=contacts[0].id if contacts else None,
            )
    return result
