"""Pure parsers of the DAHDI tools' output: `dahdi_scan` and `dahdi_hardware`.

Formats as dahdi-tools 3.x prints them (dahdi_scan.c, dahdi_hardware):

    [1]                                 pci:0000:03:00.0  opvxa24xx+  1b74:0810 OpenVox A1610
    active=yes
    alarms=OK
    type=analog
    port=1,FXS          (FXO, "none" = empty slot, "unknown"; " FAILED" = broken)
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from phonebank.hardware.errors import ParseError

_PORT = re.compile(r"^(\d+),(FXS|FXO|none|unknown)( FAILED)?$")
_DEVICE = re.compile(r"^(\S+:\S+)\s+(\S+?)([+-])\s+([0-9a-fA-F]{4}:[0-9a-fA-F]{4})\s*(.*)$")


@dataclass(frozen=True)
class ScannedPort:
    """One channel of an analog span. `kind` is what the port *offers* to a line:
    FXS (a handset plugs in), FXO (a telephone line plugs in), none (empty slot)."""

    channel: int
    kind: str
    failed: bool = False


@dataclass(frozen=True)
class ScannedSpan:
    number: int
    alarms: str = ""
    description: str = ""
    name: str = ""
    manufacturer: str = ""
    devicetype: str = ""
    location: str = ""
    basechan: int = 0
    totchans: int = 0
    type: str = ""
    ports: tuple[ScannedPort, ...] = field(default_factory=tuple)

    @property
    def analog(self) -> bool:
        return self.type == "analog"


@dataclass(frozen=True)
class HardwareDevice:
    """One line of `dahdi_hardware`: a card, its driver and whether that driver is loaded."""

    bus: str
    driver: str
    driver_loaded: bool
    ids: str
    description: str


def _int(value: str, source: str, line: int, key: str) -> int:
    try:
        return int(value)
    except ValueError:
        raise ParseError(source, line, f"{key}={value!r} is not a number") from None


def parse_dahdi_scan(text: str, source: str = "dahdi_scan") -> list[ScannedSpan]:
    """Spans and their ports, in the order printed."""
    spans: list[ScannedSpan] = []
    current: dict[str, str] = {}
    ports: list[ScannedPort] = []
    number = 0
    start_line = 0

    def finish() -> None:
        if not number:
            return
        spans.append(
            ScannedSpan(
                number=number,
                alarms=current.get("alarms", ""),
                description=current.get("description", ""),
                name=current.get("name", ""),
                manufacturer=current.get("manufacturer", ""),
                devicetype=current.get("devicetype", ""),
                location=current.get("location", ""),
                basechan=_int(current.get("basechan", "0"), source, start_line, "basechan"),
                totchans=_int(current.get("totchans", "0"), source, start_line, "totchans"),
                type=current.get("type", ""),
                ports=tuple(ports),
            )
        )

    for lineno, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line:
            continue
        if line.startswith("[") and line.endswith("]"):
            finish()
            number = _int(line[1:-1], source, lineno, "span")
            current, ports, start_line = {}, [], lineno
            continue
        key, sep, value = line.partition("=")
        if not sep:
            raise ParseError(source, lineno, f"expected key=value or [span], got {line!r}")
        if not number:
            raise ParseError(source, lineno, f"{key} before the first [span] header")
        if key == "port":
            match = _PORT.match(value)
            if match is None:
                raise ParseError(source, lineno, f"port={value!r} is not 'N,FXS|FXO|none'")
            ports.append(
                ScannedPort(int(match.group(1)), match.group(2), failed=bool(match.group(3)))
            )
        else:
            current[key] = value
    finish()
    return spans


def parse_dahdi_hardware(text: str, source: str = "dahdi_hardware") -> list[HardwareDevice]:
    """Cards found on the buses. Indented lines (`-v` details) are skipped."""
    devices: list[HardwareDevice] = []
    for lineno, raw in enumerate(text.splitlines(), start=1):
        if not raw.strip() or raw[0].isspace():
            continue
        match = _DEVICE.match(raw.strip())
        if match is None:
            raise ParseError(
                source, lineno, f"expected 'BUS DRIVER+ VVVV:PPPP DESCRIPTION', got {raw!r}"
            )
        bus, driver, flag, ids, description = match.groups()
        devices.append(HardwareDevice(bus, driver, flag == "+", ids.lower(), description.strip()))
    return devices
