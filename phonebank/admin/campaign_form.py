"""The campaign settings form (pure): typed values from the fields, and back.

Percentages are typed as percentages (3 for 3 %) and stored as fractions. Keys
of the JSON columns that this form does not manage (the follow-up rules in
`recycle_rules`, say) are kept as they are.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from phonebank.admin import messages as m
from phonebank.admin.callerid import normalize_caller_id
from phonebank.admin.forms import Form
from phonebank.campaigns.amd import PARAMETERS
from phonebank.db.enums import DialMode, MachineAction
from phonebank.lists.windows import DAY_NAMES, PRESETS, WindowError, parse_window

WINDOW_CHOICES = ("", *PRESETS, "custom")  # "" = the preset of each callee's country
RETRY_KEYS = ("no_answer", "busy", "machine", "abandoned")
MAX_RETRY_MINUTES = 60 * 24 * 30


@dataclass(frozen=True)
class CampaignValues:
    name: str
    description: str
    briefing: str
    dial_mode: DialMode
    lines_cap: int | None
    abandon_target: float
    connect_limit_seconds: float
    max_attempts: int
    time_zone: str
    calling_window: dict[str, Any]
    caller_id: str | None
    caller_id_name: str | None
    amd_enabled: bool
    amd_settings: dict[str, Any]
    machine_action: MachineAction
    recycle_rules: dict[str, Any]
    record_calls: bool
    election_date: date | None


def _hours(text: str) -> list[list[str]]:
    """`10:00-13:00, 14:00-20:00` → [["10:00", "13:00"], ["14:00", "20:00"]]."""
    spans = []
    for part in text.replace(";", ",").split(","):
        if not part.strip():
            continue
        start, sep, end = part.partition("-")
        if not sep:
            raise WindowError(part)
        spans.append([start.strip(), end.strip()])
    return spans


def _window(form: Form) -> dict[str, Any]:
    choice = form.choice("window_preset", WINDOW_CHOICES, default="")
    if choice != "custom":
        return {"preset": choice} if choice else {}
    days: dict[str, list[list[str]]] = {}
    for day in DAY_NAMES:
        field = f"window_{day}"
        try:
            spans = _hours(form.raw(field))
            if spans:
                parse_window({"days": {day: spans}})
                days[day] = spans
        except WindowError:
            form.fail(field, m.BAD_HOURS)
    if not days and not any(f"window_{d}" in form.errors for d in DAY_NAMES):
        form.fail("window_preset", m.NO_HOURS)
    window: dict[str, Any] = {"days": days}
    if form.checkbox("window_holidays"):
        window["holidays"] = "FR"
    return window


def _time_zone(form: Form) -> str:
    zone = form.text("time_zone", required=True, max_length=64)
    if zone:
        try:
            ZoneInfo(zone)
        except (ZoneInfoNotFoundError, ValueError):
            form.fail("time_zone", m.NOT_A_TIME_ZONE)
    return zone


def _caller_id(form: Form) -> str | None:
    typed = form.text("caller_id", max_length=32)
    if not typed:
        return None
    e164 = normalize_caller_id(typed)
    if e164 is None:
        form.fail("caller_id", m.BAD_CALLER_ID)
    return e164


def parse_campaign(
    values: dict[str, str], stored_amd: dict[str, Any], stored_rules: dict[str, Any]
) -> tuple[CampaignValues | None, dict[str, str]]:
    """The campaign's settings, or None and the errors by field name."""
    form = Form(values)
    name = form.text("name", required=True, max_length=128)
    description = form.text("description", max_length=5000)
    briefing = form.text("briefing", max_length=20000)
    mode = form.choice("dial_mode", [d.value for d in DialMode])
    lines_cap = form.integer("lines_cap", low=1, high=1000)
    abandon = form.number("abandon_target", low=0, high=100, required=True)
    connect = form.number("connect_limit_seconds", low=0.5, high=10, required=True)
    attempts = form.integer("max_attempts", low=1, high=20, required=True)
    zone = _time_zone(form)
    window = _window(form)
    caller_id = _caller_id(form)
    caller_name = form.text("caller_id_name", max_length=64) or None
    machine = form.choice("machine_action", [a.value for a in MachineAction])
    amd = {k: v for k, v in stored_amd.items() if k not in {p.key for p in PARAMETERS}}
    amd.pop("accuracy", None)
    for parameter in PARAMETERS:
        value = form.integer(f"amd_{parameter.key}", low=parameter.low, high=parameter.high)
        if value is not None:
            amd[parameter.key] = value
    accuracy = form.number("amd_accuracy", low=50.5, high=100)
    if accuracy is not None:
        amd["accuracy"] = round(accuracy / 100, 4)
    rules = {k: v for k, v in stored_rules.items() if k not in (*RETRY_KEYS, "undecided_days")}
    for key in RETRY_KEYS:
        minutes = form.integer(f"retry_{key}", low=0, high=MAX_RETRY_MINUTES)
        if minutes is not None:
            rules[key] = minutes
    undecided = form.integer("undecided_days", low=1, high=365)
    if undecided is not None:
        rules["undecided_days"] = undecided
    election = form.day("election_date")
    if not form.ok:
        return None, form.errors
    assert abandon is not None and connect is not None and attempts is not None
    return (
        CampaignValues(
            name=name,
            description=description,
            briefing=briefing,
            dial_mode=DialMode(mode),
            lines_cap=lines_cap,
            abandon_target=round(abandon / 100, 6),
            connect_limit_seconds=connect,
            max_attempts=attempts,
            time_zone=zone,
            calling_window=window,
            caller_id=caller_id,
            caller_id_name=caller_name,
            amd_enabled=form.checkbox("amd_enabled"),
            amd_settings=amd,
            machine_action=MachineAction(machine),
            recycle_rules=rules,
            record_calls=form.checkbox("record_calls"),
            election_date=election,
        ),
        {},
    )


