"""A synthetic call floor for the wallboard benchmark: stations that change state on
the wall clock, and a database with a day of calls, outcomes and lists behind them."""

from __future__ import annotations

import random
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import insert, select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from phonebank.campaigns.defaults import add_default_dispositions
from phonebank.db.engine import session_factory
from phonebank.db.enums import AttemptResult, AttemptState, CampaignStatus, LeadStatus
from phonebank.db.models import (
    CallAttempt,
    CallList,
    CallListEntry,
    Campaign,
    Contact,
    Disposition,
    Outcome,
    PhoneNumber,
    Station,
)
from phonebank.dialer.floor import LineState, LineView, StationState, StationView
from phonebank.supervisor.floor import Abandon, CampaignLive

# The cycle a station goes through, with seconds in each state.
_CYCLE = (
    (StationState.READY, 9),
    (StationState.TALKING, 40),
    (StationState.WRAP_UP, 12),
    (StationState.READY, 5),
    (StationState.TALKING, 70),
    (StationState.WRAP_UP, 8),
    (StationState.PAUSED, 30),
)
_PERIOD = sum(seconds for _state, seconds in _CYCLE)
_RESULTS = (
    AttemptResult.NO_ANSWER,
    AttemptResult.HUMAN,
    AttemptResult.MACHINE,
    AttemptResult.NO_ANSWER,
    AttemptResult.HUMAN,
    AttemptResult.BUSY,
    AttemptResult.INVALID,
)


def station_view(index: int, now: float) -> StationView:
    """Where station `index` is in its cycle at `now` (stations are staggered)."""
    offset = (now + index * 13.7) % _PERIOD
    start = 0.0
    for state, seconds in _CYCLE:
        if offset < start + seconds:
            return StationView(state, now - (offset - start))
        start += seconds
    return StationView(StationState.READY, now)


@dataclass
class SyntheticFloor:
    """`stations` stations split over the campaigns, moving on `clock`."""

    campaigns: Mapping[int, str]
    stations: int
    clock: Callable[[], float]

    @property
    def attached(self) -> bool:
        return True

    def live(self) -> tuple[CampaignLive, ...]:
        now = self.clock()
        ids = sorted(self.campaigns)
        out = []
        for position, cid in enumerate(ids):
            views = {
                str(n + 1): station_view(n, now)
                for n in range(self.stations)
                if n % len(ids) == position
            }
            talking = sum(1 for v in views.values() if v.state is StationState.TALKING)
            ready = sum(1 for v in views.values() if v.state is StationState.READY)
            lines = tuple(
                LineView(LineState.RINGING if i % 4 else LineState.WAITING, now - i % 7)
                for i in range(int(ready * 1.5))
            )
            out.append(CampaignLive(cid, self.campaigns[cid], "predictive", views, lines, talking))
        return tuple(out)

    def abandon(self) -> Mapping[int, Abandon]:
        return {cid: Abandon(0.021, 0.018, 0.03, 400) for cid in self.campaigns}

    def handsets(self) -> frozenset[str] | None:
        return frozenset(str(n + 1) for n in range(self.stations))


def seed(engine: Engine, *, stations: int, leads: int, now: datetime) -> dict[int, str]:
    """Two ACTIVE campaigns with the last 75 minutes of calls, outcomes and lists."""
    rng = random.Random(7)
    with session_factory(engine).begin() as session:
        session.execute(
            insert(Station),
            [{"number": str(n + 1), "channel": f"DAHDI/{n + 1}"} for n in range(stations)],
        )
        names = {}
        for name in ("Lyon 2027", "Villeurbanne 2027"):
            campaign = Campaign(name=name, status=CampaignStatus.ACTIVE)
            session.add(campaign)
            session.flush()
            names[campaign.id] = name
            add_default_dispositions(session, campaign.id)
            _lists(session, campaign.id, leads // 2, rng)
        session.flush()
        for cid in names:
            _calls(session, cid, stations, now, rng)
        return names


def _lists(session: Session, cid: int, leads: int, rng: random.Random) -> None:
    calls = CallList(campaign_id=cid, name="bench")
    session.add(calls)
    session.flush()
    first = session.scalar(select(Contact.id).order_by(Contact.id.desc()).limit(1)) or 0
    session.execute(
        insert(Contact), [{"campaign_id": cid, "first_name": f"V{n}"} for n in range(leads)]
    )
    ids = list(session.scalars(select(Contact.id).where(Contact.id > first).order_by(Contact.id)))
    zones = ("Europe/Paris", "Europe/Paris", "Europe/Paris", "Indian/Reunion", "America/Cayenne")
    session.execute(
        insert(PhoneNumber),
        [
            {"contact_id": c, "e164": f"+336{cid:02d}{n:07d}", "time_zone": zones[n % 5]}
            for n, c in enumerate(ids)
        ],
    )
    session.execute(
        insert(CallListEntry),
        [
            {
                "call_list_id": calls.id,
                "contact_id": c,
                "status": LeadStatus.PENDING if rng.random() < 0.7 else LeadStatus.COMPLETED,
                "attempts": rng.choice((0, 0, 1, 2)),
            }
            for c in ids
        ],
    )


def _calls(session: Session, cid: int, stations: int, now: datetime, rng: random.Random) -> None:
    dispositions = list(
        session.scalars(select(Disposition.id).where(Disposition.campaign_id == cid))
    )
    contact = session.scalar(select(Contact.id).where(Contact.campaign_id == cid).limit(1))
    # About one dial per station and minute, half the floor each.
    for minute in range(75):
        rows = []
        for n in range(stations // 2):
            result = _RESULTS[(minute + n) % len(_RESULTS)]
            at = now - timedelta(minutes=minute, seconds=rng.uniform(0, 59))
            rows.append(
                {
                    "campaign_id": cid,
                    "contact_id": contact,
                    "e164": f"+3361{minute:03d}{n:05d}",
                    "engine_id": "bench",
                    "state": AttemptState.ENDED,
                    "result": result,
                    "abandoned": result is AttemptResult.HUMAN and rng.random() < 0.02,
                    "created_at": at,
                    "bridged_at": at if result is AttemptResult.HUMAN else None,
                }
            )
        session.execute(insert(CallAttempt), rows)
    humans = session.scalars(
        select(CallAttempt.id).where(
            CallAttempt.campaign_id == cid, CallAttempt.result == AttemptResult.HUMAN
        )
    )
    session.execute(
        insert(Outcome),
        [
            {
                "campaign_id": cid,
                "contact_id": contact,
                "attempt_id": attempt,
                "disposition_id": rng.choice(dispositions),
                "recorded_at": now - timedelta(minutes=rng.uniform(0, 70)),
            }
            for attempt in humans
        ],
    )
