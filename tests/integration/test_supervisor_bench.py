"""`phonebank bench wallboard --quick --json` runs end to end; only its shape is checked
(timings are the benchmark's business, not the tests')."""

from __future__ import annotations

import json

import pytest

from phonebank.cli.main import main


def test_quick_bench_reports_fanout_and_pages(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["bench", "wallboard", "--quick", "--json", "--supervisors", "3"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["stations"] == 100 and report["supervisors"] == 3
    for phase in ("one_supervisor", "supervisors", "supervisors_under_load"):
        figures = report["fanout_ms"][phase]
        assert figures["n"] > 0 and {"p50", "p99", "max"} <= set(figures), phase
    for phase in ("idle", "under_load"):
        assert report["page_ms"][phase]["n"] > 0, phase
    assert report["load"]["failed"] == 0 and report["load"]["target_rps"] == 200
    assert report["state_build_ms"]["n"] == 20
    assert isinstance(report["met"], bool) and report["target_p99_ms"] == 100
