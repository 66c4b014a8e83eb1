"""The call floor in Prometheus metrics: stations by state, lines, calls, abandon rates.

The runner calls these as the floor changes; they only set gauges and count, so they
are cheap enough for the AMI event path. Every state is written on each update (zero
included), so a dashboard never shows a stale count for a state nobody is in.
"""

from __future__ import annotations

import contextlib
from collections import Counter as Tally
from collections.abc import Callable

from prometheus_client.metrics import MetricWrapperBase

from phonebank.dialer.floor import FloorSnapshot, LineState, StationState
from phonebank.dialer.telephony import EventKind, Listener, TelephonyEvent
from phonebank.metrics.service import Metrics

# A station whose handset is down is not in the snapshot; counted apart.
LOGGED_OUT = "logged_out"


def record_floor(metrics: Metrics, campaign: str, snapshot: FloorSnapshot, logged_out: int) -> None:
    """Stations by state and lines by state for one campaign's floor, now."""
    stations = Tally(view.state for view in snapshot.stations)
    for state in StationState:
        metrics.stations.labels(campaign=campaign, state=state.value).set(stations[state])
    metrics.stations.labels(campaign=campaign, state=LOGGED_OUT).set(logged_out)
    lines = Tally(view.state for view in snapshot.lines)
    for line_state in LineState:
        metrics.lines.labels(campaign=campaign, state=line_state.value).set(lines[line_state])
    metrics.lines.labels(campaign=campaign, state="bridged").set(snapshot.bridged)


def record_call(metrics: Metrics, campaign: str, outcome: str) -> None:
    """One settled call: human, machine, busy, no_answer, invalid, abandoned, failed, lost."""
    metrics.calls.labels(campaign=campaign, outcome=outcome).inc()


def record_abandon(
    metrics: Metrics, campaign: str, *, today: float, rolling_30d: float, target: float
) -> None:
    """Abandoned ÷ live answers, today and over 30 days, beside the campaign's target."""
    metrics.abandon_rate.labels(campaign=campaign, window="today").set(today)
    metrics.abandon_rate.labels(campaign=campaign, window="30d").set(rolling_30d)
    metrics.abandon_target.labels(campaign=campaign).set(target)


def forget_campaign(metrics: Metrics, campaign: str) -> None:
    """A stopped campaign's series go, rather than freezing at their last values."""
    for state in (*(s.value for s in StationState), LOGGED_OUT):
        _remove(metrics.stations, campaign, state)
    for state in (*(s.value for s in LineState), "bridged"):
        _remove(metrics.lines, campaign, state)
    for window in ("today", "30d"):
        _remove(metrics.abandon_rate, campaign, window)
    _remove(metrics.abandon_target, campaign)


def _remove(metric: MetricWrapperBase, *labels: str) -> None:
    with contextlib.suppress(KeyError):  # never set: nothing to remove
        metric.remove(*labels)


# How each ending of a line is counted in phonebank_calls_total (a bridge is a contact).
_COUNTED = {
    EventKind.BRIDGED: "human",
    EventKind.ANSWERED_MACHINE: "machine",
    EventKind.BUSY: "busy",
    EventKind.NO_ANSWER: "no_answer",
    EventKind.INVALID: "invalid",
    EventKind.ABANDONED: "abandoned",
    EventKind.FAILED: "failed",
    EventKind.LOST: "lost",
}


def counting_calls(
    listener: Listener, metrics: Metrics, campaign_of: Callable[[str], str | None]
) -> Listener:
    """`listener`, counting each settled line first (while its campaign is still known)."""

    def tap(event: TelephonyEvent) -> None:
        outcome = _COUNTED.get(event.kind)
        if outcome is not None and event.attempt_id is not None:
            campaign = campaign_of(event.attempt_id)
            if campaign is not None:
                record_call(metrics, campaign, outcome)
        listener(event)

    return tap