def _number(value: float) -> str:
    return f"{value:g}"


def window_fields(window: dict[str, Any] | None) -> dict[str, str]:
    window = window or {}
    out = {f"window_{day}": "" for day in DAY_NAMES}
    if "days" in window:
        out["window_preset"] = "custom"
        for day, spans in (window.get("days") or {}).items():
            out[f"window_{day}"] = ", ".join(f"{a}-{b}" for a, b in spans)
        out["window_holidays"] = "on" if window.get("holidays") else ""
    else:
        out["window_preset"] = str(window.get("preset", ""))
        out["window_holidays"] = ""
    return out


def campaign_fields(c: Any) -> dict[str, str]:
    """A stored campaign (a Campaign row) as the form's text fields."""
    amd = c.amd_settings or {}
    rules = c.recycle_rules or {}
    out = {
        "name": c.name,
        "description": c.description or "",
        "briefing": c.briefing or "",
        "dial_mode": str(c.dial_mode.value),
        "lines_cap": "" if c.lines_cap is None else str(c.lines_cap),
        "abandon_target": _number(c.abandon_target * 100),
        "connect_limit_seconds": _number(c.connect_limit_seconds),
        "max_attempts": str(c.max_attempts),
        "time_zone": c.time_zone,
        "caller_id": c.caller_id or "",
        "caller_id_name": c.caller_id_name or "",
        "amd_enabled": "on" if c.amd_enabled else "",
        "machine_action": str(c.machine_action.value),
        "amd_accuracy": _number(amd["accuracy"] * 100) if "accuracy" in amd else "",
        "record_calls": "on" if c.record_calls else "",
        "election_date": c.election_date.isoformat() if c.election_date else "",
        "undecided_days": str(rules.get("undecided_days", "")),
    }
    for parameter in PARAMETERS:
        out[f"amd_{parameter.key}"] = str(amd.get(parameter.key, ""))
    for key in RETRY_KEYS:
        out[f"retry_{key}"] = str(rules.get(key, ""))
    out.update(window_fields(c.calling_window))
    return out


def new_campaign_fields() -> dict[str, str]:
    """A new campaign's starting values: predictive, 3 %, French hours."""
    out = {
        "name": "",
        "description": "",
        "briefing": "",
        "dial_mode": DialMode.PREDICTIVE.value,
        "lines_cap": "",
        "abandon_target": "3",
        "connect_limit_seconds": "2",
        "max_attempts": "3",
        "time_zone": "Europe/Paris",
        "caller_id": "",
        "caller_id_name": "",
        "amd_enabled": "on",
        "machine_action": MachineAction.HANGUP.value,
        "amd_accuracy": "",
        "record_calls": "",
        "election_date": "",
        "undecided_days": "",
    }
    out.update({f"amd_{p.key}": "" for p in PARAMETERS})
    out.update({f"retry_{k}": "" for k in RETRY_KEYS})
    out.update(window_fields({"preset": "fr_voluntary"}))
    return out
