"""A target's conditions on a campaign's contacts: in SQL where portable, the rest here.

Call lists and follow-up segments choose contacts with the same `Target`; both
start from `contacts_query` and pass its rows through `kept`.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime

from sqlalchemy import Result, Select, or_, select

from phonebank.db.models import Contact
from phonebank.lists.headers import fold
from phonebank.lists.targeting import Target, birth_date_bounds


def contacts_query(
    campaign_id: int, target: Target, today: date
) -> Select[int, str | None, list[str]]:
    """The campaign's contacts meeting the target's SQL conditions: (id, city, tags)."""
    statement = select(Contact.id, Contact.city, Contact.tags).where(
        Contact.campaign_id == campaign_id
    )
    if target.support:
        statement = statement.where(Contact.support_level.in_(target.support))
    if target.precincts:
        statement = statement.where(Contact.precinct.in_(target.precincts))
    if target.postal_codes:
        statement = statement.where(
            or_(
                *(
                    Contact.postal_code.startswith(code[:-1])
                    if code.endswith("*")
                    else Contact.postal_code == code
                    for code in target.postal_codes
                )
            )
        )
    earliest, latest = birth_date_bounds(target, today)
    if earliest is not None:
        statement = statement.where(Contact.birth_date >= earliest)
    if latest is not None:
        statement = statement.where(Contact.birth_date <= latest)
    if target.never_contacted:
        statement = statement.where(Contact.last_contacted_at.is_(None))
    if target.not_contacted_since is not None:
        since = datetime.combine(target.not_contacted_since, datetime.min.time(), tzinfo=UTC)
        statement = statement.where(
            or_(Contact.last_contacted_at.is_(None), Contact.last_contacted_at < since)
        )
    return statement


def kept(rows: Result[int, str | None, list[str]], target: Target) -> Iterator[int]:
    """The ids of the rows meeting the city and tag conditions, in row order."""
    # City (accents ignored) and tags (a JSON list) are checked here: portable across
    # SQLite and PostgreSQL, after the SQL conditions have narrowed the rows.
    cities = set(target.cities)
    tags = set(target.tags)
    for contact_id, city, contact_tags in rows:
        if cities and fold(city or "") not in cities:
            continue
        if tags and not tags.intersection(contact_tags or ()):
            continue
        yield contact_id
