"""Scenario files, the call-floor simulator and the benchmark's policies."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from phonebank.dialer.bench import format_table, p95, run_benchmark
from phonebank.dialer.floor import CampaignSettings, FloorSnapshot, StationState, StationView
from phonebank.dialer.pacing import PhonebankPacer, ProgressivePolicy
from phonebank.dialer.policies import FixedRatioPolicy, VicidialAdaptPolicy
from phonebank.dialer.reference import ReferenceModel, ReferencePolicy, solve_reference
from phonebank.dialer.scenario import (
    ScenarioError,
    default_scenario_dict,
    default_scenarios,
    load_scenario,
    parse_scenario,
)
from phonebank.dialer.sim import simulate_day
from phonebank.dialer.stats import FloorStats


def small(**changes: object) -> dict[str, object]:
    raw = default_scenario_dict(3, 0.3, hours=0.25)
    raw.update(changes)
    return raw


def test_default_scenarios_are_named_by_agents_and_humans() -> None:
    names = [s.name for s in default_scenarios()]
    assert names == ["n5-p20", "n15-p10", "n15-p20", "n15-p30", "n50-p20"]


def test_scenario_file_round_trip(tmp_path: Path) -> None:
    path = tmp_path / "floor.json"
    path.write_text(json.dumps(small(lines=4, amd_accuracy=0.95)))
    sc = load_scenario(path)
    assert sc.lines == 4 and sc.amd_accuracy == 0.95
    assert sc.answer_seconds.expected() == pytest.approx(14.0)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"agents": 0}, "agents"),
        ({"outcomes": {"human": 0.5}}, "add up to 1"),
        ({"outcomes": {"human": 0.5, "alien": 0.5}}, "unknown keys"),
        ({"talk_seconds": {"dist": "gamma"}}, "talk_seconds.dist"),
        ({"wrap_seconds": {"dist": "uniform", "low": 5, "high": 1}}, "below low"),
        ({"answer_seconds": {"dist": "exponential"}}, "answer_seconds.mean: missing"),
        ({"amd_accuracy": 0.3}, "amd_accuracy"),
        ({"lines": -1}, "lines"),
    ],
)
def test_bad_scenarios_say_what_and_where(change: dict[str, object], message: str) -> None:
    with pytest.raises(ScenarioError, match=message):
        parse_scenario(small(**change), "floor.json")


def test_bad_json_names_the_line(tmp_path: Path) -> None:
    path = tmp_path / "bad.json"
    path.write_text('{\n  "name": "x",\n}')
    with pytest.raises(ScenarioError, match=r"bad.json: line 3"):
        load_scenario(path)
    with pytest.raises(ScenarioError, match="cannot read"):
        load_scenario(tmp_path / "missing.json")


def test_simulation_is_reproducible_and_progressive_never_abandons() -> None:
    sc = parse_scenario(small())
    one = simulate_day(sc, ProgressivePolicy(), seed=7)
    assert one == simulate_day(sc, ProgressivePolicy(), seed=7)
    assert one.abandon_rate == 0.0 and one.abandoned == 0
    assert 0.0 < one.occupancy < 1.0 and one.contacts_per_agent_hour > 0


def test_predictive_beats_progressive_on_occupancy() -> None:
    sc = parse_scenario(small(agents=8, hours=0.5))
    assert (
        simulate_day(sc, PhonebankPacer(), 3).occupancy
        > simulate_day(sc, ProgressivePolicy(), 3).occupancy
    )


def test_lines_cap_holds_in_the_simulator() -> None:
    sc = parse_scenario(small(agents=6, lines=2))
    capped = simulate_day(sc, FixedRatioPolicy(3.0), 1)
    free = simulate_day(parse_scenario(small(agents=6)), FixedRatioPolicy(3.0), 1)
    assert capped.placed < free.placed


def test_amd_errors_count_as_abandons() -> None:
    sc = parse_scenario(small(agents=2, amd_accuracy=0.6))
    assert simulate_day(sc, ProgressivePolicy(), 2).abandon_rate > 0.2


def test_vicidial_raises_its_level_when_agents_wait() -> None:
    policy = VicidialAdaptPolicy(tapered=False, day_seconds=3600)
    snap = FloorSnapshot(
        settings=CampaignSettings(), stations=(StationView(StationState.READY, 0.0),) * 10
    )
    stats = FloorStats()
    placed = [policy.decide(snap, stats, t / 2) for t in range(0, 62)]
    assert placed[0] == 10  # level 1: one line per agent
    assert policy.level == 3.0  # ten idle agents for 30 s: clamped at the maximum
    for i in range(100):
        stats.record_placed()
        stats.record_live_answer(float(i), abandoned=i % 10 == 0)
    policy.decide(snap, stats, 45.0)
    assert policy.level == 1.0  # the day's drops are over target: hard limit


def test_reference_solves_and_fits_the_target() -> None:
    sc = parse_scenario(small(agents=4))
    levels = solve_reference(ReferenceModel.from_scenario(sc), 0.03)
    policy = ReferencePolicy(levels)
    assert levels.shape == (5, 23)
    assert all(levels[b, r] >= r for b in range(5) for r in range(23))
    result = simulate_day(sc, policy, 1)
    assert result.occupancy > simulate_day(sc, ProgressivePolicy(), 1).occupancy


def test_benchmark_report_has_every_policy() -> None:
    sc = parse_scenario(small(agents=2, hours=0.05))
    report = run_benchmark([sc], seeds=2, hours=None, workers=1)
    results = report["scenarios"][0]["results"]
    assert set(results) == {
        "phonebank", "progressive", "fixed_ratio",
        "vicidial_adapt_hard_limit", "vicidial_adapt_tapered", "reference",
    }  # fmt: skip
    assert set(results["phonebank"]) == {
        "occupancy", "abandon_rate", "abandon_rate_p95",
        "talk_min_per_agent_hour", "contacts_per_agent_hour", "mean_wait_s",
    }  # fmt: skip
    assert "phonebank" in format_table(report)
    assert p95([0.01 * i for i in range(1, 21)]) == pytest.approx(0.19)


def test_bench_command_reports_a_bad_file(tmp_path: Path) -> None:
    from phonebank.cli.errors import CommandError
    from phonebank.cli.main import build_parser
    from phonebank.config import Config

    path = tmp_path / "floor.json"
    path.write_text(json.dumps(small(agents="many")))
    args = build_parser().parse_args(["bench", "pacing", "--scenario", str(path)])
    with pytest.raises(CommandError, match=r"floor.json.agents"):
        args.handler(args, Config())
