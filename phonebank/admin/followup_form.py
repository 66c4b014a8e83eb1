"""The follow-up forms (pure): a send to a segment, and a campaign's automatic follow-ups.

A send's conditions are the call list builder's fields plus the segment's own
(latest outcome, disposition, consent), turned into the `--where` items that
`phonebank sms|email segment` takes, each checked alone so that an error lands
on its own field. Times are typed in the campaign's zone and kept in UTC.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

from phonebank.admin import messages as m
from phonebank.admin.forms import Form
from phonebank.admin.list_form import TARGET_FIELDS
from phonebank.db.enums import DispositionCategory, FollowUpChannel, SupportLevel
from phonebank.followup.errors import EncodingError, FollowUpError
from phonebank.followup.gsm import (
    BASIC,
    ESCAPE,
    EXTENSION,
    GSM_PART,
    GSM_SINGLE,
    UCS2_PART,
    UCS2_SINGLE,
    Alphabet,
    choose_alphabet,
    split_text,
)
from phonebank.followup.merge import EMAIL_FIELDS, MergeFieldError, available_fields, text_fields
from phonebank.followup.segments import parse_segment

N_ = m.N_

NO_CONDITION = N_("Choose at least one condition: a send to a whole campaign is not allowed.")
NOBODY = N_("Nobody in this segment can receive this message.")
UNKNOWN_FIELD = N_("This merge field does not exist:")
BAD_BRACES = N_("Write merge fields as {first_name}; a lone brace is written {{ or }}.")
TOO_MANY_PARTS = N_("This text is too long even for a concatenated SMS.")
BAD_CONSTANT = N_("Write one field per line as name=value; the name in letters, digits and _.")
BAD_DATE_TIME = N_("Type a date and a time, such as 2026-11-30 18:00.")
IN_THE_PAST = N_("This time has already passed.")
BAD_TIME = N_("Type a time as HH:MM.")
NO_TEMPLATE = N_("This e-mail template does not exist.")
BAD_TEMPLATE = N_("This e-mail template cannot be used:")
BAD_RULE_ID = N_("Use a short name without a colon; it keys each message of this follow-up.")
RULE_ID_TAKEN = N_("Two follow-ups have this name.")
NO_OUTCOME = N_("Choose at least one outcome or disposition.")
SEND_QUEUED = N_("The messages are queued; the service sends them now.")
SEND_SCHEDULED = N_("The send is scheduled.")
SEND_ALREADY = N_("This send was already queued: nothing was queued twice.")
SEND_CANCELLED = N_("The send is cancelled; its messages not sent yet are withdrawn.")
SEND_NOT_CANCELLED = N_("This send can no longer be cancelled.")
RULES_SAVED = N_("The automatic follow-ups are saved.")
NOTICES = {
    "send_queued": SEND_QUEUED,
    "send_scheduled": SEND_SCHEDULED,
    "send_already": SEND_ALREADY,
    "send_cancelled": SEND_CANCELLED,
    "send_not_cancelled": SEND_NOT_CANCELLED,
    "rules_saved": RULES_SAVED,
}
m.NOTICES.update(NOTICES)

CHANNELS = tuple(c.value for c in FollowUpChannel)
WHEN_CHOICES = ("now", "at")
TRIGGER_WHEN = ("after", "before_election", "at")
# Multi-valued fields of the send form (checkbox groups).
SEND_LISTS = ("support", "outcome", "disposition")


@dataclass
class Checked:
    """A form's errors by field, and what an error names (a merge field, a line)."""

    form: Form
    details: dict[str, str] = field(default_factory=dict)
    # Rules editor: each kept rule's id → the prefix of its row's fields.
    rows: dict[str, str] = field(default_factory=dict)

    @property
    def errors(self) -> dict[str, str]:
        return self.form.errors

    def fail(self, name: str, message: str, detail: str = "") -> None:
        if name not in self.form.errors and detail:
            self.details[name] = detail
        self.form.fail(name, message)

    @property
    def ok(self) -> bool:
        return self.form.ok


@dataclass(frozen=True)
class SendRequest:
    channel: FollowUpChannel
    where: tuple[str, ...]
    content: str  # SMS text or e-mail template name
    constants: dict[str, str]
    at: datetime | None  # UTC; None = now


def local_to_utc(text: str, zone: str) -> datetime:
    """`2026-11-30 18:00` or `2026-11-30T18:00` in `zone` → UTC; ValueError if unreadable."""
    naive = datetime.fromisoformat(text.strip())
    if naive.tzinfo is not None:
        return naive.astimezone(UTC)
    return naive.replace(tzinfo=ZoneInfo(zone)).astimezone(UTC)


def utc_to_local(moment: datetime, zone: str) -> str:
    return moment.astimezone(ZoneInfo(zone)).strftime("%Y-%m-%d %H:%M")


def parse_constants(text: str) -> tuple[dict[str, str], str]:
    """`name=value` lines → constants; ("", the bad line) on the first unreadable line."""
    out: dict[str, str] = {}
    for line in text.splitlines():
        if not line.strip():
            continue
        name, sep, value = line.partition("=")
        if not sep or not name.strip().isidentifier():
            return {}, line.strip()
        out[name.strip()] = value.strip()
    return out, ""


def unknown_fields(used: Iterable[str], available: Iterable[str]) -> list[str]:
    known = set(available)
    return [name for name in used if name not in known]


def check_sms_text(checked: Checked, name: str, text: str, constants: Mapping[str, str]) -> None:
    """Merge fields known, braces balanced, not longer than a concatenated SMS."""
    try:
        used = text_fields(text)
    except MergeFieldError:
        checked.fail(name, BAD_BRACES)
        return
    unknown = unknown_fields(used, available_fields(constants))
    if unknown:
        checked.fail(name, UNKNOWN_FIELD, " ".join("{" + u + "}" for u in unknown))
        return
    try:
        split_text(text)
    except EncodingError:
        checked.fail(name, TOO_MANY_PARTS)


