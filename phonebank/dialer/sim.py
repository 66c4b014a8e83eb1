"""A discrete-event call floor on a virtual clock: hours of dialing in a second.

`SimulatedFloor` implements the `Telephony` protocol: it draws each line's fate
from the scenario (outcome shares, answer times, answering-machine detection with
its accuracy), keeps the volunteers (talk and wrap-up times from the scenario),
connects a human to the volunteer ready longest, or abandons the call when none
is free within the connect limit. `simulate_day` runs the real `DialerEngine`
with a pacing policy on it and measures the day.

A call placed for a station (preview: `originate(..., station=)`) holds that
station from the dial on, skips answering-machine detection and is put through
to that station alone; without it (the volunteer left) it is abandoned.
"""

from __future__ import annotations

import heapq
import itertools
import random
from collections import deque
from dataclasses import dataclass
from typing import Any

from phonebank.db.enums import DialMode
from phonebank.dialer.engine import DialerEngine, PlannedCall
from phonebank.dialer.floor import CampaignSettings
from phonebank.dialer.pacing import Policy
from phonebank.dialer.scenario import Scenario
from phonebank.dialer.telephony import EventKind, Listener, TelephonyEvent

# A machine that AMD took for a human: the volunteer hears a greeting and hangs up.
MACHINE_TALK_SECONDS = 5.0
MACHINE_WRAP_SECONDS = 3.0

_TICK, _RESOLVE, _DEADLINE, _TALK_END, _WRAP_END = range(5)


@dataclass(frozen=True)
class DayResult:
    occupancy: float  # (talk + wrap-up) ÷ logged-in time
    abandon_rate: float  # abandoned ÷ live answers (true humans, AMD false positives included)
    talk_min_per_agent_hour: float  # minutes talking to humans per volunteer-hour
    contacts_per_agent_hour: float  # humans talked to per volunteer-hour
    mean_wait_s: float  # ready time per contact
    live_answers: int
    abandoned: int
    placed: int


