"""A campaign's follow-up rules: consent, do-not-call, and triggers on outcomes. Pure.

Kept as JSON under the campaign (see `phonebank.followup.policy_store`):

    {"require_consent": ["sms", "email"],    # channels that need recorded consent
     "dnc_blocks_sms": true,                  # a number on do-not-call gets no SMS either
     "triggers": [
       {"id": "thanks", "outcome": ["supporter"], "email": "thanks"},
       {"id": "j-2", "outcome": ["undecided"], "days_before_election": 2, "time": "18:00",
        "sms": "Bonjour {first_name}, on vote dimanche ! Bureau {precinct}."},
       {"id": "rally", "disposition": ["undecided"], "at": "2026-11-30 18:00",
        "sms": "Meeting ce soir 20h30"}]}

A trigger without `at` or `days_before_election` fires `after_minutes` (default 0)
after the outcome is recorded; a dated one fires at its time for every contact
whose latest outcome then matches. Each fires once per contact.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from phonebank.db.enums import DispositionCategory, FollowUpChannel
from phonebank.followup.errors import FollowUpError

# What a campaign gets before it says otherwise: the strict reading (French law asks for
# prior consent before political SMS and e-mail to people who never contacted the party).
DEFAULT_CONSENT = frozenset({FollowUpChannel.SMS, FollowUpChannel.EMAIL})
# A dated trigger that could not fire on time (service down) still fires within this.
DATED_GRACE = timedelta(hours=24)
# An immediate trigger looks at outcomes recorded this far back at most.
LOOKBACK = timedelta(days=7)

_TRIGGER_KEYS = {
    "id",
    "outcome",
    "disposition",
    "sms",
    "email",
    "after_minutes",
    "at",
    "days_before_election",
    "time",
    "fields",
    "since",
}


class RulesError(FollowUpError):
    """A campaign's follow-up rules cannot be read; says which rule and which key."""

    code = "bad_followup_rules"


def parse_local(text: str, zone: str) -> datetime:
    """`2026-11-30 18:00` in the campaign's zone → UTC; RulesError if unreadable."""
    try:
        naive = datetime.fromisoformat(text.strip())
    except ValueError:
        raise RulesError(f"{text!r}: expected a date and time such as 2026-11-30 18:00") from None
    if naive.tzinfo is not None:
        return naive.astimezone(UTC)
    return naive.replace(tzinfo=_zone(zone)).astimezone(UTC)


def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise RulesError(f"unknown time zone {name!r}") from None


@dataclass(frozen=True)
class Trigger:
    id: str
    channel: FollowUpChannel
    # The SMS text, or the e-mail template's name.
    content: str
    categories: tuple[DispositionCategory, ...] = ()
    dispositions: tuple[str, ...] = ()
    after: timedelta = timedelta(0)
    at: str | None = None  # local date and time
    days_before_election: int | None = None
    at_time: time = time(18, 0)
    fields: Mapping[str, str] = field(default_factory=dict)
    # Outcomes recorded before this do not fire it (a rule added today leaves last week alone).
    since: datetime | None = None

    @property
    def dated(self) -> bool:
        return self.at is not None or self.days_before_election is not None

    def matches(self, code: str, category: DispositionCategory) -> bool:
        return code in self.dispositions or category in self.categories

    def due_at(self, zone: str, election: date | None) -> datetime | None:
        """When a dated trigger fires (UTC); None when it has no date yet (no election date)."""
        if self.at is not None:
            return parse_local(self.at, zone)
        if self.days_before_election is None or election is None:
            return None
        day = election - timedelta(days=self.days_before_election)
        return datetime.combine(day, self.at_time, tzinfo=_zone(zone)).astimezone(UTC)

    def dated_window_open(self, now: datetime, zone: str, election: date | None) -> bool:
        due = self.due_at(zone, election)
        return due is not None and due <= now < due + DATED_GRACE

    def outcomes_from(self, now: datetime) -> datetime:
        """Immediate trigger: the oldest outcome time still worth looking at."""
        oldest = now - LOOKBACK - self.after
        return max(oldest, self.since) if self.since else oldest


@dataclass(frozen=True)
class FollowUpRules:
    require_consent: frozenset[FollowUpChannel] = DEFAULT_CONSENT
    dnc_blocks_sms: bool = True
    triggers: tuple[Trigger, ...] = ()

    def needs_consent(self, channel: FollowUpChannel) -> bool:
        return channel in self.require_consent


def _strings(value: Any, where: str) -> tuple[str, ...]:
    if isinstance(value, str):
        value = [v for v in value.split(",")]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise RulesError(f"{where}: expected a list of names, got {value!r}")
    return tuple(v.strip().lower() for v in value if v.strip())