def check_template_fields(
    checked: Checked, name: str, used: Iterable[str], constants: Mapping[str, str]
) -> None:
    unknown = unknown_fields(sorted(used), (*available_fields(constants), *EMAIL_FIELDS))
    if unknown:
        checked.fail(name, UNKNOWN_FIELD, " ".join("{{ " + u + " }}" for u in unknown))


def _check_item(checked: Checked, name: str, item: str) -> str | None:
    try:
        parse_segment([item])
    except FollowUpError:
        checked.fail(name, m.UNKNOWN_CHOICE)
        return None
    return item


def segment_items(
    checked: Checked, lists: Mapping[str, Sequence[str]], dispositions: Iterable[str]
) -> list[str]:
    """The builder's fields and the segment's own as `--where` items."""
    form = checked.form
    items: list[str] = []
    chosen = [s.value for s in SupportLevel if s.value in lists.get("support", ())]
    if chosen:
        items.append("support=" + ",".join(chosen))
    for name in TARGET_FIELDS:
        raw = form.text(name, max_length=2000)
        if raw:
            item = _check_item(checked, name, f"{name}={raw}")
            if item:
                items.append(item)
    low = form.integer("age_min", low=0, high=130)
    high = form.integer("age_max", low=0, high=130)
    if low is not None and high is not None and low > high:
        checked.fail("age_min", m.AGE_ORDER)
    elif low is not None or high is not None:
        items.append(f"age={'' if low is None else low}-{'' if high is None else high}")
    if form.checkbox("never_contacted"):
        items.append("never_contacted")
    since = form.day("not_contacted_since")
    if since is not None:
        items.append(f"not_contacted_since={since.isoformat()}")
    outcomes = [c.value for c in DispositionCategory if c.value in lists.get("outcome", ())]
    if outcomes:
        items.append("outcome=" + ",".join(outcomes))
    codes = [code for code in dispositions if code in lists.get("disposition", ())]
    if codes:
        items.append("disposition=" + ",".join(codes))
    if form.checkbox("consent"):
        items.append("consent")
    return items


def parse_send(
    values: Mapping[str, str],
    lists: Mapping[str, Sequence[str]],
    *,
    dispositions: Iterable[str],
    zone: str,
    now: datetime,
) -> tuple[SendRequest | None, Checked]:
    """The send form → a request; merge fields of an e-mail template are checked later
    (they need the template), everything else here."""
    checked = Checked(Form(values))
    form = checked.form
    channel = form.choice("channel", CHANNELS, default=FollowUpChannel.SMS.value)
    where = segment_items(checked, lists, dispositions)
    if not where and checked.ok:
        checked.fail("conditions", NO_CONDITION)
    constants, bad_line = parse_constants(values.get("fields", ""))
    if bad_line:
        checked.fail("fields", BAD_CONSTANT, bad_line)
    content = ""
    if channel == FollowUpChannel.SMS.value:
        content = values.get("text", "").strip()
        if not content:
            checked.fail("text", m.REQUIRED)
        elif not bad_line:
            check_sms_text(checked, "text", content, constants)
    elif channel == FollowUpChannel.EMAIL.value:
        content = form.text("template", required=True, max_length=64)
    at = None
    if form.choice("when", WHEN_CHOICES, default="now") == "at":
        raw = form.raw("at")
        try:
            at = local_to_utc(raw, zone)
        except ValueError:
            checked.fail("at", m.REQUIRED if not raw else BAD_DATE_TIME)
        else:
            if at < now:
                checked.fail("at", IN_THE_PAST)
    if not checked.ok:
        return None, checked
    request = SendRequest(FollowUpChannel(channel), tuple(where), content, constants, at)
    return request, checked


@dataclass(frozen=True)
class SmsCount:
    """How one text goes out: alphabet, characters, units (septets or UTF-16), parts."""

    alphabet: Alphabet
    characters: int
    units: int
    parts: int
    per_part: int


def sms_count(text: str) -> SmsCount | None:
    """The count gsm.split_text gives; None when the text is too long to send at all."""
    try:
        parts = split_text(text)
    except EncodingError:
        return None
    alphabet = choose_alphabet(text)
    units = sum(p.units for p in parts)
    if alphabet is Alphabet.GSM7:
        per_part = GSM_SINGLE if len(parts) == 1 else GSM_PART
    else:
        per_part = UCS2_SINGLE if len(parts) == 1 else UCS2_PART
    return SmsCount(alphabet, len(text), units, len(parts), per_part)


@dataclass(frozen=True)
class SmsTotals:
    """Every personalised text of a send: messages, SMS parts, those needing UCS-2."""

    messages: int = 0
    parts: int = 0
    ucs2: int = 0
    longest: int = 0


def sms_totals(texts: Iterable[str]) -> SmsTotals:
    messages = parts = ucs2 = longest = 0
    for text in texts:
        count = sms_count(text)
        if count is None:
            continue
        messages += 1
        parts += count.parts
        longest = max(longest, count.parts)
        ucs2 += count.alphabet is Alphabet.UCS2
    return SmsTotals(messages, parts, ucs2, longest)


def gsm_alphabet() -> dict[str, Any]:
    """The GSM 7-bit tables for the page's live counter (the same tables the modem uses)."""
    return {
        "basic": "".join(c for i, c in enumerate(BASIC) if i != ESCAPE),
        "extension": "".join(EXTENSION.values()),
        "limits": [GSM_SINGLE, GSM_PART, UCS2_SINGLE, UCS2_PART],
    }


# -- the automatic follow-ups (rules) ----------------------------------------------


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
