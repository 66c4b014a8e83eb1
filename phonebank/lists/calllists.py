"""Call lists built from a saved target, and refreshed from it.

Refreshing drops (status `excluded`, history kept) the pending entries whose
contact no longer matches, and adds the contacts that now match. An entry
already excluded is never put back: exclusion also comes from do-not-call and
"never call again" outcomes, which must stick.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import Connection, Engine, exists, select, update
from sqlalchemy.orm import Session

from phonebank.db.enums import LeadStatus
from phonebank.db.models import CallList, CallListEntry, Contact, PhoneNumber
from phonebank.lists import repo
from phonebank.lists.errors import ListError, TargetError
from phonebank.lists.export import campaign_id
from phonebank.lists.precincts import StationResult, priorities
from phonebank.lists.target_query import contacts_query, kept
from phonebank.lists.targeting import Target, from_json, to_json

_YIELD = 5000


@dataclass
class RefreshResult:
    call_list: str
    matched: int = 0
    added: int = 0
    excluded: int = 0

    def to_json(self) -> dict[str, Any]:
        return dict(self.__dict__)


def matching_contacts(
    conn: Connection, campaign: int, target: Target, today: date
) -> Iterator[int]:
    """The campaign's contacts meeting the target and having a callable number."""
    statement = contacts_query(campaign, target, today).where(
        exists().where(PhoneNumber.contact_id == Contact.id, PhoneNumber.callable.is_(True))
    )
    return kept(conn.execute(statement.execution_options(yield_per=_YIELD)), target)


def _refresh(conn: Connection, call_list: CallList, target: Target, today: date) -> RefreshResult:
    result = RefreshResult(call_list.name)
    matching = set(matching_contacts(conn, call_list.campaign_id, target, today))
    result.matched = len(matching)
    present: dict[int, LeadStatus] = {
        contact_id: status
        for contact_id, status in conn.execute(
            select(CallListEntry.contact_id, CallListEntry.status).where(
                CallListEntry.call_list_id == call_list.id
            )
        )
    }
    gone = [
        cid
        for cid, status in present.items()
        if cid not in matching and status == LeadStatus.PENDING
    ]
    now = datetime.now(UTC)
    for start in range(0, len(gone), 500):
        conn.execute(
            update(CallListEntry)
            .where(
                CallListEntry.call_list_id == call_list.id,
                CallListEntry.contact_id.in_(gone[start : start + 500]),
                CallListEntry.status == LeadStatus.PENDING,
            )
            .values(status=LeadStatus.EXCLUDED, updated_at=now)
        )
    result.excluded = len(gone)
    result.added = repo.add_entries(conn, call_list.id, sorted(matching - set(present)))
    conn.execute(
        update(CallList).where(CallList.id == call_list.id).values(refreshed_at=now, updated_at=now)
    )
    return result


def _load(conn: Connection, campaign: int, name: str) -> CallList | None:
    with Session(bind=conn) as session:
        return session.scalars(
            select(CallList).where(CallList.campaign_id == campaign, CallList.name == name)
        ).one_or_none()


def build(
    engine: Engine, campaign_name: str, name: str, target: Target, today: date
) -> RefreshResult:
    """Create a list from a target and fill it."""
    with engine.begin() as conn:
        campaign = campaign_id(conn, campaign_name)
        if _load(conn, campaign, name) is not None:
            raise ListError(
                f"campaign {campaign_name!r} already has a list named {name!r}; "
                "use `phonebank list refresh` (or another name)"
            )
        repo.call_list_id(conn, campaign, name, to_json(target))
        call_list = _load(conn, campaign, name)
        assert call_list is not None
        return _refresh(conn, call_list, target, today)


def refresh(engine: Engine, campaign_name: str, name: str, today: date) -> RefreshResult:
    """Re-apply a list's saved target."""
    with engine.begin() as conn:
        campaign = campaign_id(conn, campaign_name)
        call_list = _load(conn, campaign, name)
        if call_list is None:
            raise ListError(f"campaign {campaign_name!r} has no list named {name!r}")
        try:
            target = from_json(call_list.target or {})
        except TargetError as exc:
            raise TargetError(f"list {name!r}: saved target cannot be read: {exc}") from None
        return _refresh(conn, call_list, target, today)


@dataclass
class PrecinctResult:
    call_list: str
    stations: int
    entries_prioritised: int
    closest: list[dict[str, Any]]

    def to_json(self) -> dict[str, Any]:
        return dict(self.__dict__)


def apply_precinct_priorities(
    engine: Engine, campaign_name: str, name: str, ranked: list[StationResult]
) -> PrecinctResult:
    """Give each entry of the list the priority of its contact's polling station."""
    by_code = priorities(ranked)
    # "0112" in one file is "112" in another.
    by_bare = {code.lstrip("0"): value for code, value in by_code.items()}
    with engine.begin() as conn:
        campaign = campaign_id(conn, campaign_name)
        call_list = _load(conn, campaign, name)
        if call_list is None:
            raise ListError(f"campaign {campaign_name!r} has no list named {name!r}")
        rows = conn.execute(
            select(CallListEntry.id, Contact.precinct)
            .join(Contact, Contact.id == CallListEntry.contact_id)
            .where(CallListEntry.call_list_id == call_list.id, Contact.precinct.is_not(None))
        )
        groups: dict[int, list[int]] = {}
        for entry_id, precinct in rows:
            value = by_bare.get((precinct or "").strip().lstrip("0"))
            if value is not None:
                groups.setdefault(value, []).append(entry_id)
        now = datetime.now(UTC)
        for value, ids in groups.items():
            for start in range(0, len(ids), 500):
                conn.execute(
                    update(CallListEntry)
                    .where(CallListEntry.id.in_(ids[start : start + 500]))
                    .values(priority=value, updated_at=now)
                )
    closest = [
        {"commune": r.commune, "station": r.station, "margin": round(r.margin, 4)}
        for r in ranked[:10]
    ]
    return PrecinctResult(name, len(ranked), sum(len(v) for v in groups.values()), closest)