class SimulatedFloor:
    """The phones and the volunteers of one simulated day."""

    def __init__(
        self, scenario: Scenario, rng: random.Random, end: float, start: float = 0.0
    ) -> None:
        self.scenario = scenario
        self.rng = rng
        self.start = start
        self.end = end
        self.now = start
        self.stations = [f"s{i + 1}" for i in range(scenario.agents)]
        self._heap: list[tuple[float, int, int, Any]] = []
        self._seq = 0
        self._listener: Listener | None = None
        self._ready: deque[str] = deque(self.stations)
        self._ready_since = dict.fromkeys(self.stations, start)
        self._waiting: deque[tuple[str, float, bool]] = deque()  # attempt, deadline, human
        self._leaving: set[str] = set()  # log out once the current call's wrap-up ends
        self._pinned: dict[str, str] = {}  # preview attempt -> the station it was dialled for
        self._held: dict[str, str] = {}  # station -> the preview attempt holding it
        self._waiting_for_none: dict[str, bool] = {}  # preview voters whose station left
        self._outcomes = list(scenario.outcomes)
        self._weights = [scenario.outcomes[k] for k in self._outcomes]
        self.true_humans = 0
        self.abandoned = 0
        self.contacts = 0
        self.talk_seconds = 0.0
        self.busy_seconds = 0.0
        self.ready_seconds = 0.0
        self.placed = 0

    def set_listener(self, listener: Listener) -> None:
        self._listener = listener

    def _emit(self, kind: EventKind, at: float, attempt: str | None, station: str | None) -> None:
        if self._listener is not None:
            self._listener(TelephonyEvent(kind, at, attempt, station))

    def push(self, at: float, code: int, data: Any) -> None:
        self._seq += 1
        heapq.heappush(self._heap, (at, self._seq, code, data))

    def originate(
        self, attempt_id: str, number: str, now: float, *, station: str | None = None
    ) -> None:
        sc, rng = self.scenario, self.rng
        self.placed += 1
        if station is not None:
            self._pinned[attempt_id] = station
            if station in self._ready:
                self._ready.remove(station)
                self._held[station] = attempt_id
        outcome = rng.choices(self._outcomes, self._weights)[0]
        if outcome in ("human", "machine"):
            delay = sc.answer_seconds.sample(rng)
            if delay >= sc.no_answer_timeout:
                outcome, delay = "no_answer", sc.no_answer_timeout
        elif outcome in ("busy", "invalid"):
            delay = sc.fail_seconds.sample(rng)
        else:
            delay = sc.no_answer_timeout
        self.push(now + delay, _RESOLVE, (attempt_id, outcome))

    def _resolve(self, now: float, attempt: str, outcome: str) -> None:
        if attempt in self._pinned:
            self._resolve_pinned(now, attempt, outcome, self._pinned.pop(attempt))
            return
        accuracy = self.scenario.amd_accuracy
        if outcome == "human":
            self.true_humans += 1
            if self.rng.random() >= accuracy:  # taken for a machine: hung up on
                self.abandoned += 1
                self._emit(EventKind.ANSWERED_MACHINE, now, attempt, None)
                return
            self._emit(EventKind.ANSWERED_HUMAN, now, attempt, None)
            self._connect(now, attempt, human=True)
        elif outcome == "machine":
            if self.rng.random() < accuracy:
                self._emit(EventKind.ANSWERED_MACHINE, now, attempt, None)
                return
            self._emit(EventKind.ANSWERED_HUMAN, now, attempt, None)
            self._connect(now, attempt, human=False)
        else:
            self._emit(EventKind(outcome), now, attempt, None)

    def _resolve_pinned(self, now: float, attempt: str, outcome: str, station: str) -> None:
        """A preview call: no detection; whoever answers goes to its station alone."""
        held = self._held.get(station) == attempt
        if held:
            del self._held[station]
        if outcome not in ("human", "machine"):
            self._emit(EventKind(outcome), now, attempt, None)
            if held:
                self._unhold(now, station)
            return
        human = outcome == "human"
        self.true_humans += human
        self._emit(EventKind.ANSWERED_HUMAN, now, attempt, None)
        if held:
            self._bridge(now, attempt, station, human=human)
        else:  # its volunteer left: nobody takes the voter
            self._waiting_for_none[attempt] = human
            self.push(now + self.scenario.abandon_limit, _DEADLINE, attempt)

    def _unhold(self, now: float, station: str) -> None:
        """The station's preview call ended unanswered: it is ready again, as it was."""
        if self._waiting:
            attempt, _, human = self._waiting.popleft()
            self._bridge(now, attempt, station, human=human)
        else:
            self._ready.append(station)

    def _connect(self, now: float, attempt: str, *, human: bool) -> None:
        if self._ready:
            self._bridge(now, attempt, self._ready.popleft(), human=human)
        else:
            deadline = now + self.scenario.abandon_limit
            self._waiting.append((attempt, deadline, human))
            self.push(deadline, _DEADLINE, attempt)

    def _bridge(self, now: float, attempt: str, station: str, *, human: bool) -> None:
        self.ready_seconds += now - self._ready_since[station]
        self._emit(EventKind.BRIDGED, now, attempt, station)
        if human:
            self.contacts += 1
            talk = self.scenario.talk_seconds.sample(self.rng)
            wrap = self.scenario.wrap_seconds.sample(self.rng)
            self.talk_seconds += max(0.0, min(now + talk, self.end) - now)
        else:
            talk, wrap = MACHINE_TALK_SECONDS, MACHINE_WRAP_SECONDS
        self.busy_seconds += max(0.0, min(now + talk + wrap, self.end) - now)
        self.push(now + talk, _TALK_END, (attempt, station, wrap))

    def _deadline(self, now: float, attempt: str) -> None:
        if attempt in self._waiting_for_none:
            self.abandoned += self._waiting_for_none.pop(attempt)
            self._emit(EventKind.ABANDONED, now, attempt, None)
            return
        for i, (waiting, _, human) in enumerate(self._waiting):
            if waiting == attempt:
                del self._waiting[i]
                if human:
                    self.abandoned += 1
                self._emit(EventKind.ABANDONED, now, attempt, None)
                return

    def log_in(self, station: str, now: float) -> None:
        """A volunteer lifts a handset: the station joins the floor, ready."""
        if station in self._leaving:
            self._leaving.discard(station)  # still on a call: it simply stays
        elif not (station in self._ready or station in self._held or station in self._busy()):
            self._station_free(now, station)

    def log_out(self, station: str, now: float) -> None:
        """A volunteer hangs up the handset: at once when ready, else after the call."""
        if station in self._ready:
            self._ready.remove(station)
            self.ready_seconds += now - self._ready_since[station]
            self._emit(EventKind.STATION_LOGGED_OUT, now, None, station)
        elif station in self._held:
            # Gone while its preview call rings: that voter will find nobody.
            del self._held[station]
            self.ready_seconds += now - self._ready_since[station]
            self._emit(EventKind.STATION_LOGGED_OUT, now, None, station)
        elif station in self._busy():
            self._leaving.add(station)

    def _busy(self) -> set[str]:
        stations = set()
        for _, _, code, data in self._heap:
            if code == _TALK_END:
                stations.add(data[1])
            elif code == _WRAP_END:
                stations.add(data)
        return stations

    def _station_free(self, now: float, station: str) -> None:
        if station in self._leaving:
            self._leaving.discard(station)
            self._emit(EventKind.STATION_LOGGED_OUT, now, None, station)
            return
        self._ready_since[station] = now
        self._emit(EventKind.STATION_READY, now, None, station)
        if self._waiting:
            attempt, _, human = self._waiting.popleft()
            self._bridge(now, attempt, station, human=human)
        else:
            self._ready.append(station)

    def run(self, engine: DialerEngine, tick: float) -> None:
        self.push(self.start, _TICK, None)
        while self._heap and self._heap[0][0] <= self.end:
            now, _, code, data = heapq.heappop(self._heap)
            self.now = now
            if code == _TICK:
                engine.tick(now)
                self.push(now + tick, _TICK, None)
            else:
                self._dispatch(now, code, data)
        self.close()

    def advance(self, until: float) -> None:
        """Play every call-floor event up to `until` (for a caller that ticks the engine)."""
        until = min(until, self.end)
        while self._heap and self._heap[0][0] <= until:
            now, _, code, data = heapq.heappop(self._heap)
            self.now = now
            self._dispatch(now, code, data)
        self.now = max(self.now, until)

    def pending(self) -> int:
        """Calls and volunteers the floor still has a future event for."""
        return len(self._heap)

    def close(self) -> None:
        """End of day: count the ready volunteers' last wait."""
        for station in self._ready:
            self.ready_seconds += self.end - self._ready_since[station]
        self._ready.clear()

    def _dispatch(self, now: float, code: int, data: Any) -> None:
        if code == _RESOLVE:
            self._resolve(now, *data)
        elif code == _DEADLINE:
            self._deadline(now, data)
        elif code == _TALK_END:
            attempt, station, wrap = data
            self._emit(EventKind.HUNG_UP, now, attempt, station)
            self.push(now + wrap, _WRAP_END, station)
        else:
            self._station_free(now, data)


