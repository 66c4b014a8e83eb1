"""The pacer and the learned statistics, on a simulated clock."""

from __future__ import annotations

import pytest

from phonebank.db.enums import DialMode
from phonebank.dialer.floor import (
    CampaignSettings,
    FloorSnapshot,
    LineState,
    LineView,
    StationState,
    StationView,
)
from phonebank.dialer.pacing import PhonebankPacer, ProgressivePolicy
from phonebank.dialer.stats import CallOutcome, EmpiricalDistribution, FloorStats


def floor(
    *, ready: int = 0, talking: tuple[float, ...] = (), ringing: tuple[float, ...] = (),
    mode: DialMode = DialMode.PREDICTIVE, cap: int | None = None, bridged: int = 0,
) -> FloorSnapshot:  # fmt: skip
    stations = [StationView(StationState.READY, 0.0) for _ in range(ready)]
    stations += [StationView(StationState.TALKING, since) for since in talking]
    return FloorSnapshot(
        settings=CampaignSettings(mode=mode, lines_cap=cap),
        stations=tuple(stations),
        lines=tuple(LineView(LineState.RINGING, since) for since in ringing),
        bridged=bridged,
    )


def test_empirical_distribution_moves_from_prior_to_data() -> None:
    dist = EmpiricalDistribution([100.0] * 10, prior_weight=10)
    assert dist.survival(50) == 1.0
    for _ in range(990):
        dist.add(10.0)
    assert dist.survival(50) == pytest.approx(0.01)
    assert dist.conditional_end(0, 20) == pytest.approx(0.99)
    assert dist.mean() == pytest.approx(10.9)


def test_conditional_end_uses_elapsed_time() -> None:
    dist = EmpiricalDistribution([float(x) for x in range(1, 301)], prior_weight=300)
    # Someone who has talked 250 s of a uniform 1..300 s call frees up sooner.
    assert dist.conditional_end(250, 20) > dist.conditional_end(0, 20) * 5


def test_outcome_shares_learn() -> None:
    stats = FloorStats()
    for _ in range(400):
        stats.record_line(CallOutcome.HUMAN, 8.0)
    assert stats.shares.share(CallOutcome.HUMAN) > 0.9


def test_preview_places_nothing_and_progressive_one_per_ready_station() -> None:
    stats = FloorStats()
    assert PhonebankPacer().decide(floor(ready=5, mode=DialMode.PREVIEW), stats, 10.0) == 0
    snap = floor(ready=5, ringing=(9.0, 9.5), mode=DialMode.PROGRESSIVE)
    assert PhonebankPacer().decide(snap, stats, 10.0) == 3
    assert ProgressivePolicy().decide(snap, stats, 10.0) == 3


def seasoned(stats: FloorStats | None = None) -> FloorStats:
    """Stats after a hundred lines resolved in the prior's proportions (past the ramp)."""
    stats = stats or FloorStats()
    mix = {CallOutcome.HUMAN: 20, CallOutcome.MACHINE: 20, CallOutcome.NO_ANSWER: 50}
    mix |= {CallOutcome.BUSY: 5, CallOutcome.INVALID: 5}
    for outcome, count in mix.items():
        for _ in range(count):
            stats.record_line(outcome, 12.0)
    return stats


def test_predictive_dials_ahead_of_ready_stations() -> None:
    calls = PhonebankPacer().decide(floor(ready=5), seasoned(), 0.0)
    # One human in five answers: several lines per ready volunteer.
    assert 5 < calls <= 30


def test_a_cold_start_ramps_up_from_progressive_as_lines_resolve() -> None:
    pacer = PhonebankPacer()
    # Nothing observed: the prior is a guess, one line per ready station.
    assert pacer.decide(floor(ready=15), FloorStats(), 0.0) <= 15
    half = FloorStats()
    for _ in range(15):  # half the ramp's lines
        half.record_line(CallOutcome.NO_ANSWER, 20.0)
    assert pacer.decide(floor(ready=15), half, 0.0) <= 15 + 7
    assert pacer.decide(floor(ready=15), seasoned(), 0.0) > 15 + 7


def test_nobody_logged_in_means_no_calls() -> None:
    assert PhonebankPacer().decide(floor(), FloorStats(), 0.0) == 0


def test_lines_cap_always_holds() -> None:
    snap = floor(ready=10, ringing=(0.0,) * 3, bridged=2, cap=8)
    assert PhonebankPacer().decide(snap, FloorStats(), 1.0) <= 3
    assert PhonebankPacer().decide(floor(ready=10, bridged=8, cap=8), FloorStats(), 1.0) == 0


def test_long_talks_free_up_sooner_so_it_dials_more() -> None:
    stats = seasoned()
    for i in range(500):
        stats.record_talk(100.0 + (i % 50))  # talks last 100-150 s
        stats.record_wrap(2.0)
    pacer = PhonebankPacer()
    fresh = pacer.decide(floor(talking=(1000.0,) * 10), stats, 1010.0)
    ending = pacer.decide(floor(talking=(1000.0,) * 10), stats, 1148.0)
    assert fresh == 0  # nobody can be free before a human answers
    assert ending > 5


def test_lines_already_ringing_count() -> None:
    pacer = PhonebankPacer()
    alone = pacer.decide(floor(ready=4), FloorStats(), 0.0)
    busy = pacer.decide(floor(ready=4, ringing=(0.0,) * 10), FloorStats(), 2.0)
    assert busy < alone


def test_feedback_lowers_the_aim_after_a_bad_start() -> None:
    pacer = PhonebankPacer()
    good, bad = FloorStats(), FloorStats()
    for i in range(1000):
        good.record_live_answer(float(i), abandoned=i % 40 == 0)
        bad.record_live_answer(float(i), abandoned=i % 20 == 0)
    assert pacer.aim(bad, 0.03) < pacer.aim(good, 0.03) <= 0.03
    assert pacer.decide(floor(ready=5), bad, 0.0) <= pacer.decide(floor(ready=5), good, 0.0)


def test_margin_shrinks_with_observed_answers() -> None:
    pacer = PhonebankPacer()
    early, late = FloorStats(), FloorStats()
    for i in range(2000):
        late.record_live_answer(float(i), abandoned=i % 40 == 0)  # 2.5 %, at the aim
    assert pacer.aim(early, 0.03) < pacer.aim(late, 0.03)


def test_settings_are_checked() -> None:
    with pytest.raises(ValueError, match="lines_cap"):
        CampaignSettings(lines_cap=0)
    with pytest.raises(ValueError, match="abandon_target"):
        CampaignSettings(abandon_target=1.5)
