"""The wallboard's state: the dialer's floor, the station inventory and the day's figures
folded into one JSON-able dict. Pure: every input is a plain value, the clock is `now`.

Station states come from the campaign engines (ready, talking, wrap-up, paused); a
station of the inventory that no engine knows is `handset_down`, or `idle` when the
telephony sees its handset off the hook while no campaign takes it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from phonebank.dialer.floor import LineState, LineView, StationState, StationView

HANDSET_DOWN = "handset_down"
IDLE = "idle"  # off the hook, but no running campaign has it
# The order stations are listed in within a state group, and which view wins when two
# engines both know a station (a move between campaigns): the busiest.
STATE_ORDER = ("talking", "wrap_up", "ready", "paused", IDLE, HANDSET_DOWN)
OUTCOMES = ("human", "abandoned", "machine", "busy", "no_answer", "failed")
CHART_MINUTES = 60
ABANDON_WINDOW_MINUTES = 15  # the chart's abandon rate: answers of the last 15 minutes


@dataclass(frozen=True)
class CampaignMeta:
    """A campaign the wallboard shows (ACTIVE in the database, or with a runner)."""

    campaign_id: int
    name: str
    mode: str
    target: float


@dataclass(frozen=True)
class CampaignLive:
    """What one campaign's runner knows right now."""

    campaign_id: int
    name: str
    mode: str
    stations: Mapping[str, StationView]
    lines: tuple[LineView, ...] = ()
    bridged: int = 0
    throttled: bool = False


@dataclass(frozen=True)
class Abandon:
    today: float
    rolling: float
    target: float
    live_answers_today: int


@dataclass(frozen=True)
class StationInfo:
    number: str
    label: str = ""
    enabled: bool = True


@dataclass(frozen=True)
class CallInfo:
    """The call a station is on, as the live bus last published it."""

    campaign_id: int
    attempt_id: int
    at: float


@dataclass(frozen=True)
class CoachView:
    supervisor: str
    mode: str  # listen, whisper, barge
    state: str  # calling (the supervisor's handset rings), on, failed


@dataclass(frozen=True)
class Count:
    key: str
    label: str
    count: int
    category: str = ""


@dataclass(frozen=True)
class QuestionTally:
    key: str
    prompt: str
    answers: tuple[Count, ...]


@dataclass(frozen=True)
class Tallies:
    """A campaign's day so far (the campaign's local day)."""

    dispositions: tuple[Count, ...] = ()
    surveys: tuple[QuestionTally, ...] = ()
    contacts_today: int = 0
    contacts_last_hour: int = 0


@dataclass(frozen=True)
class CallMinute:
    """Calls dialled in one minute (start of the minute, epoch seconds) that ended so."""

    minute: float
    outcome: str  # one of OUTCOMES
    count: int


@dataclass(frozen=True)
class ZoneLeads:
    zone: str
    pending: int  # still to call
    due: int  # of those, due now (no later retry time set)
    open: bool  # the campaign's calling window is open there now


@dataclass(frozen=True)
class ListFigures:
    total: int = 0
    attempted: int = 0
    pending: int = 0
    claimed: int = 0
    completed: int = 0
    exhausted: int = 0
    excluded: int = 0
    zones: tuple[ZoneLeads, ...] = ()


@dataclass(frozen=True)
class FloorInputs:
    campaigns: tuple[CampaignMeta, ...] = ()
    live: tuple[CampaignLive, ...] = ()
    abandon: Mapping[int, Abandon] = field(default_factory=dict)
    inventory: tuple[StationInfo, ...] = ()
    # Stations whose handset is off the hook, per the telephony; None: not known.
    handsets: frozenset[str] | None = None
    volunteers: Mapping[str, str] = field(default_factory=dict)  # station -> name
    calls: Mapping[str, CallInfo] = field(default_factory=dict)
    coaching: Mapping[str, tuple[CoachView, ...]] = field(default_factory=dict)
    tallies: Mapping[int, Tallies] = field(default_factory=dict)
    minutes: tuple[CallMinute, ...] = ()
    lists: Mapping[int, ListFigures] = field(default_factory=dict)
    dialer: bool = False  # a dialer service is attached (else: nothing is dialled)