def settings_for(scenario: Scenario) -> CampaignSettings:
    return CampaignSettings(
        mode=DialMode.PREDICTIVE,
        lines_cap=scenario.lines,
        abandon_target=scenario.abandon_target,
        connect_limit=scenario.abandon_limit,
        ring_timeout=scenario.no_answer_timeout,
        amd_accuracy=scenario.amd_accuracy,
    )


def simulate_day(
    scenario: Scenario, policy: Policy, seed: int, hours: float | None = None
) -> DayResult:
    end = 3600.0 * (scenario.hours if hours is None else hours)
    floor = SimulatedFloor(scenario, random.Random(seed), end)
    counter = itertools.count(1)
    engine = DialerEngine(
        settings=settings_for(scenario),
        policy=policy,
        telephony=floor,
        stations=floor.stations,
        next_call=lambda _now: PlannedCall(f"a{next(counter)}", "+33100000000"),
    )
    floor.set_listener(engine.handle)
    floor.run(engine, getattr(policy, "tick_seconds", 1.0))
    agent_hours = scenario.agents * end / 3600.0
    return DayResult(
        occupancy=floor.busy_seconds / (scenario.agents * end),
        abandon_rate=floor.abandoned / floor.true_humans if floor.true_humans else 0.0,
        talk_min_per_agent_hour=floor.talk_seconds / 60.0 / agent_hours,
        contacts_per_agent_hour=floor.contacts / agent_hours,
        mean_wait_s=floor.ready_seconds / floor.contacts if floor.contacts else end,
        live_answers=floor.true_humans,
        abandoned=floor.abandoned,
        placed=floor.placed,
    )
