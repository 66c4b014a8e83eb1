"""E-mail follow-up against a real SMTP server (aiosmtpd on loopback) and real PostgreSQL."""

from __future__ import annotations

import email
import email.policy
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from phonebank.db import make_engine, session_factory, upgrade
from phonebank.db.enums import ConsentChannel, FollowUpChannel
from phonebank.db.models import Campaign, Consent, Contact
from phonebank.db.models.followup import FollowUpMessage, MessageState
from phonebank.followup import repo
from phonebank.followup.email_service import (
    EmailWorker,
    Unsubscribing,
    apply_unsubscribe,
    enqueue_email,
)
from phonebank.followup.mailer import Mailer, SmtpSettings, Templates
from phonebank.followup.policy import Backoff, RateLimit
from phonebank.followup.tokens import verify_token
from tests.fixtures.ports import free_port

pytestmark = pytest.mark.postgres
T0 = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
SECRET = b"s" * 32
UNSUB = Unsubscribing(SECRET, "https://phonebank.example.org/unsubscribe")


class Handler:
    """Keeps what it receives; refuses unknown@ for good and busy@ for now."""

    def __init__(self) -> None:
        self.received: list[EmailMessage] = []

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, options: Any
    ) -> str:
        if address.startswith("unknown@"):
            return "550 5.1.1 No such user"
        if address.startswith("busy@"):
            return "451 4.3.0 Try again later"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        assert isinstance(message, EmailMessage)
        self.received.append(message)
        return "250 Message accepted"


@pytest.fixture
def smtp() -> Iterator[tuple[Handler, int]]:
    handler = Handler()
    port = free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield handler, port
    finally:
        controller.stop()


@pytest.fixture
def sessions(fresh_database_url: str) -> Iterator[sessionmaker[Session]]:
    upgrade(fresh_database_url)
    engine = make_engine(fresh_database_url)
    try:
        yield session_factory(engine)
    finally:
        engine.dispose()


def _queue(sessions: sessionmaker[Session], to: str, key: str, **extra: Any) -> int:
    context = {
        "first_name": "Élodie",
        "campaign": "Ensemble",
        "election_date": "",
        "language": "fr",
    }
    with sessions() as session:
        message, _ = enqueue_email(
            session,
            to=to,
            template="thanks",
            context=context,
            key=key,
            now=T0,
            templates=Templates(),
            unsubscribing=UNSUB,
            **extra,
        )
        return message.id


def _worker(sessions: sessionmaker[Session], port: int, rate: int = 0, **kw: Any) -> EmailWorker:
    mailer = Mailer(SmtpSettings("127.0.0.1", port, timeout=10))
    return EmailWorker(
        mailer,
        sessions,
        "Campagne <campagne@example.org>",
        UNSUB,
        rate=RateLimit(rate),
        **kw,
    )


def _message(sessions: sessionmaker[Session], message_id: int) -> FollowUpMessage:
    with sessions() as session:
        found = session.get(FollowUpMessage, message_id)
        assert found is not None
        return found


