"""Recycling: what happens to a lead after a call, and whether it may be dialled now.

Pure rules, the clock passed in. The callee's calling window is a predicate
`callable_at(tz, when)` supplied by the caller (phonebank/lists/windows.py
provides the real one); these rules never dial when it says no.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from enum import StrEnum

from phonebank.db.enums import DispositionCategory, RecycleAction

CallableAt = Callable[[str, datetime], bool]
ABANDON_QUIET = timedelta(hours=72)  # no redial of an abandoned number within 72 h


class NetworkOutcome(StrEnum):
    NO_ANSWER = "no_answer"
    BUSY = "busy"
    MACHINE = "machine"
    ABANDONED = "abandoned"


class Verdict(StrEnum):
    RETRY = "retry"  # pending again from next_at
    CALLBACK = "callback"  # pending again at the agreed time, ahead of the others
    FINISH = "finish"  # no more calls (a supporter: e-mail follow-up instead)
    NEVER = "never"  # never call again (and the number leaves the callable set)
    EXHAUSTED = "exhausted"  # attempt limit reached


_NEVER_CATEGORIES = {
    DispositionCategory.OPPOSED,
    DispositionCategory.REFUSED,
    DispositionCategory.BAD_NUMBER,
    DispositionCategory.DO_NOT_CALL,
}


@dataclass(frozen=True)
class RecycleRules:
    max_attempts: int = 3
    # Minutes before the next try, per network outcome (campaign.recycle_rules overrides).
    retry_minutes: Mapping[str, int] = field(
        default_factory=lambda: {"no_answer": 180, "busy": 30, "machine": 240, "abandoned": 4320}
    )
    undecided_days: int = 7

    @classmethod
    def from_campaign(cls, max_attempts: int, rules: Mapping[str, object]) -> RecycleRules:
        base = cls(max_attempts=max_attempts)
        minutes = dict(base.retry_minutes)
        for key, value in rules.items():
            if key in minutes and isinstance(value, int) and value >= 0:
                minutes[key] = value
        days = rules.get("undecided_days")
        return replace(
            base,
            retry_minutes=minutes,
            undecided_days=days if isinstance(days, int) and days > 0 else base.undecided_days,
        )


@dataclass(frozen=True)
class Lead:
    id: int
    tz: str
    attempts: int = 0
    next_at: datetime | None = None
    last_abandoned_at: datetime | None = None
    callback_at: datetime | None = None
    do_not_call: bool = False
    closed: bool = False  # finished, never or exhausted
    priority: int = 0


@dataclass(frozen=True)
class Decision:
    verdict: Verdict
    next_at: datetime | None = None


def _retry(lead: Lead, rules: RecycleRules, at: datetime) -> Decision:
    if lead.attempts >= rules.max_attempts:
        return Decision(Verdict.EXHAUSTED)
    return Decision(Verdict.RETRY, at)


def after_network(
    outcome: NetworkOutcome, lead: Lead, rules: RecycleRules, now: datetime
) -> Decision:
    """After a call that reached no volunteer; `lead.attempts` already counts it."""
    delay = timedelta(minutes=rules.retry_minutes.get(outcome.value, 180))
    if outcome is NetworkOutcome.ABANDONED:
        delay = max(delay, ABANDON_QUIET)
    return _retry(lead, rules, now + delay)


def after_disposition(
    *,
    action: RecycleAction,
    category: DispositionCategory,
    retry_delay_minutes: int | None,
    lead: Lead,
    rules: RecycleRules,
    now: datetime,
    callback_at: datetime | None = None,
) -> Decision:
    """After a volunteer recorded a disposition (the Disposition row's rule)."""
    if action is RecycleAction.NEVER or category in _NEVER_CATEGORIES:
        return Decision(Verdict.NEVER)
    if action is RecycleAction.FINISH or category is DispositionCategory.SUPPORTER:
        return Decision(Verdict.FINISH)
    if action is RecycleAction.CALLBACK and callback_at is not None:
        # An agreed callback is honoured even past the attempt limit: the callee asked.
        return Decision(Verdict.CALLBACK, callback_at)
    if retry_delay_minutes is not None:
        delay = timedelta(minutes=retry_delay_minutes)
    else:
        delay = timedelta(days=rules.undecided_days)
    return _retry(lead, rules, now + delay)


def may_dial(lead: Lead, now: datetime, callable_at: CallableAt, rules: RecycleRules) -> bool:
    """Every rule a dial must pass, whatever chose the lead."""
    if lead.do_not_call or lead.closed:
        return False
    if lead.callback_at is None and lead.attempts >= rules.max_attempts:
        return False
    if lead.last_abandoned_at is not None and now - lead.last_abandoned_at < ABANDON_QUIET:
        return False
    due = lead.callback_at or lead.next_at
    if due is not None and due > now:
        return False
    return callable_at(lead.tz, now)


def next_leads(
    leads: Iterable[Lead],
    now: datetime,
    callable_at: CallableAt,
    rules: RecycleRules,
    limit: int,
) -> list[Lead]:
    """Up to `limit` dialable leads: due callbacks first (earliest first), then by priority."""
    ok = [lead for lead in leads if may_dial(lead, now, callable_at, rules)]
    callbacks = sorted(
        (x for x in ok if x.callback_at is not None), key=lambda x: x.callback_at or now
    )
    others = sorted(
        (x for x in ok if x.callback_at is None),
        key=lambda x: (-x.priority, x.next_at or datetime.min.replace(tzinfo=now.tzinfo), x.id),
    )
    return (callbacks + others)[: max(0, limit)]
