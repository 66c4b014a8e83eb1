"""The column mapping and the target builder forms (pure)."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

import phonenumbers

from phonebank.admin import messages as m
from phonebank.admin.forms import Form
from phonebank.db.enums import SupportLevel
from phonebank.lists.errors import TargetError
from phonebank.lists.headers import CUSTOM_PREFIX, FIELDS, IGNORE, PHONE, fold
from phonebank.lists.targeting import Target, parse_where

TARGET_FIELDS = ("city", "postal_code", "precinct", "tag")


def mapping_choices(header: str) -> list[str]:
    """What a column may be mapped to: a contact field, a phone, itself as custom, nothing."""
    return [PHONE, *FIELDS, CUSTOM_PREFIX + header, IGNORE]


@dataclass(frozen=True)
class ImportChoice:
    campaign_id: int
    list_name: str | None
    region: str
    overrides: dict[str, str]


def parse_import(
    values: dict[str, str], headers: list[str], campaign_ids: set[int]
) -> tuple[ImportChoice | None, dict[str, str]]:
    """Campaign, optional list, region and every column's field (`map_<index>`)."""
    form = Form(values)
    campaign = form.raw("campaign")
    if not campaign.isdigit() or int(campaign) not in campaign_ids:
        form.fail("campaign", m.UNKNOWN_CAMPAIGN)
    list_name = form.text("list_name", max_length=128) or None
    region = form.raw("region").upper() or "FR"
    if region not in phonenumbers.SUPPORTED_REGIONS:
        form.fail("region", m.BAD_REGION)
    overrides: dict[str, str] = {}
    for index, header in enumerate(headers):
        target = form.choice(f"map_{index}", mapping_choices(header))
        overrides[fold(header)] = target
    if PHONE not in overrides.values() and not any(n.startswith("map_") for n in form.errors):
        form.fail("map_0", m.NO_PHONE_COLUMN)
    if not form.ok:
        return None, form.errors
    return ImportChoice(int(campaign), list_name, region, overrides), {}


def _item(form: Form, field: str, item: str) -> str | None:
    """Check one `--where` item alone, so an error lands on its own field."""
    try:
        parse_where([item])
    except TargetError:
        form.fail(field, m.UNKNOWN_CHOICE)
        return None
    return item


def target_items(form: Form, supports: Collection[str]) -> list[str]:
    """The target builder's fields as `--where` items (the call list's and the segment's)."""
    items: list[str] = []
    chosen = [s for s in SupportLevel if s.value in supports]
    if chosen:
        items.append("support=" + ",".join(s.value for s in chosen))
    for field in TARGET_FIELDS:
        raw = form.text(field, max_length=2000)
        if raw:
            item = _item(form, field, f"{field}={raw}")
            if item:
                items.append(item)
    low = form.integer("age_min", low=0, high=130)
    high = form.integer("age_max", low=0, high=130)
    if low is not None and high is not None and low > high:
        form.fail("age_min", m.AGE_ORDER)
    elif low is not None or high is not None:
        items.append(f"age={'' if low is None else low}-{'' if high is None else high}")
    if form.checkbox("never_contacted"):
        items.append("never_contacted")
    since = form.day("not_contacted_since")
    if since is not None:
        items.append(f"not_contacted_since={since.isoformat()}")
    return items


def parse_target(values: dict[str, str], supports: list[str]) -> tuple[Target | None, Form]:
    """The target builder's fields as `phonebank list build --where` conditions."""
    form = Form(values)
    items = target_items(form, supports)
    if not form.ok:
        return None, form
    return parse_where(items), form
