"""The dialer engine loop: telephony events in, a floor snapshot, paced originates out.

The same engine runs on the simulator (phonebank/dialer/sim.py) and, through an
adapter, on Asterisk: it knows only the `Telephony` protocol, a pacing `Policy`
and a clock value passed to each call. Which call to place comes from the
caller's `next_call(now)`: the campaign runner writes the attempt row first and
hands over its id, so the id on the channel is the database's.

Stations come and go at run time (a volunteer lifts the handset, or hangs it up):
a station first heard of as ready or paused joins the floor, one that logs out
leaves it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from phonebank.dialer.abandon import estimated_false_positives
from phonebank.dialer.floor import (
    CampaignSettings,
    FloorSnapshot,
    LineState,
    LineView,
    StationState,
    StationView,
)
from phonebank.dialer.pacing import Policy, capped
from phonebank.dialer.stats import CallOutcome, FloorStats
from phonebank.dialer.telephony import EventKind, Telephony, TelephonyEvent

_LINE_OUTCOMES = {
    EventKind.ANSWERED_MACHINE: CallOutcome.MACHINE,
    EventKind.BUSY: CallOutcome.BUSY,
    EventKind.NO_ANSWER: CallOutcome.NO_ANSWER,
    EventKind.INVALID: CallOutcome.INVALID,
}


@dataclass(frozen=True, slots=True)
class PlannedCall:
    """The next call to place: the attempt id that travels on the channel, the number."""

    attempt_id: str
    number: str


NextCall = Callable[[float], PlannedCall | None]


@dataclass
class FailureBreaker:
    """Stop placing for a while after a run of failed dials.

    A dead trunk fails every call at once; without a pause the pacer would see free
    lines and burn an attempt of every lead in the list within minutes.
    """

    threshold: int = 5
    first_pause: float = 5.0
    max_pause: float = 120.0
    failures: int = 0
    pause: float = 0.0
    hold_until: float = float("-inf")

    def failed(self, now: float) -> None:
        self.failures += 1
        if self.failures >= self.threshold:
            self.pause = min(self.max_pause, self.pause * 2 if self.pause else self.first_pause)
            self.hold_until = now + self.pause
            self.failures = 0

    def succeeded(self) -> None:
        self.failures = 0
        self.pause = 0.0

    def holding(self, now: float) -> bool:
        return now < self.hold_until


class DialerEngine:
    def __init__(
        self,
        *,
        settings: CampaignSettings,
        policy: Policy,
        telephony: Telephony,
        next_call: NextCall,
        stations: Iterable[str] = (),
        stats: FloorStats | None = None,
        now: float = 0.0,
        breaker: FailureBreaker | None = None,
    ) -> None:
        """The caller routes the telephony's events to `handle` (`set_listener`)."""
        self.settings = settings
        self.policy = policy
        self.telephony = telephony
        self.stats = stats or FloorStats()
        self.breaker = breaker or FailureBreaker()
        self._next_call = next_call
        self._stations = {name: StationView(StationState.READY, now) for name in stations}
        self._talk_start: dict[str, float] = {}
        self._lines: dict[str, tuple[LineView, float]] = {}  # attempt -> (view, placed at)
        self._bridged: dict[str, str | None] = {}  # attempt -> station
        self._machine_verdicts = 0
        self._human_verdicts = 0
        self.placing = True

    @property
    def stations(self) -> dict[str, StationView]:
        return dict(self._stations)

    @property
    def in_flight(self) -> set[str]:
        """Attempts ringing, waiting for a station or bridged."""
        return set(self._lines) | set(self._bridged)

    def carry_over(self, live_answers: int, abandoned: int) -> None:
        """Count the day's earlier answers (a restart mid-day): the pacer's feedback is daily."""
        self.stats.live_answers += live_answers
        self.stats.abandoned += abandoned

    def snapshot(self) -> FloorSnapshot:
        return FloorSnapshot(
            settings=self.settings,
            stations=tuple(self._stations.values()),
            lines=tuple(view for view, _ in self._lines.values()),
            bridged=len(self._bridged),
        )

    def tick(self, now: float) -> int:
        """Ask the policy and place that many calls (never past the lines cap)."""
        if not self.placing or self.breaker.holding(now):
            return 0
        snapshot = self.snapshot()
        calls = capped(snapshot, self.policy.decide(snapshot, self.stats, now))
        placed = 0
        for _ in range(calls):
            planned = self._next_call(now)
            if planned is None:
                break
            self._lines[planned.attempt_id] = (LineView(LineState.RINGING, now), now)
            self.stats.record_placed()
            self.telephony.originate(planned.attempt_id, planned.number, now)
            placed += 1
        return placed

    def track(self, attempt_id: str, now: float) -> None:
        """A call placed by the runner itself (a volunteer's click in preview): a line
        like the engine's own, so the floor's figures and a clean stop count it."""
        self._lines[attempt_id] = (LineView(LineState.RINGING, now), now)
        self.stats.record_placed()

    def handle(self, event: TelephonyEvent) -> None:
        if event.attempt_id is not None:
            self._line_event(event, event.attempt_id)
        if event.station is not None:
            self._station_event(event, event.station)

    def _line_event(self, event: TelephonyEvent, attempt: str) -> None:
        kind, at = event.kind, event.at
        if kind in _LINE_OUTCOMES:
            entry = self._lines.pop(attempt, None)
            if entry is not None:
                self.stats.record_line(_LINE_OUTCOMES[kind], at - entry[1])
                self.breaker.succeeded()
            if kind is EventKind.ANSWERED_MACHINE:
                self._machine_verdicts += 1
                self._refresh_false_positives()
        elif kind is EventKind.ANSWERED_HUMAN:
            entry = self._lines.get(attempt)
            if entry is not None:
                self.stats.record_line(CallOutcome.HUMAN, at - entry[1])
                self._lines[attempt] = (LineView(LineState.WAITING, at), entry[1])
                self.breaker.succeeded()
            self._human_verdicts += 1
            self._refresh_false_positives()
        elif kind is EventKind.BRIDGED:
            self._lines.pop(attempt, None)
            self._bridged[attempt] = event.station
            self.stats.record_live_answer(at, abandoned=False)
        elif kind is EventKind.ABANDONED:
            self._lines.pop(attempt, None)
            self.stats.record_live_answer(at, abandoned=True)
        elif kind is EventKind.HUNG_UP:
            self._bridged.pop(attempt, None)
        elif kind is EventKind.FAILED or kind is EventKind.LOST:
            # Not an outcome of the list (the pacer's shares must not learn it): the
            # line is simply free again.
            if self._lines.pop(attempt, None) is not None and kind is EventKind.FAILED:
                self.breaker.failed(at)
            station = self._bridged.pop(attempt, None)
            if station is not None and event.station is None:
                self._end_talk(station, at)

    def _station_event(self, event: TelephonyEvent, station: str) -> None:
        kind, at = event.kind, event.at
        if kind is EventKind.BRIDGED:
            self._stations[station] = StationView(StationState.TALKING, at)
            self._talk_start[station] = at
        elif kind is EventKind.HUNG_UP or kind is EventKind.LOST:
            if station in self._stations:
                self._end_talk(station, at)
        elif kind is EventKind.STATION_READY:
            previous = self._stations.get(station)
            if previous is not None and previous.state is StationState.WRAP_UP:
                self.stats.record_wrap(at - previous.since)
            self._stations[station] = StationView(StationState.READY, at)
        elif kind is EventKind.STATION_PAUSED:
            self._stations[station] = StationView(StationState.PAUSED, at)
        elif kind is EventKind.STATION_LOGGED_OUT:
            self._stations.pop(station, None)
            self._talk_start.pop(station, None)

    def _end_talk(self, station: str, at: float) -> None:
        start = self._talk_start.pop(station, None)
        if start is not None:
            self.stats.record_talk(at - start)
        if station in self._stations:
            self._stations[station] = StationView(StationState.WRAP_UP, at)

    def _refresh_false_positives(self) -> None:
        self.stats.false_positives = estimated_false_positives(
            human_verdicts=self._human_verdicts,
            machine_verdicts=self._machine_verdicts,
            accuracy=self.settings.amd_accuracy,
        )
