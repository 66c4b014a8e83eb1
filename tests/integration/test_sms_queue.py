"""The SMS queue on real PostgreSQL, sent through the driver to the emulator on a pty."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from phonebank.db import make_engine, session_factory, upgrade
from phonebank.db.enums import ConsentChannel, FollowUpChannel
from phonebank.db.models import Campaign, Consent, Contact, PhoneNumber
from phonebank.db.models.followup import FollowUpMessage, MessageState, SmsInbox
from phonebank.devtools.modem_emulator import ModemEmulator
from phonebank.followup import repo
from phonebank.followup.modem import GsmModem
from phonebank.followup.policy import Backoff, RateLimit
from phonebank.followup.service import STOP_ACK_TEXT, SmsWorker, enqueue_sms

pytestmark = pytest.mark.postgres
T0 = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
VOTER = "+33698765432"


@pytest.fixture
def sessions(fresh_database_url: str) -> Iterator[sessionmaker[Session]]:
    upgrade(fresh_database_url)
    engine = make_engine(fresh_database_url)
    try:
        yield session_factory(engine)
    finally:
        engine.dispose()


@pytest.fixture
def emulator() -> Iterator[ModemEmulator]:
    emu = ModemEmulator()
    try:
        yield emu
    finally:
        emu.close()


@pytest.fixture
def modem(emulator: ModemEmulator) -> Iterator[GsmModem]:
    with GsmModem.open(emulator.device, send_timeout=1.0) as opened:
        opened.initialise()
        yield opened


def _worker(modem: GsmModem, sessions: sessionmaker[Session], **kw: object) -> SmsWorker:
    return SmsWorker(modem, sessions, **kw)  # type: ignore[arg-type]


def _state(sessions: sessionmaker[Session], message_id: int) -> FollowUpMessage:
    with sessions() as session:
        message = session.get(FollowUpMessage, message_id)
        assert message is not None
        return message


def _enqueue(sessions: sessionmaker[Session], text: str, key: str, to: str = VOTER) -> int:
    with sessions() as session:
        message, _ = enqueue_sms(session, to=to, text=text, key=key, now=T0)
        return message.id


def test_queue_sends_once_per_key_and_records_references(
    sessions: sessionmaker[Session], emulator: ModemEmulator, modem: GsmModem
) -> None:
    long_text = "Réunion publique jeudi 20h30 salle des fêtes, venez nombreux ! " * 3
    first = _enqueue(sessions, long_text, "rally-1")
    assert _enqueue(sessions, long_text, "rally-1") == first  # same key: same message
    worker = _worker(modem, sessions, rate=RateLimit(0))
    assert worker.step(T0) is not None
    assert worker.step(T0) is None
    message = _state(sessions, first)
    assert (message.state, message.parts, message.parts_sent) == (MessageState.SENT, 3, 3)
    assert message.references == [seen.reference for seen in emulator.submits]
    assert emulator.errors == []
    assert emulator.messages == [(VOTER, long_text)]
    # Delivery reports (+CDS) for each part; the last part's marks the message delivered.
    for _ in range(10):
        worker.read_notifications(T0, timeout=0.2)
        if _state(sessions, first).state is MessageState.DELIVERED:
            break
    assert _state(sessions, first).state is MessageState.DELIVERED


def test_retry_with_backoff_then_give_up(
    sessions: sessionmaker[Session], emulator: ModemEmulator, modem: GsmModem
) -> None:
    message_id = _enqueue(sessions, "Rappel: vote dimanche", "r-1")
    backoff = Backoff(base=timedelta(seconds=30), max_attempts=2)
    worker = _worker(modem, sessions, rate=RateLimit(0), backoff=backoff)
    emulator.fail_sends, emulator.fail_code = 1, 331
    worker.step(T0)
    message = _state(sessions, message_id)
    assert (message.state, message.attempts) == (MessageState.QUEUED, 1)
    assert message.next_attempt_at == T0 + timedelta(seconds=30)
    assert "no network service" in message.last_error
    assert worker.step(T0 + timedelta(seconds=29)) is None
    emulator.fail_sends = 1
    worker.step(T0 + timedelta(seconds=31))
    assert _state(sessions, message_id).state is MessageState.FAILED
    assert emulator.messages == []


def test_permanent_error_fails_at_once(
    sessions: sessionmaker[Session], emulator: ModemEmulator, modem: GsmModem
) -> None:
    message_id = _enqueue(sessions, "x", "p-1")
    emulator.fail_sends, emulator.fail_code = 1, 304
    _worker(modem, sessions).step(T0)
    assert _state(sessions, message_id).state is MessageState.FAILED


def test_rate_limit_per_minute(
    sessions: sessionmaker[Session], emulator: ModemEmulator, modem: GsmModem
) -> None:
    ids = [_enqueue(sessions, f"message {n}", f"k{n}") for n in range(3)]
    worker = _worker(modem, sessions, rate=RateLimit(2))
    for _ in range(3):
        worker.step(T0)
    assert [_state(sessions, i).state for i in ids] == [
        MessageState.SENT,
        MessageState.SENT,
        MessageState.QUEUED,
    ]
    worker.step(T0 + timedelta(seconds=61))
    assert _state(sessions, ids[2]).state is MessageState.SENT
    assert len(emulator.messages) == 3


def test_crash_between_claim_and_send_is_never_resent_blindly(
    sessions: sessionmaker[Session], emulator: ModemEmulator, modem: GsmModem
) -> None:
    message_id = _enqueue(sessions, "Meeting ce soir", "c-1")
    lease = timedelta(minutes=5)
    with sessions() as session:  # worker A claims, then dies before AT+CMGS
        claimed = repo.claim(session, FollowUpChannel.SMS, "worker-a", T0, lease)
        assert claimed is not None and claimed.id == message_id
    worker_b = _worker(modem, sessions, name="worker-b", rate=RateLimit(0))
    assert worker_b.step(T0 + timedelta(minutes=1)) is None  # A's lease still holds
    assert worker_b.step(T0 + lease + timedelta(seconds=1)) is None
    message = _state(sessions, message_id)
    assert message.state is MessageState.UNCERTAIN
    assert "may or may not have gone out" in message.last_error
    assert emulator.submits == []
    # A person checks the phone log and decides it did not go: requeued, sent once.
    with sessions() as session:
        assert repo.requeue(session, message_id, T0 + lease + timedelta(seconds=2))
    worker_b.step(T0 + lease + timedelta(seconds=3))
    assert _state(sessions, message_id).state is MessageState.SENT
    assert emulator.messages == [(VOTER, "Meeting ce soir")]


def test_lost_answer_after_the_pdu_is_uncertain_not_resent(
    sessions: sessionmaker[Session], emulator: ModemEmulator, modem: GsmModem
) -> None:
    message_id = _enqueue(sessions, "Rendez-vous 20h30", "u-1")
    emulator.swallow_sends = 1
    worker = _worker(modem, sessions, rate=RateLimit(0))
    worker.step(T0)
    assert _state(sessions, message_id).state is MessageState.UNCERTAIN
    worker.step(T0 + timedelta(hours=1))
    assert emulator.messages == [(VOTER, "Rendez-vous 20h30")]  # went once, never twice


def test_failed_part_resumes_without_resending_earlier_parts(
    sessions: sessionmaker[Session], emulator: ModemEmulator, modem: GsmModem
) -> None:
    text = "Grand meeting de fin de campagne! " * 10  # 340 septets: 3 parts
    message_id = _enqueue(sessions, text, "m-1")
    emulator.fail_on_part, emulator.fail_code = 2, 332
    worker = _worker(modem, sessions, rate=RateLimit(0))
    worker.step(T0)
    message = _state(sessions, message_id)
    assert (message.state, message.parts_sent) == (MessageState.QUEUED, 1)
    worker.step(T0 + timedelta(minutes=2))
    assert _state(sessions, message_id).state is MessageState.SENT
    assert [s.concat for s in emulator.submits if s.concat] == [
        (message.concat_ref, 3, 1),
        (message.concat_ref, 3, 2),
        (message.concat_ref, 3, 3),
    ]
    assert emulator.messages == [(VOTER, text)]
    assert emulator.errors == []


def test_incoming_stop_opts_out_and_is_acknowledged_once(
    sessions: sessionmaker[Session], emulator: ModemEmulator, modem: GsmModem
) -> None:
    with sessions() as session:
        campaign = Campaign(name="Municipales")
        contact = Contact(campaign=campaign, first_name="Élodie", last_name="Martin")
        contact.phones.append(PhoneNumber(e164=VOTER))
        session.add(contact)
        session.commit()
        contact_id = contact.id
    worker = _worker(modem, sessions, rate=RateLimit(0))
    emulator.inject_incoming(VOTER, "Oui je serai là, merci")
    emulator.inject_incoming(VOTER, " Arrêt ! ")
    handled = []
    for _ in range(10):
        handled += worker.read_notifications(T0, timeout=0.3)
        if len(handled) >= 2:
            break
    assert [(h.text, h.is_stop, h.acknowledged) for h in handled] == [
        ("Oui je serai là, merci", False, False),
        (" Arrêt ! ", True, True),
    ]
    assert emulator.storage == {}  # read messages are deleted
    worker.step(T0)  # the confirmation goes out
    assert emulator.messages == [(VOTER, STOP_ACK_TEXT)]
    emulator.inject_incoming(VOTER, "STOP")  # a second STOP: stored, not acknowledged again
    again = []
    for _ in range(10):
        again += worker.read_notifications(T0 + timedelta(minutes=1), timeout=0.3)
        if again:
            break
    assert [(h.is_stop, h.acknowledged) for h in again] == [(True, False)]
    worker.step(T0 + timedelta(minutes=2))
    assert len(emulator.messages) == 1
    with sessions() as session:
        consents = session.scalars(select(Consent).where(Consent.contact_id == contact_id)).all()
        assert [(c.channel, c.granted, c.source) for c in consents] == [
            (
                ConsentChannel.SMS,
                False,
                "sms-stop",
            )
        ]
        inbox = session.scalars(select(SmsInbox).order_by(SmsInbox.id)).all()
        assert [(i.body, i.contact_id, i.is_stop) for i in inbox] == [
            ("Oui je serai là, merci", contact_id, False),
            (" Arrêt ! ", contact_id, True),
            ("STOP", contact_id, True),
        ]
        with pytest.raises(repo.OptedOut):
            enqueue_sms(session, to=VOTER, text="Meeting", key="after-stop", now=T0)


def test_message_queued_before_a_stop_is_not_sent(
    sessions: sessionmaker[Session], emulator: ModemEmulator, modem: GsmModem
) -> None:
    message_id = _enqueue(sessions, "Rappel", "before-stop")
    worker = _worker(modem, sessions, rate=RateLimit(0))
    emulator.inject_incoming(VOTER, "stop")
    for _ in range(10):
        if worker.read_notifications(T0, timeout=0.3):
            break
    worker.step(T0)
    worker.step(T0)
    assert _state(sessions, message_id).state is MessageState.FAILED
    assert emulator.messages == [(VOTER, STOP_ACK_TEXT)]
