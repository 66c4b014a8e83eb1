"""The dialer engine loop: telephony events in, a floor snapshot, paced originates out.

The same engine runs on the simulator (phonebank/dialer/sim.py) and, through an
adapter, on Asterisk: it knows only the `Telephony` protocol, a pacing `Policy`
and a clock value passed to each call.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

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


class DialerEngine:
    def __init__(
        self,
        *,
        settings: CampaignSettings,
        policy: Policy,
        telephony: Telephony,
        stations: Iterable[str],
        next_number: Callable[[], str | None],
        stats: FloorStats | None = None,
        now: float = 0.0,
    ) -> None:
        self.settings = settings
        self.policy = policy
        self.telephony = telephony
        self.stats = stats or FloorStats()
        self._next_number = next_number
        self._stations = {name: StationView(StationState.READY, now) for name in stations}
        self._talk_start: dict[str, float] = {}
        self._lines: dict[str, tuple[LineView, float]] = {}  # attempt -> (view, placed at)
        self._bridged: set[str] = set()
        self._machine_verdicts = 0
        self._human_verdicts = 0
        self._counter = 0
        self.placing = True
        telephony.set_listener(self.handle)

    def snapshot(self) -> FloorSnapshot:
        return FloorSnapshot(
            settings=self.settings,
            stations=tuple(self._stations.values()),
            lines=tuple(view for view, _ in self._lines.values()),
            bridged=len(self._bridged),
        )

    def tick(self, now: float) -> int:
        """Ask the policy and place that many calls (never past the lines cap)."""
        if not self.placing:
            return 0
        snapshot = self.snapshot()
        calls = capped(snapshot, self.policy.decide(snapshot, self.stats, now))
        placed = 0
        for _ in range(calls):
            number = self._next_number()
            if number is None:
                break
            self._counter += 1
            attempt = f"a{self._counter}"
            self._lines[attempt] = (LineView(LineState.RINGING, now), now)
            self.stats.record_placed()
            self.telephony.originate(attempt, number, now)
            placed += 1
        return placed

    def handle(self, event: TelephonyEvent) -> None:
        kind, at, attempt = event.kind, event.at, event.attempt_id
        if kind in _LINE_OUTCOMES and attempt is not None:
            entry = self._lines.pop(attempt, None)
            if entry is not None:
                self.stats.record_line(_LINE_OUTCOMES[kind], at - entry[1])
            if kind is EventKind.ANSWERED_MACHINE:
                self._machine_verdicts += 1
                self._refresh_false_positives()
        elif kind is EventKind.ANSWERED_HUMAN and attempt is not None:
            entry = self._lines.get(attempt)
            if entry is not None:
                self.stats.record_line(CallOutcome.HUMAN, at - entry[1])
                self._lines[attempt] = (LineView(LineState.WAITING, at), entry[1])
            self._human_verdicts += 1
            self._refresh_false_positives()
        elif kind is EventKind.BRIDGED and attempt is not None:
            self._lines.pop(attempt, None)
            self._bridged.add(attempt)
            self.stats.record_live_answer(at, abandoned=False)
            if event.station is not None:
                self._stations[event.station] = StationView(StationState.TALKING, at)
                self._talk_start[event.station] = at
        elif kind is EventKind.ABANDONED and attempt is not None:
            self._lines.pop(attempt, None)
            self.stats.record_live_answer(at, abandoned=True)
        elif kind is EventKind.HUNG_UP:
            if attempt is not None:
                self._bridged.discard(attempt)
            if event.station is not None:
                start = self._talk_start.pop(event.station, None)
                if start is not None:
                    self.stats.record_talk(at - start)
                self._stations[event.station] = StationView(StationState.WRAP_UP, at)
        elif kind is EventKind.STATION_READY and event.station is not None:
            previous = self._stations.get(event.station)
            if previous is not None and previous.state is StationState.WRAP_UP:
                self.stats.record_wrap(at - previous.since)
            self._stations[event.station] = StationView(StationState.READY, at)
        elif kind is EventKind.STATION_PAUSED and event.station is not None:
            self._stations[event.station] = StationView(StationState.PAUSED, at)

    def _refresh_false_positives(self) -> None:
        self.stats.false_positives = estimated_false_positives(
            human_verdicts=self._human_verdicts,
            machine_verdicts=self._machine_verdicts,
            accuracy=self.settings.amd_accuracy,
        )
