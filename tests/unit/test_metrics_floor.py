"""Floor metrics: every state written, settled calls counted, the dashboard's queries exist."""

from __future__ import annotations

import json
import re
from pathlib import Path

from prometheus_client.parser import text_string_to_metric_families

from phonebank.dialer.floor import (
    CampaignSettings,
    FloorSnapshot,
    LineState,
    LineView,
    StationState,
    StationView,
)
from phonebank.metrics.floor import forget_campaign, record_abandon, record_call, record_floor
from phonebank.metrics.service import Metrics

DASHBOARD = Path(__file__).parents[2] / "docs" / "grafana-dashboard.json"


def _samples(metrics: Metrics) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    out = {}
    for family in text_string_to_metric_families(metrics.render().decode()):
        for sample in family.samples:
            out[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return out


def _snapshot() -> FloorSnapshot:
    return FloorSnapshot(
        settings=CampaignSettings(),
        stations=(
            StationView(StationState.READY, 0.0),
            StationView(StationState.TALKING, 0.0),
            StationView(StationState.TALKING, 1.0),
        ),
        lines=(LineView(LineState.RINGING, 0.0),),
        bridged=2,
    )


def test_stations_and_lines_by_state_with_zeros() -> None:
    metrics = Metrics()
    record_floor(metrics, "mairie", _snapshot(), logged_out=4)
    samples = _samples(metrics)

    def station(state: str) -> float:
        return samples[("phonebank_stations", (("campaign", "mairie"), ("state", state)))]

    assert station("ready") == 1 and station("talking") == 2
    assert station("wrap_up") == 0 and station("paused") == 0 and station("logged_out") == 4
    line = samples[("phonebank_lines", (("campaign", "mairie"), ("state", "bridged")))]
    assert line == 2
    assert samples[("phonebank_lines", (("campaign", "mairie"), ("state", "waiting")))] == 0


def test_calls_and_abandon_rates_then_forgetting_a_campaign() -> None:
    metrics = Metrics()
    record_call(metrics, "mairie", "human")
    record_call(metrics, "mairie", "human")
    record_call(metrics, "mairie", "abandoned")
    record_abandon(metrics, "mairie", today=0.021, rolling_30d=0.018, target=0.03)
    record_floor(metrics, "mairie", _snapshot(), logged_out=0)
    samples = _samples(metrics)
    calls = (("campaign", "mairie"), ("outcome", "human"))
    assert samples[("phonebank_calls_total", calls)] == 2
    assert samples[("phonebank_abandon_rate", (("campaign", "mairie"), ("window", "today")))] == (
        0.021
    )
    assert samples[("phonebank_abandon_target", (("campaign", "mairie"),))] == 0.03
    forget_campaign(metrics, "mairie")
    forget_campaign(metrics, "mairie")  # twice is harmless
    left = {name for name, labels in _samples(metrics) if ("campaign", "mairie") in labels}
    assert left == {"phonebank_calls_total", "phonebank_calls_created"}  # counters stay


def test_the_grafana_dashboard_queries_only_metrics_we_export() -> None:
    metrics = Metrics()
    record_floor(metrics, "c", _snapshot(), logged_out=0)
    record_call(metrics, "c", "human")
    record_abandon(metrics, "c", today=0.0, rolling_30d=0.0, target=0.03)
    metrics.ami_connected.set(1)
    metrics.http_requests.labels(method="GET", route="/", status="2xx").inc()
    metrics.http_seconds.labels(route="/").observe(0.01)
    exported = {name for name, _labels in _samples(metrics)}
    dashboard = json.loads(DASHBOARD.read_text(encoding="utf-8"))
    exprs = [t["expr"] for panel in dashboard["panels"] for t in panel["targets"]]
    used = {name for expr in exprs for name in re.findall(r"\bphonebank_[a-z0-9_]+", expr)}
    assert used and used <= exported, used - exported
    assert {"phonebank_abandon_rate", "phonebank_stations", "phonebank_calls_total"} <= used
    assert "phonebank_ami_connected" in used
