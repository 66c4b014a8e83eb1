"""The service's follow-up workers: SMS, e-mail and the scheduler, started and stopped together.

`followup_workers(config, engine, clock)` is what the composition root enters:

- the SMS worker, when `[sms] device` is set: it opens the modem in a thread,
  sends the queue and reads replies; a modem that is unplugged or refuses is
  logged and opened again every `MODEM_RETRY_S` seconds, the service stays up;
- the e-mail worker, when `[email] from_address` is set;
- the scheduler (segment sends when due, triggers on outcomes), always.

Leaving the block stops them all and waits for them: nothing keeps running.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from phonebank.config import Config
from phonebank.db.engine import writer_session_factory
from phonebank.followup.compose import Composer
from phonebank.followup.email_service import EmailWorker, Unsubscribing
from phonebank.followup.errors import ModemError
from phonebank.followup.mailer import Mailer, SmtpSettings, Templates
from phonebank.followup.modem import GsmModem
from phonebank.followup.policy import RateLimit
from phonebank.followup.scheduler import Scheduler
from phonebank.followup.service import SmsWorker
from phonebank.web.secret import load_or_create_secret

log = logging.getLogger(__name__)

MODEM_RETRY_S = 30.0
DB_RETRY_S = 5.0
EMAIL_IDLE_S = 1.0


def unsubscribing_for(config: Config) -> Unsubscribing:
    """Tokens are signed with the web service's key, so that its route can check them."""
    secret = load_or_create_secret(config.web.secret_key, config.paths.data_dir / "web-secret")
    return Unsubscribing(secret, config.email.unsubscribe_base_url)


def composer_for(config: Config) -> Composer:
    folder = config.email.templates_dir
    return Composer(Templates(Path(folder) if folder else None), unsubscribing_for(config))


def mailer_for(config: Config) -> Mailer:
    e = config.email
    return Mailer(SmtpSettings(e.smtp_host, e.smtp_port, e.smtp_user, e.smtp_password, e.starttls))


def _as_datetime(clock: Callable[[], float]) -> Callable[[], datetime]:
    return lambda: datetime.fromtimestamp(clock(), UTC)


@dataclass
class FollowUpWorkers:
    """What is running; the service may show it (and tests look inside)."""

    scheduler: Scheduler
    sms: SmsWorker | None = None
    email: EmailWorker | None = None
    sms_device: str = ""
    modem_errors: list[str] = field(default_factory=list)


def _sms_thread(
    config: Config,
    sessions: sessionmaker[Session],
    now: Callable[[], datetime],
    stop: threading.Event,
    running: FollowUpWorkers,
) -> None:
    """Open the modem and run the SMS worker until `stop`; reopen after a modem failure."""
    s = config.sms
    while not stop.is_set():
        try:
            with GsmModem.open(s.device, s.baudrate, send_timeout=s.send_timeout) as modem:
                modem.initialise(s.pin)
                worker = SmsWorker(
                    modem,
                    sessions,
                    name=f"sms-{running.scheduler.name}",
                    rate=RateLimit(s.rate_per_minute),
                    validity_minutes=s.validity_hours * 60,
                    status_reports=s.delivery_reports,
                )
                running.sms = worker
                worker.run(stop, now)
        except (ModemError, OSError) as exc:
            running.modem_errors.append(str(exc))
            log.error("SMS worker stopped: %s; trying again in %.0f s", exc, MODEM_RETRY_S)
            stop.wait(MODEM_RETRY_S)
        except Exception:
            # A database error (locked, restarted) must not end SMS for the evening.
            log.exception("SMS worker failed; starting again in %.0f s", DB_RETRY_S)
            stop.wait(DB_RETRY_S)


async def _email_loop(
    worker: EmailWorker, now: Callable[[], datetime], stop: asyncio.Event
) -> None:
    while not stop.is_set():
        try:
            handled = await worker.step(now())
        except Exception:
            # A database hiccup must not end e-mail for the rest of the evening.
            log.exception("e-mail worker step failed")
            handled = None
        if handled is None:
            wait = max(EMAIL_IDLE_S, min(worker.rate.wait(now()), 30.0))
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), wait)


@contextlib.asynccontextmanager
async def followup_workers(
    config: Config,
    engine: Engine,
    clock: Callable[[], float],
    *,
    scheduler_interval: float = 30.0,
) -> AsyncIterator[FollowUpWorkers]:
    """Run the follow-up workers the config asks for while the block runs."""
    # Every worker reads then writes beside the others: on SQLite they queue for the lock.
    sessions = writer_session_factory(engine)
    now = _as_datetime(clock)
    composer = composer_for(config)
    running = FollowUpWorkers(Scheduler(sessions, composer, now, scheduler_interval))
    stop = asyncio.Event()
    stop_thread = threading.Event()
    tasks: list[asyncio.Task[None]] = [
        asyncio.create_task(running.scheduler.run(stop), name="followup-scheduler")
    ]
    if config.sms.device:
        running.sms_device = config.sms.device
        tasks.append(
            asyncio.create_task(
                asyncio.to_thread(_sms_thread, config, sessions, now, stop_thread, running),
                name="followup-sms",
            )
        )
    if config.email.from_address:
        running.email = EmailWorker(
            mailer_for(config),
            sessions,
            config.email.from_address,
            composer.unsubscribing,
            name=f"email-{running.scheduler.name}",
            rate=RateLimit(config.email.rate_per_minute),
        )
        tasks.append(
            asyncio.create_task(_email_loop(running.email, now, stop), name="followup-email")
        )
    log.info(
        "follow-up: SMS %s, e-mail %s, scheduler every %.0f s",
        config.sms.device or "off (no [sms] device)",
        config.email.from_address or "off (no [email] from_address)",
        scheduler_interval,
    )
    try:
        yield running
    finally:
        stop.set()
        stop_thread.set()
        results = await asyncio.gather(*tasks, return_exceptions=True)
        for task, result in zip(tasks, results, strict=True):
            if isinstance(result, BaseException) and not isinstance(result, asyncio.CancelledError):
                log.error("follow-up task %s ended with %r", task.get_name(), result)