def _rank(state: str) -> int:
    return STATE_ORDER.index(state) if state in STATE_ORDER else len(STATE_ORDER)


def _number_key(number: str) -> tuple[int, str]:
    return (int(number), number) if number.isdigit() else (1 << 62, number)


def dial_level(lines: int, active_stations: int) -> float | None:
    """Lines up (ringing, waiting, bridged) per volunteer taking calls."""
    return round(lines / active_stations, 2) if active_stations > 0 else None


def _station_views(live: tuple[CampaignLive, ...]) -> dict[str, tuple[StationView, int]]:
    chosen: dict[str, tuple[StationView, int]] = {}
    for campaign in live:
        for number, view in campaign.stations.items():
            held = chosen.get(number)
            if held is None or _rank(view.state.value) < _rank(held[0].state.value):
                chosen[number] = (view, campaign.campaign_id)
    return chosen


def _stations(inputs: FloorInputs, now: float) -> list[dict[str, Any]]:
    views = _station_views(inputs.live)
    labels = {s.number: s.label for s in inputs.inventory if s.enabled}
    numbers = set(labels) | set(views)
    names = {c.campaign_id: c.name for c in inputs.campaigns} | {
        c.campaign_id: c.name for c in inputs.live
    }
    rows = []
    for number in numbers:
        held = views.get(number)
        if held is not None:
            view, campaign_id = held
            state, since = view.state.value, view.since
        else:
            campaign_id = None
            up = inputs.handsets is not None and number in inputs.handsets
            state, since = (IDLE if up else HANDSET_DOWN), None
        call = inputs.calls.get(number)
        if state == StationState.TALKING.value and call is not None:
            campaign_id = call.campaign_id
        rows.append(
            {
                "number": number,
                "label": labels.get(number, ""),
                "state": state,
                "seconds": max(0, int(now - since)) if since is not None else None,
                "campaign": names.get(campaign_id) if campaign_id is not None else None,
                "volunteer": inputs.volunteers.get(number),
                "attempt": call.attempt_id
                if call is not None and state == StationState.TALKING.value
                else None,
                "coaching": [
                    {"by": c.supervisor, "mode": c.mode, "state": c.state}
                    for c in inputs.coaching.get(number, ())
                ],
            }
        )
    rows.sort(key=lambda r: _number_key(str(r["number"])))
    return rows


def _state_counts(stations: list[dict[str, Any]]) -> dict[str, int]:
    counts = dict.fromkeys(STATE_ORDER, 0)
    for row in stations:
        counts[row["state"]] = counts.get(row["state"], 0) + 1
    return counts


def _lines(live: CampaignLive) -> dict[str, int]:
    ringing = sum(1 for line in live.lines if line.state is LineState.RINGING)
    return {"ringing": ringing, "waiting": len(live.lines) - ringing, "bridged": live.bridged}


def _active(live: CampaignLive) -> int:
    return sum(1 for view in live.stations.values() if view.state is not StationState.PAUSED)


def _counts(items: tuple[Count, ...]) -> list[dict[str, Any]]:
    return [
        {"key": c.key, "label": c.label, "count": c.count, "category": c.category} for c in items
    ]


def _campaign(meta: CampaignMeta, live: CampaignLive | None, inputs: FloorInputs) -> dict[str, Any]:
    cid = meta.campaign_id
    lines = _lines(live) if live is not None else {"ringing": 0, "waiting": 0, "bridged": 0}
    stations = (
        _state_counts([{"state": v.state.value} for v in live.stations.values()])
        if live is not None
        else dict.fromkeys(STATE_ORDER, 0)
    )
    abandon = inputs.abandon.get(cid)
    tallies = inputs.tallies.get(cid, Tallies())
    figures = inputs.lists.get(cid)
    return {
        "id": cid,
        "name": meta.name,
        "mode": meta.mode,
        "running": live is not None,
        "throttled": live.throttled if live is not None else False,
        "stations": {k: stations.get(k, 0) for k in ("ready", "talking", "wrap_up", "paused")},
        **lines,
        "dial_level": dial_level(sum(lines.values()), _active(live)) if live else None,
        "abandon": _abandon(abandon, meta.target),
        "contacts_today": tallies.contacts_today,
        "contacts_last_hour": tallies.contacts_last_hour,
        "dispositions": _counts(tallies.dispositions),
        "surveys": [
            {"key": q.key, "prompt": q.prompt, "answers": _counts(q.answers)}
            for q in tallies.surveys
        ],
        "lists": _list_figures(figures) if figures is not None else None,
    }


