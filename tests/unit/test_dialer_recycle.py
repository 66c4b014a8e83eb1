"""Recycling rules and abandon accounting, with property tests of the rules."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from phonebank.db.enums import DispositionCategory, RecycleAction
from phonebank.dialer.abandon import AbandonLedger, estimated_false_positives
from phonebank.dialer.recycle import (
    ABANDON_QUIET,
    Decision,
    Lead,
    NetworkOutcome,
    RecycleRules,
    Verdict,
    after_disposition,
    after_network,
    may_dial,
    next_leads,
)

NOW = datetime(2025, 3, 10, 15, 0, tzinfo=UTC)
RULES = RecycleRules(max_attempts=3)


def always(tz: str, when: datetime) -> bool:
    return True


def test_network_outcomes_retry_until_the_limit() -> None:
    d = after_network(NetworkOutcome.BUSY, Lead(1, "Europe/Paris", attempts=1), RULES, NOW)
    assert d == Decision(Verdict.RETRY, NOW + timedelta(minutes=30))
    d = after_network(NetworkOutcome.NO_ANSWER, Lead(1, "Europe/Paris", attempts=3), RULES, NOW)
    assert d.verdict is Verdict.EXHAUSTED


def test_abandoned_waits_at_least_72_hours() -> None:
    rules = RecycleRules.from_campaign(5, {"abandoned": 10})
    d = after_network(NetworkOutcome.ABANDONED, Lead(1, "UTC", attempts=1), rules, NOW)
    assert d.next_at == NOW + ABANDON_QUIET


@pytest.mark.parametrize(
    ("category", "action", "verdict"),
    [
        (DispositionCategory.SUPPORTER, RecycleAction.FINISH, Verdict.FINISH),
        (DispositionCategory.OPPOSED, RecycleAction.NEVER, Verdict.NEVER),
        (DispositionCategory.REFUSED, RecycleAction.NEVER, Verdict.NEVER),
        (DispositionCategory.BAD_NUMBER, RecycleAction.NEVER, Verdict.NEVER),
        (DispositionCategory.DO_NOT_CALL, RecycleAction.RETRY, Verdict.NEVER),
        (DispositionCategory.UNDECIDED, RecycleAction.RETRY, Verdict.RETRY),
    ],
)
def test_dispositions(
    category: DispositionCategory, action: RecycleAction, verdict: Verdict
) -> None:
    d = after_disposition(
        action=action, category=category, retry_delay_minutes=None,
        lead=Lead(1, "UTC", attempts=1), rules=RULES, now=NOW,
    )  # fmt: skip
    assert d.verdict is verdict
    if verdict is Verdict.RETRY:
        assert d.next_at == NOW + timedelta(days=RULES.undecided_days)


def test_callbacks_come_first_at_their_time() -> None:
    cb = after_disposition(
        action=RecycleAction.CALLBACK, category=DispositionCategory.CALLBACK,
        retry_delay_minutes=None, lead=Lead(1, "UTC", attempts=3), rules=RULES, now=NOW,
        callback_at=NOW + timedelta(hours=2),
    )  # fmt: skip
    assert cb.verdict is Verdict.CALLBACK
    leads = [
        Lead(1, "UTC", priority=9),
        Lead(2, "UTC", attempts=3, callback_at=NOW + timedelta(hours=2)),
    ]
    assert [x.id for x in next_leads(leads, NOW, always, RULES, 5)] == [1]
    later = NOW + timedelta(hours=2)
    assert [x.id for x in next_leads(leads, later, always, RULES, 5)] == [2, 1]


leads = st.builds(
    Lead,
    id=st.integers(1, 10**6),
    tz=st.sampled_from(["Europe/Paris", "Indian/Reunion", "America/Martinique"]),
    attempts=st.integers(0, 6),
    next_at=st.none() | st.datetimes(timezones=st.just(UTC)),
    last_abandoned_at=st.none() | st.datetimes(timezones=st.just(UTC)),
    callback_at=st.none() | st.datetimes(timezones=st.just(UTC)),
    do_not_call=st.booleans(),
    closed=st.booleans(),
    priority=st.integers(-3, 3),
)


@given(
    st.lists(leads, max_size=30),
    st.datetimes(timezones=st.just(UTC)),
    st.frozensets(st.sampled_from(["Europe/Paris", "Indian/Reunion", "America/Martinique"])),
    st.integers(1, 5),
)
def test_rules_are_never_broken(
    pool: list[Lead], now: datetime, open_zones: frozenset[str], max_attempts: int
) -> None:
    rules = RecycleRules(max_attempts=max_attempts)

    def window(tz: str, when: datetime) -> bool:
        return tz in open_zones

    for lead in next_leads(pool, now, window, rules, 10):
        assert not lead.do_not_call
        assert window(lead.tz, now)
        assert lead.callback_at is not None or lead.attempts < max_attempts
        assert lead.last_abandoned_at is None or now - lead.last_abandoned_at >= ABANDON_QUIET
        assert (lead.callback_at or lead.next_at or now) <= now


@given(st.sampled_from(list(NetworkOutcome)), st.integers(0, 8), st.integers(1, 5))
def test_after_network_never_passes_the_limit(
    outcome: NetworkOutcome, attempts: int, max_attempts: int
) -> None:
    d = after_network(outcome, Lead(1, "UTC", attempts=attempts), RecycleRules(max_attempts), NOW)
    if attempts >= max_attempts:
        assert d.verdict is Verdict.EXHAUSTED
    else:
        assert d.next_at is not None and d.next_at > NOW
        if outcome is NetworkOutcome.ABANDONED:
            assert d.next_at - NOW >= ABANDON_QUIET


def test_may_dial_respects_the_window() -> None:
    assert not may_dial(Lead(1, "UTC"), NOW, lambda tz, when: False, RULES)
    assert may_dial(Lead(1, "UTC"), NOW, always, RULES)


def test_abandon_ledger_per_day_and_rolling() -> None:
    ledger = AbandonLedger()
    for i in range(100):
        ledger.record_live_answer("c1", date(2025, 3, 1), abandoned=i < 2)
    ledger.record_live_answer("c1", date(2025, 3, 20), abandoned=True)
    assert ledger.day("c1", date(2025, 3, 1)).rate == pytest.approx(0.02)
    assert ledger.rolling("c1", date(2025, 3, 20)).abandoned == 3
    assert ledger.rolling("c1", date(2025, 4, 5)).abandoned == 1  # 1 March has rolled out
    assert ledger.over_target("c1", date(2025, 3, 20), 0.03)
    assert not ledger.over_target("c1", date(2025, 3, 2), 0.03)
    assert ledger.day("other", date(2025, 3, 1)).rate == 0.0


def test_amd_false_positives_are_estimated_and_counted() -> None:
    # 100 humans and 100 machines through a 90 % AMD: 90 + 10 human verdicts, 10 + 90 machine.
    fp = estimated_false_positives(human_verdicts=100, machine_verdicts=100, accuracy=0.9)
    assert fp == pytest.approx(10.0)
    ledger = AbandonLedger(amd_accuracy=0.9)
    for _ in range(100):
        ledger.record_human_verdict("c", date(2025, 3, 1))
        ledger.record_machine_verdict("c", date(2025, 3, 1))
    for _ in range(90):
        ledger.record_live_answer("c", date(2025, 3, 1), abandoned=False)
    assert ledger.day("c", date(2025, 3, 1)).rate == pytest.approx(10 / 100)
    with pytest.raises(ValueError, match="accuracy"):
        AbandonLedger(amd_accuracy=0.4)
