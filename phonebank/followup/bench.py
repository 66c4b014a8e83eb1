"""Follow-up throughput: SMS through the modem emulator, e-mail through a local aiosmtpd.

Each channel runs twice on a fresh SQLite queue: with the configured rate limit,
and with none (the ceiling of the worker, the queue and the link, as baseline).
The throttled run sends three minutes' worth; the limiter's waits are skipped
on a simulated clock (the time of each send is real), so the figure says whether
the worker keeps up with its limit and never passes it, without waiting minutes.
"""

from __future__ import annotations

import asyncio
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session, sessionmaker

from phonebank.db.engine import make_engine, writer_session_factory
from phonebank.db.enums import FollowUpChannel
from phonebank.db.migrate import upgrade
from phonebank.db.models.followup import FollowUpMessage, MessageState
from phonebank.devtools.modem_emulator import ModemEmulator
from phonebank.followup import repo
from phonebank.followup.email_service import EmailWorker, Unsubscribing
from phonebank.followup.mailer import Mailer, SmtpSettings
from phonebank.followup.modem import GsmModem
from phonebank.followup.policy import RateLimit
from phonebank.followup.service import SmsWorker, enqueue_sms

WINDOW = timedelta(minutes=1)


@dataclass
class SkipClock:
    """Real time, plus the rate limiter's waits skipped."""

    start: datetime = field(default_factory=lambda: datetime.now(UTC))
    skipped: timedelta = timedelta(0)
    _t0: float = field(default_factory=time.perf_counter)

    def now(self) -> datetime:
        return self.start + timedelta(seconds=time.perf_counter() - self._t0) + self.skipped

    def skip(self, seconds: float) -> None:
        self.skipped += timedelta(seconds=seconds)


@dataclass
class Run:
    messages: int
    sent_at: list[datetime]
    seconds: float  # on the run's clock (real time plus skipped waits)
    real_seconds: float

    def to_json(self) -> dict[str, Any]:
        per_minute = 60.0 * self.messages / self.seconds if self.seconds > 0 else 0.0
        return {
            "messages": self.messages,
            "per_minute": round(per_minute, 1),
            "max_in_any_minute": max_in_window(self.sent_at),
            "seconds": round(self.seconds, 3),
            "real_seconds": round(self.real_seconds, 3),
        }


def max_in_window(times: list[datetime]) -> int:
    """The most sends in any sliding minute."""
    best, start = 0, 0
    ordered = sorted(times)
    for end, at in enumerate(ordered):
        while at - ordered[start] >= WINDOW:
            start += 1
        best = max(best, end - start + 1)
    return best


def sustained_count(limit: int, quick: bool) -> int:
    # Three windows' worth shows the limit at work (the first minute's burst is one window).
    return max(3, (2 if quick else 3) * limit + 1)


@contextmanager
def _queue_db() -> Iterator[tuple[Engine, sessionmaker[Session]]]:
    with tempfile.TemporaryDirectory(prefix="phonebank-bench-followup-") as folder:
        url = f"sqlite:///{Path(folder) / 'queue.db'}"
        upgrade(url)
        engine = make_engine(url)
        try:
            yield engine, writer_session_factory(engine)
        finally:
            engine.dispose()


def _sent_times(sessions: sessionmaker[Session], channel: FollowUpChannel) -> list[datetime]:
    with sessions() as session:
        return list(
            session.scalars(
                select(FollowUpMessage.sent_at).where(
                    FollowUpMessage.channel == channel,
                    FollowUpMessage.state.in_([MessageState.SENT, MessageState.DELIVERED]),
                )
            )
        )


def _drive(
    step: Callable[[datetime], bool], pending: Callable[[], bool], wait: Callable[[datetime], float]
) -> tuple[SkipClock, float]:
    clock = SkipClock()
    started = time.perf_counter()
    deadline = started + 600.0  # a broken link must not hang the benchmark
    while pending() and time.perf_counter() < deadline:
        now = clock.now()
        if not step(now):
            clock.skip(max(wait(now), 0.001))
    return clock, time.perf_counter() - started


def sms_run(count: int, limit: int) -> Run:
    emulator = ModemEmulator()
    try:
        with _queue_db() as (_engine, sessions), GsmModem.open(emulator.device) as modem:
            modem.initialise()
            worker = SmsWorker(modem, sessions, rate=RateLimit(limit), status_reports=False)
            start = datetime.now(UTC)
            with sessions() as session:
                for n in range(count):
                    to = f"+336{n:08d}"
                    enqueue_sms(session, to=to, text=f"Rappel {n}", key=f"b{n}", now=start)
            clock, real = _drive(
                lambda now: worker.step(now) is not None,
                lambda: len(emulator.messages) < count,
                worker.rate.wait,
            )
            times = _sent_times(sessions, FollowUpChannel.SMS)
            if emulator.errors:
                raise RuntimeError(f"the modem emulator refused PDUs: {emulator.errors[:3]}")
    finally:
        emulator.close()
    span = (clock.now() - min(times)).total_seconds() if times else 0.0
    return Run(len(times), times, span, real)


class _Sink:
    def __init__(self) -> None:
        self.count = 0

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.count += 1
        return "250 OK"


def email_run(count: int, limit: int, port: int) -> Run:
    sink = _Sink()
    controller = Controller(sink, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        with _queue_db() as (_engine, sessions):
            unsubscribing = Unsubscribing(b"bench" * 8, "http://localhost:8080/unsubscribe")
            worker = EmailWorker(
                Mailer(SmtpSettings("127.0.0.1", port)),
                sessions,
                "Bench <bench@example.org>",
                unsubscribing,
                rate=RateLimit(limit),
            )
            start = datetime.now(UTC)
            with sessions() as session:
                for n in range(count):
                    repo.enqueue(
                        session,
                        channel=FollowUpChannel.EMAIL,
                        recipient=f"voter{n}@example.org",
                        subject="Rappel",
                        body=f"Bonjour {n}",
                        key=f"b{n}",
                        now=start,
                    )
            loop = asyncio.new_event_loop()
            try:
                clock, real = _drive(
                    lambda now: loop.run_until_complete(worker.step(now)) is not None,
                    lambda: sink.count < count,
                    worker.rate.wait,
                )
            finally:
                loop.close()
            times = _sent_times(sessions, FollowUpChannel.EMAIL)
    finally:
        controller.stop()
    span = (clock.now() - min(times)).total_seconds() if times else 0.0
    return Run(len(times), times, span, real)


def run(*, quick: bool, sms_limit: int, email_limit: int, smtp_port: int) -> dict[str, Any]:
    """Both channels, throttled at their configured limits and unthrottled."""
    ceiling = 20 if quick else 200
    report: dict[str, Any] = {"quick": quick, "queue": "sqlite"}
    runners: dict[str, tuple[int, Callable[[int, int], Run]]] = {
        "sms": (sms_limit, sms_run),
        "email": (email_limit, lambda count, limit: email_run(count, limit, smtp_port)),
    }
    for name, (limit, runner) in runners.items():
        entry: dict[str, Any] = {"configured_per_minute": limit}
        # No limit configured: the ceiling is the figure.
        entry["throttled"] = (
            runner(sustained_count(limit, quick), limit).to_json() if limit > 0 else None
        )
        entry["unthrottled"] = runner(ceiling * (2 if name == "email" else 1), 0).to_json()
        report[name] = entry
    return report
