"""`phonebank bench telephony --quick --json` runs end to end on its own sandbox Asterisk.

Only the report's shape and the two figures that must be zero whatever the machine
(double dials, calls without an outcome) are checked; timings are the benchmark's.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from phonebank.cli.main import main

pytestmark = pytest.mark.asterisk


def test_quick_bench_places_every_call_once_and_settles_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("PHONEBANK_PATHS_DATA_DIR", str(tmp_path))
    assert main(["bench", "telephony", "--quick", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert {"calls", "connect_latency_ms", "amd", "abandoned", "double_dials"} <= set(report)
    assert report["calls"] >= 30
    assert {"p50", "p99"} <= set(report["connect_latency_ms"])
    assert report["connect_latency_ms"]["samples"] > 0  # people were put through
    assert set(report["amd"]) == {"correct", "total"} and report["amd"]["total"] > 0
    assert report["double_dials"] == 0
    assert report["lost_outcomes"] == 0
    assert sum(report["outcomes"].values()) == report["calls"]
    load = report["ami_load"]
    for run in (load["baseline_panoramisk"], load["phonebank"]):
        assert run["events"] > 0 and {"p50", "p99", "max"} == set(run["lag_ms"])
    # Every generated event reached the adapter (none dropped for falling behind).
    assert load["phonebank"]["dropped"] == 0
