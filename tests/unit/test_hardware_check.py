"""Comparing the card's report with the station inventory, and rendering DAHDI files."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from phonebank.cli.main import main
from phonebank.hardware.check import ERROR, INFO, check_hardware
from phonebank.hardware.dahdi_config import render_dahdi
from phonebank.hardware.errors import HardwareError
from phonebank.hardware.inventory import (
    StationEntry,
    check_inventory,
    default_inventory,
    port_ranges,
)
from phonebank.hardware.scan import parse_dahdi_hardware, parse_dahdi_scan

FIXTURES = Path(__file__).parent.parent / "fixtures" / "hardware"


def load(scan: str, hardware: str = "dahdi_hardware_a1610.txt") -> tuple[list, list]:  # type: ignore[type-arg]
    return (
        parse_dahdi_scan((FIXTURES / scan).read_text()),
        parse_dahdi_hardware((FIXTURES / hardware).read_text()),
    )


def codes(report: object) -> dict[int | None, str]:
    return {f.port: f.code for f in report.findings}  # type: ignore[attr-defined]


def test_a_full_card_matching_the_inventory_is_ok() -> None:
    spans, devices = load("dahdi_scan_a1610_ok.txt")
    report = check_hardware(default_inventory(16), spans, devices)
    assert report.ok and report.findings == ()
    assert report.fxs_ports == tuple(range(1, 17))
    assert report.lines()[0].startswith("OK: 16 FXS port(s)")


def test_fxo_modules_empty_slots_and_failed_ports_are_reported() -> None:
    spans, devices = load("dahdi_scan_a1610_mixed.txt")
    report = check_hardware(default_inventory(16), spans, devices)
    assert not report.ok
    found = codes(report)
    assert found[13] == "fxo_port" and found[14] == "fxo_port"
    assert found[15] == "no_module"
    assert found[16] == "failed_port"
    assert all(n not in found for n in range(1, 13))
    assert any("FXO module" in line and "station 13" in line for line in report.lines())


def test_missing_ports_and_unused_ones() -> None:
    spans, devices = load("dahdi_scan_a1610_ok.txt")
    stations = [
        *default_inventory(2),
        StationEntry("30", "DAHDI/30"),
        StationEntry("40", "PJSIP/x"),
    ]
    report = check_hardware(stations, spans, devices)
    found = codes(report)
    assert found[30] == "missing_port"
    unused = [f for f in report.findings if f.code == "unused_port"]
    assert [f.port for f in unused] == list(range(3, 17)) and unused[0].severity == INFO
    # The SIP phone is not the card's business.
    assert not any("40" in f.message for f in report.findings)


def test_no_card_a_driver_not_loaded_and_an_unconfigured_span() -> None:
    report = check_hardware(default_inventory(1), [], [])
    assert {f.code for f in report.findings} >= {"no_card", "missing_port"}
    spans, devices = load(
        "dahdi_scan_unconfigured.txt", "dahdi_hardware_two_cards_one_unloaded.txt"
    )
    report = check_hardware(default_inventory(4), spans, devices)
    by_code = {f.code: f for f in report.findings}
    assert by_code["driver_not_loaded"].severity == ERROR
    assert "wctdm24xxp" in by_code["driver_not_loaded"].message
    assert "dahdi_cfg" in by_code["span_alarm"].message


def test_disabled_stations_are_not_checked() -> None:
    spans, devices = load("dahdi_scan_a1610_mixed.txt")
    stations = [StationEntry(str(n), f"DAHDI/{n}", enabled=n <= 12) for n in range(1, 17)]
    assert check_hardware(stations, spans, devices).ok


@pytest.mark.parametrize(
    ("stations", "what"),
    [
        ([StationEntry("a1", "DAHDI/1")], "digits"),
        ([StationEntry("1", "SIP/x")], "DAHDI/<port> or PJSIP"),
        ([StationEntry("1", "DAHDI/1"), StationEntry("1", "DAHDI/2")], "another station has"),
        ([StationEntry("1", "DAHDI/1"), StationEntry("2", "DAHDI/1")], "another station uses"),
        ([StationEntry("1", "DAHDI/1", label='Bad "quote"')], "label"),
    ],
)
def test_inventory_rules(stations: list[StationEntry], what: str) -> None:
    with pytest.raises(HardwareError, match=what):
        check_inventory(stations)


def test_port_ranges() -> None:
    assert port_ranges([1, 2, 3, 5, 7, 8]) == "1-3,5,7-8"
    assert port_ranges([]) == ""
    assert port_ranges([4]) == "4"


def test_system_conf_for_16_fxs_ports() -> None:
    files = render_dahdi(default_inventory(16))
    lines = [x for x in files.system_conf.splitlines() if x and not x.startswith("#")]
    assert lines == [
        "fxoks = 1-16",
        "echocanceller = oslec,1-16",
        "loadzone = fr",
        "defaultzone = fr",
    ]
    assert "mg2,1-2" in render_dahdi(default_inventory(2), echocanceller="mg2").system_conf
    with pytest.raises(HardwareError, match="echo canceller"):
        render_dahdi(default_inventory(2), echocanceller="none")


def test_chan_dahdi_has_one_hotline_per_station_with_its_caller_id() -> None:
    stations = [StationEntry("7", "DAHDI/3", label="Salle A"), StationEntry("9", "PJSIP/sip9")]
    text = render_dahdi(stations).chan_dahdi_conf
    assert re.findall(r"^channel => (\d+)$", text, flags=re.M) == ["3"]
    assert 'callerid = "Salle A" <7>' in text
    for line in ("signalling = fxo_ks", "immediate = yes", "context = phonebank-stations"):
        assert line in text
    assert "group = 1" in text and "echocancel = yes" in text


def test_cli_writes_both_files(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["hardware", "dahdi-config", "--ports", "4", "--out", str(tmp_path)]) == 0
    assert "fxoks = 1-4" in (tmp_path / "system.conf").read_text()
    assert (tmp_path / "chan_dahdi.conf").read_text().count("channel =>") == 4
    assert main(["hardware", "dahdi-config", "--ports", "2"]) == 0
    assert "fxoks = 1-2" in capsys.readouterr().out


def test_cli_check_on_saved_outputs(capsys: pytest.CaptureFixture[str]) -> None:
    ok = [
        "hardware",
        "check",
        "--ports",
        "16",
        "--hardware-output",
        str(FIXTURES / "dahdi_hardware_a1610.txt"),
        "--scan-output",
    ]
    assert main([*ok, str(FIXTURES / "dahdi_scan_a1610_ok.txt")]) == 0
    assert "OK: 16 FXS port(s)" in capsys.readouterr().out
    assert main([*ok, str(FIXTURES / "dahdi_scan_a1610_mixed.txt")]) == 1
    out = capsys.readouterr().out
    assert "port 13 has an FXO module" in out and "port 15 has no module" in out
