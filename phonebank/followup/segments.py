"""Who a follow-up goes to: `--where` conditions built like a call list's, plus outcomes. Pure.

A segment takes every condition of a call list (`phonebank.lists.targeting`:
support, city, postal_code, precinct, age, tag, never_contacted,
not_contacted_since) and adds:

    disposition=strong_support,undecided   the contact's latest outcome in the campaign
                                           has one of these disposition codes
    outcome=supporter,undecided            ... or one of these disposition categories
    consent                                only contacts who gave consent for the channel,
                                           even where the campaign does not require it

Volunteers are a tag (`tag=benevole`), as on call lists.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from phonebank.db.enums import DispositionCategory
from phonebank.followup.errors import FollowUpError
from phonebank.lists.errors import TargetError
from phonebank.lists.targeting import KEYS as TARGET_KEYS
from phonebank.lists.targeting import Target, parse_where

SEGMENT_KEYS = ("disposition", "outcome", "consent")


class SegmentError(FollowUpError):
    """A `--where` condition cannot be read; says which and what is expected."""

    code = "bad_segment"


@dataclass(frozen=True)
class Segment:
    target: Target = field(default_factory=Target)
    dispositions: tuple[str, ...] = ()
    categories: tuple[DispositionCategory, ...] = ()
    consent_only: bool = False
    # The items as given, kept to save the segment and show it back.
    items: tuple[str, ...] = ()

    @property
    def needs_outcomes(self) -> bool:
        return bool(self.dispositions or self.categories)


def _values(raw: str) -> tuple[str, ...]:
    return tuple(v.strip() for v in raw.split(",") if v.strip())


def parse_segment(items: Iterable[str]) -> Segment:
    """`--where` items → Segment; errors name the item and list what is known."""
    given = tuple(item.strip() for item in items if item.strip())
    target_items: list[str] = []
    dispositions: tuple[str, ...] = ()
    categories: list[DispositionCategory] = []
    consent_only = False
    for item in given:
        key, sep, raw = item.partition("=")
        key = key.strip().lower().replace("-", "_")
        if key in TARGET_KEYS:
            target_items.append(item)
        elif key == "consent":
            if sep and raw.strip().lower() not in ("", "true", "yes", "1"):
                raise SegmentError(f"--where {item!r}: consent takes no value")
            consent_only = True
        elif key in ("disposition", "outcome"):
            values = _values(raw)
            if not values:
                raise SegmentError(f"--where {item!r}: expected {key}=VALUE[,VALUE...]")
            if key == "disposition":
                dispositions = tuple(v.lower() for v in values)
                continue
            for value in values:
                try:
                    categories.append(DispositionCategory(value.lower()))
                except ValueError:
                    known = ", ".join(c.value for c in DispositionCategory)
                    raise SegmentError(
                        f"--where {item!r}: unknown outcome {value!r} (known: {known})"
                    ) from None
        else:
            known = ", ".join((*TARGET_KEYS, *SEGMENT_KEYS))
            raise SegmentError(f"--where {item!r}: unknown condition {key!r} (known: {known})")
    try:
        target = parse_where(target_items)
    except TargetError as exc:
        raise SegmentError(str(exc)) from None
    return Segment(target, dispositions, tuple(categories), consent_only, given)


def to_json(segment: Segment) -> dict[str, Any]:
    return {"where": list(segment.items)}


def from_json(data: dict[str, Any]) -> Segment:
    where = data.get("where", []) if isinstance(data, dict) else []
    if not isinstance(where, list):
        raise SegmentError(f"saved segment: 'where' should be a list, got {where!r}")
    return parse_segment(str(item) for item in where)
