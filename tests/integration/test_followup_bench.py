"""`phonebank bench followup --quick --json` runs end to end; only its shape is checked."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from phonebank.cli.main import main


def test_quick_bench_reports_both_channels(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("PHONEBANK_PATHS_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("PHONEBANK_SMS_RATE_PER_MINUTE", "4")
    monkeypatch.setenv("PHONEBANK_EMAIL_RATE_PER_MINUTE", "0")
    assert main(["bench", "followup", "--quick", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["quick"] is True
    assert report["sms"]["configured_per_minute"] == 4
    assert report["email"]["configured_per_minute"] == 0
    assert report["email"]["throttled"] is None  # no limit: the ceiling is the figure
    runs = [
        report["sms"]["throttled"],
        report["sms"]["unthrottled"],
        report["email"]["unthrottled"],
    ]
    for run in runs:
        assert set(run) == {
            "messages",
            "per_minute",
            "max_in_any_minute",
            "seconds",
            "real_seconds",
        }
        assert run["messages"] > 0 and run["per_minute"] > 0
    # The limiter is never passed, whatever the machine's speed.
    assert report["sms"]["throttled"]["max_in_any_minute"] <= 4