def _abandon(abandon: Abandon | None, target: float) -> dict[str, Any]:
    if abandon is None:
        return {"today": None, "rolling": None, "target": target, "over": False, "answers": 0}
    return {
        "today": round(abandon.today, 4),
        "rolling": round(abandon.rolling, 4),
        "target": abandon.target,
        "over": abandon.today > abandon.target or abandon.rolling > abandon.target,
        "answers": abandon.live_answers_today,
    }


def _list_figures(f: ListFigures) -> dict[str, Any]:
    return {
        "total": f.total,
        "attempted": f.attempted,
        "penetration": round(f.attempted / f.total, 4) if f.total else None,
        "pending": f.pending,
        "claimed": f.claimed,
        "completed": f.completed,
        "exhausted": f.exhausted,
        "excluded": f.excluded,
        "zones": [
            {"zone": z.zone, "pending": z.pending, "due": z.due, "open": z.open}
            for z in sorted(f.zones, key=lambda z: (-z.pending, z.zone))
        ],
    }


def chart(minutes: tuple[CallMinute, ...], now: float, target: float | None) -> dict[str, Any]:
    """Calls per minute by outcome over the last hour, and the abandon rate of the
    answers of the 15 minutes up to each minute, beside the target."""
    last = int(now // 60) * 60
    first = last - (CHART_MINUTES - 1) * 60
    start = first - ABANDON_WINDOW_MINUTES * 60
    span = (last - start) // 60 + 1
    counts = {o: [0] * span for o in OUTCOMES}
    for m in minutes:
        index = (int(m.minute) - start) // 60
        if 0 <= index < span and m.outcome in counts:
            counts[m.outcome][index] += m.count
    offset = ABANDON_WINDOW_MINUTES
    abandon: list[float | None] = []
    for i in range(offset, span):
        window = range(i - ABANDON_WINDOW_MINUTES + 1, i + 1)
        dropped = sum(counts["abandoned"][j] for j in window)
        answers = dropped + sum(counts["human"][j] for j in window)
        abandon.append(round(dropped / answers, 4) if answers else None)
    return {
        "minutes": [first + 60 * i for i in range(CHART_MINUTES)],
        "calls": {o: counts[o][offset:] for o in OUTCOMES},
        "abandon": abandon,
        "target": target,
    }


def _sum(rows: list[dict[str, Any]], key: str) -> int:
    return sum(int(r[key]) for r in rows)


def wallboard(inputs: FloorInputs, now: float) -> dict[str, Any]:
    """Everything the supervisors' screens show, as of `now` (epoch seconds)."""
    stations = _stations(inputs, now)
    live = {c.campaign_id: c for c in inputs.live}
    metas = {c.campaign_id: c for c in inputs.campaigns}
    for c in inputs.live:  # a runner whose campaign row is no longer ACTIVE still dials
        metas.setdefault(c.campaign_id, CampaignMeta(c.campaign_id, c.name, c.mode, 0.0))
    campaigns = [_campaign(m, live.get(cid), inputs) for cid, m in sorted(metas.items())]
    lines = sum(len(c.lines) + c.bridged for c in inputs.live)
    active = sum(_active(c) for c in inputs.live)
    targets = [c["abandon"]["target"] for c in campaigns]
    return {
        "at": now,
        "dialer": inputs.dialer,
        "totals": {
            "stations": _state_counts(stations),
            "ringing": _sum(campaigns, "ringing"),
            "waiting": _sum(campaigns, "waiting"),
            "bridged": _sum(campaigns, "bridged"),
            "dial_level": dial_level(lines, active),
            "contacts_today": _sum(campaigns, "contacts_today"),
            "contacts_last_hour": _sum(campaigns, "contacts_last_hour"),
        },
        "stations": stations,
        "campaigns": campaigns,
        "chart": chart(inputs.minutes, now, min(targets) if targets else None),
    }
