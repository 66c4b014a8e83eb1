"""The automatic follow-ups editor (pure): stored rules to fields, and fields back to the
rules' JSON, carrying over what the editor does not show."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, time
from typing import Any

from phonebank.admin import messages as m
from phonebank.admin.followup_form import (
    BAD_DATE_TIME,
    BAD_RULE_ID,
    BAD_TIME,
    CHANNELS,
    NO_OUTCOME,
    RULE_ID_TAKEN,
    TRIGGER_WHEN,
    Checked,
    check_sms_text,
)
from phonebank.admin.forms import Form
from phonebank.db.enums import DispositionCategory


def _local_at(text: str) -> str:
    return text.replace("T", " ")[:16]


def rules_values(data: Mapping[str, Any]) -> tuple[dict[str, str], dict[str, list[str]], int]:
    """Stored rules → the editor's fields, the outcome checkboxes per row, and the rows."""
    consent = data.get("require_consent", ["sms", "email"])
    values = {
        "consent_sms": "on" if "sms" in consent else "",
        "consent_email": "on" if "email" in consent else "",
        "dnc_blocks_sms": "on" if data.get("dnc_blocks_sms", True) else "",
    }
    lists: dict[str, list[str]] = {}
    triggers = [t for t in data.get("triggers", []) if isinstance(t, dict)]
    for index, trigger in enumerate(triggers):
        p = f"t{index}_"
        channel = "email" if "email" in trigger else "sms"
        values[p + "id"] = str(trigger.get("id", ""))
        values[p + "was"] = str(trigger.get("id", ""))
        values[p + "channel"] = channel
        values[p + channel] = str(trigger.get(channel, ""))
        values[p + "disposition"] = ", ".join(trigger.get("disposition", []))
        lists[p + "outcome"] = list(trigger.get("outcome", []))
        if "at" in trigger:
            values[p + "when"] = "at"
            # The browser's datetime-local field wants the "T".
            values[p + "at"] = _local_at(str(trigger["at"])).replace(" ", "T")
        elif "days_before_election" in trigger:
            values[p + "when"] = "before_election"
            values[p + "days"] = str(trigger["days_before_election"])
            values[p + "time"] = str(trigger.get("time", "18:00"))
        else:
            values[p + "when"] = "after"
            values[p + "after_minutes"] = str(trigger.get("after_minutes", 0))
    return values, lists, len(triggers)


def _row_used(values: Mapping[str, str], lists: Mapping[str, Sequence[str]], p: str) -> bool:
    typed = ("id", "sms", "disposition")
    return any(values.get(p + name, "").strip() for name in typed) or bool(lists.get(p + "outcome"))


def _trigger(
    checked: Checked,
    p: str,
    lists: Mapping[str, Sequence[str]],
    old: Mapping[str, dict[str, Any]],
    templates: Sequence[str],
) -> dict[str, Any] | None:
    form = checked.form
    before = len(checked.errors)
    rule_id = form.text(p + "id", required=True, max_length=40)
    if rule_id and (":" in rule_id or not rule_id.strip()):
        checked.fail(p + "id", BAD_RULE_ID)
    channel = form.choice(p + "channel", CHANNELS)
    # What the editor does not show (constants, the start time) stays as it was.
    kept = dict(old.get(form.raw(p + "was"), {}))
    trigger: dict[str, Any] = {k: v for k, v in kept.items() if k in ("fields", "since")}
    if kept.get("id") != rule_id:
        trigger.pop("since", None)  # a renamed rule is a new rule: it starts now
    trigger["id"] = rule_id
    outcomes = [c.value for c in DispositionCategory if c.value in lists.get(p + "outcome", ())]
    codes = [c.strip().lower() for c in form.raw(p + "disposition").split(",") if c.strip()]
    if not outcomes and not codes:
        checked.fail(p + "outcome", NO_OUTCOME)
    if outcomes:
        trigger["outcome"] = outcomes
    if codes:
        trigger["disposition"] = codes
    constants = {str(k): str(v) for k, v in trigger.get("fields", {}).items()}
    if channel == "sms":
        text = form.raw(p + "sms")
        if not text:
            checked.fail(p + "sms", m.REQUIRED)
        else:
            check_sms_text(checked, p + "sms", text, constants)
        trigger["sms"] = text
    elif channel == "email":
        trigger["email"] = form.choice(p + "email", templates)
    when = form.choice(p + "when", TRIGGER_WHEN, default="after")
    if when == "after":
        minutes = form.integer(p + "after_minutes", low=0, high=60 * 24 * 30)
        if minutes:
            trigger["after_minutes"] = minutes
    elif when == "before_election":
        days = form.integer(p + "days", low=0, high=365, required=True)
        raw_time = form.raw(p + "time") or "18:00"
        try:
            at_time = time.fromisoformat(raw_time)
        except ValueError:
            checked.fail(p + "time", BAD_TIME)
        else:
            trigger["time"] = at_time.strftime("%H:%M")
        if days is not None:
            trigger["days_before_election"] = days
    elif when == "at":
        raw = form.raw(p + "at")
        try:
            datetime.fromisoformat(raw)
        except ValueError:
            checked.fail(p + "at", m.REQUIRED if not raw else BAD_DATE_TIME)
        else:
            trigger["at"] = _local_at(raw)
    return trigger if len(checked.errors) == before else None


def parse_rules_form(
    values: Mapping[str, str],
    lists: Mapping[str, Sequence[str]],
    rows: int,
    old: Mapping[str, Any],
    templates: Sequence[str],
) -> tuple[dict[str, Any] | None, Checked]:
    """The editor's fields → the rules' JSON; rows left blank or marked for removal are
    dropped, and what the editor does not show of a kept rule is carried over."""
    checked = Checked(Form(values))
    form = checked.form
    by_id = {
        str(t.get("id")): t
        for t in old.get("triggers", [])
        if isinstance(t, dict) and t.get("id") is not None
    }
    consent = [c for c in CHANNELS if form.checkbox(f"consent_{c}")]
    triggers: list[dict[str, Any]] = []
    seen = checked.rows
    for index in range(rows):
        p = f"t{index}_"
        if form.checkbox(p + "delete") or not _row_used(values, lists, p):
            continue
        trigger = _trigger(checked, p, lists, by_id, templates)
        if trigger is None:
            continue
        if trigger["id"] in seen:
            checked.fail(p + "id", RULE_ID_TAKEN)
            continue
        seen[trigger["id"]] = p
        triggers.append(trigger)
    if not checked.ok:
        return None, checked
    data = {
        "require_consent": sorted(consent),
        "dnc_blocks_sms": form.checkbox("dnc_blocks_sms"),
        "triggers": triggers,
    }
    return data, checked
