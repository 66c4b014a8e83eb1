"""Who goes on a call list: `--where` conditions, their JSON form. Pure.

Conditions (all must hold; a comma inside a value means "any of"):

    support=undecided,lean_supporter   support levels
    city=Paris,Lyon                     cities (case and accents ignored)
    postal_code=75011,974*              postal codes; a trailing * is a prefix
    precinct=0112,0113                  polling stations
    age=18-35  age=65-                  age range in whole years, on the build day
    tag=vip,benevole                    any of these tags
    never_contacted                     never reached by a call or a visit
    not_contacted_since=2026-10-01      never reached, or last reached before that day

Only contacts with at least one callable number are put on a list.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from phonebank.db.enums import SupportLevel
from phonebank.lists.errors import TargetError
from phonebank.lists.headers import fold
from phonebank.lists.values import parse_support

KEYS = (
    "support",
    "city",
    "postal_code",
    "precinct",
    "age",
    "tag",
    "never_contacted",
    "not_contacted_since",
)


@dataclass(frozen=True)
class Target:
    support: tuple[SupportLevel, ...] = ()
    cities: tuple[str, ...] = ()  # folded
    postal_codes: tuple[str, ...] = ()  # "974*" = prefix
    precincts: tuple[str, ...] = ()
    min_age: int | None = None
    max_age: int | None = None
    tags: tuple[str, ...] = ()
    never_contacted: bool = False
    not_contacted_since: date | None = None
    extra: dict[str, Any] = field(default_factory=dict, compare=False)


def _values(raw: str) -> tuple[str, ...]:
    return tuple(v.strip() for v in raw.split(",") if v.strip())


def _age(raw: str) -> tuple[int | None, int | None]:
    low, sep, high = raw.partition("-")
    try:
        lo = int(low) if low.strip() else None
        hi = int(high) if high.strip() else None
        if not sep:
            hi = lo
    except ValueError:
        raise TargetError(f"age={raw}: expected a range such as 18-35, 65- or -30") from None
    if lo is not None and hi is not None and lo > hi:
        raise TargetError(f"age={raw}: the lower bound is above the upper one")
    return lo, hi


def parse_where(items: Iterable[str]) -> Target:
    """`--where` items → Target; errors name the item and say what is expected."""
    kw: dict[str, Any] = {}
    for item in items:
        key, sep, raw = item.partition("=")
        key = key.strip().lower().replace("-", "_")
        if key not in KEYS:
            raise TargetError(f"--where {item!r}: unknown condition {key!r} (known: {KEYS})")
        if key == "never_contacted":
            if sep and raw.strip().lower() not in ("", "true", "yes", "1"):
                raise TargetError(f"--where {item!r}: never_contacted takes no value")
            kw["never_contacted"] = True
            continue
        if not raw.strip():
            raise TargetError(f"--where {item!r}: expected {key}=VALUE")
        if key == "support":
            levels = []
            for value in _values(raw):
                level = parse_support(value)
                if level is None:
                    raise TargetError(
                        f"--where {item!r}: unknown support level {value!r} "
                        f"(known: {', '.join(s.value for s in SupportLevel)})"
                    )
                levels.append(level)
            kw["support"] = tuple(levels)
        elif key == "city":
            kw["cities"] = tuple(fold(v) for v in _values(raw))
        elif key == "postal_code":
            kw["postal_codes"] = _values(raw)
        elif key == "precinct":
            kw["precincts"] = _values(raw)
        elif key == "tag":
            kw["tags"] = _values(raw)
        elif key == "age":
            kw["min_age"], kw["max_age"] = _age(raw)
        elif key == "not_contacted_since":
            try:
                kw["not_contacted_since"] = date.fromisoformat(raw.strip())
            except ValueError:
                raise TargetError(f"--where {item!r}: expected a date YYYY-MM-DD") from None
    return Target(**kw)


def to_json(target: Target) -> dict[str, Any]:
    where: dict[str, Any] = {}
    if target.support:
        where["support"] = [s.value for s in target.support]
    for name, values in (
        ("city", target.cities),
        ("postal_code", target.postal_codes),
        ("precinct", target.precincts),
        ("tag", target.tags),
    ):
        if values:
            where[name] = list(values)
    if target.min_age is not None or target.max_age is not None:
        where["age"] = [target.min_age, target.max_age]
    if target.never_contacted:
        where["never_contacted"] = True
    if target.not_contacted_since is not None:
        where["not_contacted_since"] = target.not_contacted_since.isoformat()
    return {"where": where}


def from_json(data: dict[str, Any]) -> Target:
    where = data.get("where", {}) if isinstance(data, dict) else {}
    items = []
    for key, value in where.items():
        if key == "never_contacted":
            if value:
                items.append("never_contacted")
        elif key == "age":
            low, high = value
            items.append(f"age={'' if low is None else low}-{'' if high is None else high}")
        elif isinstance(value, list):
            items.append(f"{key}={','.join(str(v) for v in value)}")
        else:
            items.append(f"{key}={value}")
    return parse_where(items)


def birth_date_bounds(target: Target, today: date) -> tuple[date | None, date | None]:
    """(born on or after, born on or before) for the age range on `today`."""

    def years_ago(years: int) -> date:
        try:
            return today.replace(year=today.year - years)
        except ValueError:  # 29 February
            return today.replace(year=today.year - years, day=28)

    earliest = None
    if target.max_age is not None:
        # Aged at most N: born after the day N+1 years ago.
        limit = years_ago(target.max_age + 1)
        earliest = date.fromordinal(limit.toordinal() + 1)
    latest = years_ago(target.min_age) if target.min_age is not None else None
    return earliest, latest
