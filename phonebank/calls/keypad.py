"""Outcomes keyed on the handset (`*` then a digit) at a station without a screen.

A volunteer with no screen records the call just ended with the digit of its
disposition (each disposition has a one-digit key; docs/telephony.md). The code
names the station; the adapter's event also names the station's last call. The
outcome is recorded once per call (its request id is derived from the call), so a
key pressed twice records nothing more. A station whose screen is open records
from the screen: its keys are ignored, so one call never gets two outcomes.
A disposition that needs more than a key (a callback needs its time) is refused.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from phonebank.calls.outcomes import OutcomeInput, RecordedOutcome, record_outcome
from phonebank.db.models import CallAttempt, Disposition, Station
from phonebank.volunteer.errors import VolunteerError

log = logging.getLogger(__name__)


def keyed_outcome(
    session: Session, station: str, key: str, attempt_id: str | None, now: datetime
) -> RecordedOutcome | None:
    """Record the keyed disposition for the station's last call; None when it does not apply."""
    if attempt_id is None or not attempt_id.isdigit():
        return None
    attempt = session.get(CallAttempt, int(attempt_id))
    if attempt is None or attempt.contact_id is None or attempt.station_id is None:
        return None  # not a call put through to a station
    number = session.scalar(select(Station.number).where(Station.id == attempt.station_id))
    if number != station:
        return None
    disposition = session.scalars(
        select(Disposition).where(
            Disposition.campaign_id == attempt.campaign_id,
            Disposition.shortcut_key == key,
            Disposition.active.is_(True),
        )
    ).one_or_none()
    if disposition is None:
        return None
    data = OutcomeInput(
        client_request_id=f"keypad-{attempt.id}",
        campaign_id=attempt.campaign_id,
        contact_id=attempt.contact_id,
        user_id=attempt.user_id,
        disposition_code=disposition.code,
        attempt_id=attempt.id,
        phone_id=attempt.phone_id,
        notes="",
    )
    return record_outcome(session, data, now)


class KeypadOutcomes:
    """The dialer's `on_station_key`: records off the event loop, never raises."""

    def __init__(
        self,
        writers: sessionmaker[Session],
        clock: Callable[[], float],
        has_screen: Callable[[str], bool],
    ) -> None:
        self._writers = writers
        self._clock = clock
        self._has_screen = has_screen
        self._pending: set[asyncio.Future[None]] = set()

    def __call__(self, station: str, key: str, attempt_id: str | None, at: float) -> None:
        if self._has_screen(station):
            return
        future = asyncio.get_running_loop().run_in_executor(
            None, self._record, station, key, attempt_id
        )
        self._pending.add(future)
        future.add_done_callback(self._pending.discard)

    def _record(self, station: str, key: str, attempt_id: str | None) -> None:
        now = datetime.fromtimestamp(self._clock(), UTC)
        try:
            with self._writers.begin() as session:
                recorded = keyed_outcome(session, station, key, attempt_id, now)
        except VolunteerError as exc:
            log.warning(
                "station %s: key %s not recorded for call %s: %s", station, key, attempt_id, exc
            )
            return
        except Exception:
            log.exception("station %s: key %s for call %s failed", station, key, attempt_id)
            return
        if recorded is not None and recorded.created:
            log.info("station %s: call %s recorded from the keypad (%s)", station, attempt_id, key)

    async def drain(self) -> None:
        """Wait for outcomes being written (at shutdown)."""
        if self._pending:
            await asyncio.gather(*self._pending, return_exceptions=True)
