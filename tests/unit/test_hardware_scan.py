"""Parsers of dahdi_scan / dahdi_hardware output, on samples in their real formats."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from phonebank.hardware.errors import ParseError
from phonebank.hardware.scan import parse_dahdi_hardware, parse_dahdi_scan

FIXTURES = Path(__file__).parent.parent / "fixtures" / "hardware"


def read(name: str) -> str:
    return (FIXTURES / name).read_text()


def test_scan_of_a_configured_a1610() -> None:
    (span,) = parse_dahdi_scan(read("dahdi_scan_a1610_ok.txt"))
    assert span.number == 1 and span.analog and span.alarms == "OK"
    assert span.description == "OpenVox A1610 Board 1"
    assert (span.basechan, span.totchans) == (1, 16)
    assert [p.channel for p in span.ports] == list(range(1, 17))
    assert {p.kind for p in span.ports} == {"FXS"}
    assert not any(p.failed for p in span.ports)


def test_scan_tells_fxo_empty_and_failed_ports() -> None:
    (span,) = parse_dahdi_scan(read("dahdi_scan_a1610_mixed.txt"))
    kinds = {p.channel: (p.kind, p.failed) for p in span.ports}
    assert kinds[12] == ("FXS", False)
    assert kinds[13] == ("FXO", False)
    assert kinds[15] == ("none", False)
    assert kinds[16] == ("FXS", True)


def test_scan_of_several_spans_including_digital() -> None:
    text = (
        "[1]\nactive=yes\nalarms=OK\ntype=analog\nbasechan=1\ntotchans=2\n"
        "port=1,FXS\nport=2,FXS\n"
        "[2]\nactive=yes\nalarms=RED\ntype=digital-E1\nbasechan=3\ntotchans=31\n"
    )
    first, second = parse_dahdi_scan(text)
    assert first.analog and len(first.ports) == 2
    assert not second.analog and second.alarms == "RED" and second.ports == ()


@pytest.mark.parametrize(
    ("text", "line", "what"),
    [
        ("alarms=OK\n", 1, "before the first"),
        ("[1]\nport=1,XYZ\n", 2, "port="),
        ("[1]\ngarbage\n", 2, "key=value"),
        ("[x]\n", 1, "not a number"),
        ("[1]\nbasechan=abc\n", 1, "basechan"),
    ],
)
def test_scan_errors_name_the_line(text: str, line: int, what: str) -> None:
    with pytest.raises(ParseError, match=what) as caught:
        parse_dahdi_scan(text, source="scan.txt")
    assert caught.value.line == line
    assert str(caught.value).startswith(f"scan.txt, line {line}:")


def test_hardware_lists_cards_and_driver_state() -> None:
    loaded, unloaded = parse_dahdi_hardware(read("dahdi_hardware_two_cards_one_unloaded.txt"))
    assert loaded.driver == "opvxa24xx" and loaded.driver_loaded
    assert loaded.bus == "pci:0000:03:01.0" and loaded.ids == "1b74:0810"
    assert loaded.description == "OpenVox A1610P"
    assert unloaded.driver == "wctdm24xxp" and not unloaded.driver_loaded
    assert parse_dahdi_hardware(read("dahdi_hardware_none.txt")) == []


def test_hardware_skips_verbose_detail_lines_and_rejects_garbage() -> None:
    text = "usb:001/002        xpp_usb+     e4e4:1152 Astribank-multi FPGA-firmware\n LINE=...\n"
    (device,) = parse_dahdi_hardware(text)
    assert device.driver == "xpp_usb"
    with pytest.raises(ParseError, match="line 1"):
        parse_dahdi_hardware("not a device line\n")


@given(st.lists(st.sampled_from(["FXS", "FXO", "none", "FXS FAILED"]), max_size=24))
def test_scan_round_trips_any_port_list(kinds: list[str]) -> None:
    lines = ["[1]", "active=yes", "alarms=OK", "type=analog", "basechan=1"]
    lines += [f"port={n},{k}" for n, k in enumerate(kinds, start=1)]
    (span,) = parse_dahdi_scan("\n".join(lines))
    assert [(p.kind + (" FAILED" if p.failed else "")) for p in span.ports] == kinds
