"""The follow-up forms (pure): a send to a segment, and a campaign's automatic follow-ups.

A send's conditions are the call list builder's fields plus the segment's own
(latest outcome, disposition, consent), turned into the `--where` items that
`phonebank sms|email segment` takes, each checked alone so that an error lands
on its own field. Times are typed in the campaign's zone and kept in UTC.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from phonebank.admin import messages as m
from phonebank.admin.forms import Form
from phonebank.admin.list_form import target_items
from phonebank.db.enums import DispositionCategory, FollowUpChannel
from phonebank.followup.errors import EncodingError
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


def segment_items(
    checked: Checked, lists: Mapping[str, Sequence[str]], dispositions: Iterable[str]
) -> list[str]:
    """The builder's fields and the segment's own as `--where` items."""
    form = checked.form
    items = target_items(form, lists.get("support", ()))
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