def _trigger(data: Any, index: int) -> Trigger:
    where = f"triggers[{index}]"
    if not isinstance(data, dict):
        raise RulesError(f"{where}: expected an object, got {data!r}")
    unknown = set(data) - _TRIGGER_KEYS
    if unknown:
        raise RulesError(f"{where}: unknown key(s) {sorted(unknown)}")
    rule_id = data.get("id")
    if not isinstance(rule_id, str) or not rule_id.strip() or ":" in rule_id:
        raise RulesError(f"{where}: 'id' must be a name without ':' (it keys each send)")
    where = f"trigger {rule_id!r}"
    channels = [c for c in ("sms", "email") if c in data]
    if len(channels) != 1 or not isinstance(data[channels[0]], str) or not data[channels[0]]:
        raise RulesError(f"{where}: give exactly one of 'sms' (the text) or 'email' (a template)")
    categories: list[DispositionCategory] = []
    for name in _strings(data.get("outcome", []), f"{where}.outcome"):
        try:
            categories.append(DispositionCategory(name))
        except ValueError:
            known = ", ".join(c.value for c in DispositionCategory)
            raise RulesError(f"{where}.outcome: unknown {name!r} (known: {known})") from None
    dispositions = _strings(data.get("disposition", []), f"{where}.disposition")
    if not categories and not dispositions:
        raise RulesError(f"{where}: say which outcomes fire it ('outcome' or 'disposition')")
    kw: dict[str, Any] = {}
    after = data.get("after_minutes", 0)
    if not isinstance(after, int) or after < 0:
        raise RulesError(f"{where}.after_minutes: expected a whole number ≥ 0, got {after!r}")
    kw["after"] = timedelta(minutes=after)
    if "at" in data and "days_before_election" in data:
        raise RulesError(f"{where}: give 'at' or 'days_before_election', not both")
    if "at" in data:
        if not isinstance(data["at"], str):
            raise RulesError(f"{where}.at: expected 'YYYY-MM-DD HH:MM'")
        parse_local(data["at"], "UTC")  # readable; the zone is the campaign's
        kw["at"] = data["at"]
    if "days_before_election" in data:
        days = data["days_before_election"]
        if not isinstance(days, int) or days < 0:
            raise RulesError(f"{where}.days_before_election: expected a whole number ≥ 0")
        kw["days_before_election"] = days
    if "time" in data:
        try:
            kw["at_time"] = time.fromisoformat(str(data["time"]))
        except ValueError:
            raise RulesError(f"{where}.time: expected HH:MM, got {data['time']!r}") from None
    fields = data.get("fields", {})
    if not isinstance(fields, dict):
        raise RulesError(f"{where}.fields: expected an object of constants")
    if "since" in data:
        try:
            since = datetime.fromisoformat(str(data["since"]))
        except ValueError:
            raise RulesError(f"{where}.since: expected an ISO date and time") from None
        kw["since"] = since if since.tzinfo else since.replace(tzinfo=UTC)
    return Trigger(
        id=rule_id.strip(),
        channel=FollowUpChannel(channels[0]),
        content=data[channels[0]],
        categories=tuple(categories),
        dispositions=dispositions,
        fields={str(k): str(v) for k, v in fields.items()},
        **kw,
    )


def parse_rules(data: Any) -> FollowUpRules:
    """The campaign's JSON → FollowUpRules; an empty or missing object gives the defaults."""
    if data is None or data == {}:
        return FollowUpRules()
    if not isinstance(data, dict):
        raise RulesError(f"follow-up rules: expected an object, got {data!r}")
    unknown = set(data) - {"require_consent", "dnc_blocks_sms", "triggers"}
    if unknown:
        raise RulesError(f"follow-up rules: unknown key(s) {sorted(unknown)}")
    consent = DEFAULT_CONSENT
    if "require_consent" in data:
        names = _strings(data["require_consent"], "require_consent")
        try:
            consent = frozenset(FollowUpChannel(name) for name in names)
        except ValueError:
            raise RulesError(f"require_consent: channels are sms and email, got {names}") from None
    dnc = data.get("dnc_blocks_sms", True)
    if not isinstance(dnc, bool):
        raise RulesError("dnc_blocks_sms: expected true or false")
    raw = data.get("triggers", [])
    if not isinstance(raw, list):
        raise RulesError("triggers: expected a list")
    triggers = tuple(_trigger(item, index) for index, item in enumerate(raw))
    ids = [t.id for t in triggers]
    duplicates = sorted({i for i in ids if ids.count(i) > 1})
    if duplicates:
        raise RulesError(f"triggers: ids must differ; repeated: {duplicates}")
    return FollowUpRules(consent, dnc, triggers)


def stamp_new_triggers(
    new: Mapping[str, Any], old: Mapping[str, Any], now: datetime
) -> dict[str, Any]:
    """Give each trigger not in `old` a `since` of now, so it leaves past outcomes alone."""
    known = {t.get("id") for t in old.get("triggers", []) if isinstance(t, dict)}
    out = dict(new)
    stamped = []
    for item in new.get("triggers", []):
        if isinstance(item, dict) and item.get("id") not in known and "since" not in item:
            item = {**item, "since": now.isoformat()}
        stamped.append(item)
    if "triggers" in new:
        out["triggers"] = stamped
    return out