async def test_sends_once_with_unsubscribe_headers(
    sessions: sessionmaker[Session], smtp: tuple[Handler, int]
) -> None:
    handler, port = smtp
    first = _queue(sessions, "elodie@example.org", "thanks-1")
    assert _queue(sessions, "elodie@example.org", "thanks-1") == first
    worker = _worker(sessions, port)
    assert await worker.step(T0) is not None
    assert await worker.step(T0) is None
    (received,) = handler.received
    assert received["To"] == "elodie@example.org"
    assert received["Subject"] == "Merci pour votre soutien, Élodie"
    assert received["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    link = received["List-Unsubscribe"].strip("<>")
    assert link.startswith("https://phonebank.example.org/unsubscribe/")
    assert verify_token(SECRET, link.rsplit("/", 1)[1]).recipient == "elodie@example.org"
    text = received.get_body(("plain",))
    assert text is not None and link in text.get_content()
    message = _message(sessions, first)
    assert message.state is MessageState.SENT
    assert message.provider_id == received["Message-ID"]


async def test_permanent_refusal_is_a_bounce(
    sessions: sessionmaker[Session], smtp: tuple[Handler, int]
) -> None:
    _, port = smtp
    message_id = _queue(sessions, "unknown@example.org", "b-1")
    await _worker(sessions, port).step(T0)
    message = _message(sessions, message_id)
    assert message.state is MessageState.FAILED
    assert "550" in message.last_error
    with sessions() as session:
        assert repo.is_suppressed(session, FollowUpChannel.EMAIL, "unknown@example.org")
        with pytest.raises(repo.OptedOut):
            enqueue_email(
                session,
                to="unknown@example.org",
                template="thanks",
                context={},
                key="b-2",
                now=T0,
                templates=Templates(),
                unsubscribing=UNSUB,
            )


async def test_temporary_refusal_retries_with_backoff(
    sessions: sessionmaker[Session], smtp: tuple[Handler, int]
) -> None:
    _, port = smtp
    message_id = _queue(sessions, "busy@example.org", "t-1")
    worker = _worker(sessions, port, backoff=Backoff(base=timedelta(minutes=1)))
    await worker.step(T0)
    message = _message(sessions, message_id)
    assert (message.state, message.next_attempt_at) == (
        MessageState.QUEUED,
        T0 + timedelta(minutes=1),
    )


async def test_rate_limit(sessions: sessionmaker[Session], smtp: tuple[Handler, int]) -> None:
    handler, port = smtp
    for n in range(3):
        _queue(sessions, f"v{n}@example.org", f"rl-{n}")
    worker = _worker(sessions, port, rate=2)
    for _ in range(3):
        await worker.step(T0)
    assert len(handler.received) == 2
    await worker.step(T0 + timedelta(seconds=60))
    assert len(handler.received) == 3


async def test_unsubscribe_link_records_consent(
    sessions: sessionmaker[Session], smtp: tuple[Handler, int]
) -> None:
    handler, port = smtp
    with sessions() as session:
        campaign = Campaign(name="Régionales")
        contact = Contact(campaign=campaign, first_name="Élodie", email="Elodie@example.org")
        session.add(contact)
        session.commit()
        campaign_id, contact_id = campaign.id, contact.id
    _queue(sessions, "elodie@example.org", "u-1", campaign_id=campaign_id, contact_id=contact_id)
    await _worker(sessions, port).step(T0)
    token = handler.received[0]["List-Unsubscribe"].strip("<>").rsplit("/", 1)[1]
    with sessions() as session:
        assert apply_unsubscribe(session, SECRET, token, T0) == "elodie@example.org"
        assert apply_unsubscribe(session, SECRET, token, T0) == "elodie@example.org"
        consents = session.scalars(select(Consent).where(Consent.contact_id == contact_id)).all()
        assert {(c.channel, c.granted, c.source) for c in consents} == {
            (ConsentChannel.EMAIL, False, "email-unsubscribe")
        }
        assert repo.is_suppressed(session, FollowUpChannel.EMAIL, "elodie@example.org")


def test_cli_email_send(
    tmp_path: Any,
    monkeypatch: pytest.MonkeyPatch,
    smtp: tuple[Handler, int],
    capsys: pytest.CaptureFixture[str],
) -> None:
    from phonebank.cli.main import main

    handler, port = smtp
    url = f"sqlite:///{tmp_path / 'pb.db'}"
    upgrade(url)
    for name, value in {
        "PHONEBANK_DATABASE_URL": url,
        "PHONEBANK_EMAIL_SMTP_PORT": str(port),
        "PHONEBANK_EMAIL_FROM_ADDRESS": "Campagne <c@example.org>",
        "PHONEBANK_WEB_SECRET_KEY": "x" * 40,
        "XDG_DATA_HOME": str(tmp_path),
    }.items():
        monkeypatch.setenv(name, value)
    code = main(
        [
            "email",
            "send",
            "--to",
            "a@example.org",
            "--template",
            "thanks",
            "--set",
            "first_name=Léa",
        ]
    )
    assert code == 0, capsys.readouterr()
    assert "to a@example.org: sent" in capsys.readouterr().out
    assert handler.received[0]["Subject"] == "Merci pour votre soutien, Léa"
