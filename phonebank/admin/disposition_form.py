"""The dispositions form (pure): every row of a campaign at once, and a new one."""

from __future__ import annotations

import re
from dataclasses import dataclass

from phonebank.admin import messages as m
from phonebank.admin.forms import Form
from phonebank.db.enums import DispositionCategory, FollowUpChannel, RecycleAction

_CODE = re.compile(r"[a-z0-9_]{1,32}")
_KEY = re.compile(r"[0-9a-z*#]")
MAX_RETRY = 60 * 24 * 365


@dataclass(frozen=True)
class DispositionValues:
    label: str
    category: DispositionCategory
    shortcut_key: str | None
    recycle_action: RecycleAction
    retry_delay_minutes: int | None
    adds_to_dnc: bool
    follow_up: FollowUpChannel | None
    active: bool
    position: int


def _row(form: Form, prefix: str) -> DispositionValues | None:
    label = form.text(f"{prefix}label", required=True, max_length=128)
    category = form.choice(f"{prefix}category", [c.value for c in DispositionCategory])
    key = form.raw(f"{prefix}key").lower()
    if key and not _KEY.fullmatch(key):
        form.fail(f"{prefix}key", m.BAD_KEY)
    action = form.choice(f"{prefix}recycle", [a.value for a in RecycleAction])
    retry = form.integer(f"{prefix}retry", low=0, high=MAX_RETRY)
    follow = form.choice(f"{prefix}follow_up", ["", *(c.value for c in FollowUpChannel)], "")
    position = form.integer(f"{prefix}position", low=0, high=999) or 0
    if any(name.startswith(prefix) for name in form.errors):
        return None
    return DispositionValues(
        label=label,
        category=DispositionCategory(category),
        shortcut_key=key or None,
        recycle_action=RecycleAction(action),
        retry_delay_minutes=retry,
        adds_to_dnc=form.checkbox(f"{prefix}dnc"),
        follow_up=FollowUpChannel(follow) if follow else None,
        active=form.checkbox(f"{prefix}active") or prefix == "new_",
        position=position,
    )


def parse_dispositions(
    values: dict[str, str], ids: list[int]
) -> tuple[dict[int, DispositionValues], dict[str, str]]:
    """The rows `d<id>_…` of every existing disposition; errors by field name."""
    form = Form(values)
    rows = {i: _row(form, f"d{i}_") for i in ids}
    _unique_keys(form, {f"d{i}_key": r.shortcut_key for i, r in rows.items() if r})
    return {i: r for i, r in rows.items() if r is not None}, form.errors


def parse_new(
    values: dict[str, str], codes: set[str], keys: set[str]
) -> tuple[tuple[str, DispositionValues] | None, dict[str, str]]:
    """A new disposition (`new_…` fields); `codes`/`keys` are the campaign's, in use."""
    form = Form(values)
    code = form.raw("new_code").lower()
    if not _CODE.fullmatch(code):
        form.fail("new_code", m.BAD_CODE)
    elif code in codes:
        form.fail("new_code", m.CODE_TAKEN)
    row = _row(form, "new_")
    if row is not None and row.shortcut_key in keys:
        form.fail("new_key", m.KEY_TAKEN)
    if not form.ok or row is None:
        return None, form.errors
    return (code, row), {}


def _unique_keys(form: Form, keys: dict[str, str | None]) -> None:
    seen: dict[str, str] = {}
    for field, key in keys.items():
        if key is None:
            continue
        if key in seen:
            form.fail(field, m.KEY_TAKEN)
        seen[key] = field
