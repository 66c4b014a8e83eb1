"""The station inventory: which handset is where (pure values and rules)."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from phonebank.hardware.errors import HardwareError

_DAHDI = re.compile(r"^DAHDI/(\d+)$")
_PJSIP = re.compile(r"^PJSIP/[A-Za-z0-9_.-]+$")
_NUMBER = re.compile(r"^[0-9]{1,16}$")


@dataclass(frozen=True)
class StationEntry:
    """One row of the `stations` table, as the hardware code needs it."""

    number: str
    channel: str
    label: str = ""
    enabled: bool = True

    @property
    def dahdi_port(self) -> int | None:
        """The FXS port (DAHDI channel) of an analog handset; None for a SIP phone."""
        match = _DAHDI.match(self.channel)
        return int(match.group(1)) if match else None


def check_inventory(stations: Iterable[StationEntry]) -> list[StationEntry]:
    """The stations, checked: digits-only numbers (they are dialled and name the
    station's bridge), known channel forms, no duplicates. Raises HardwareError."""
    checked: list[StationEntry] = []
    numbers: set[str] = set()
    channels: set[str] = set()
    for station in stations:
        where = f"station {station.number!r} ({station.channel})"
        if not _NUMBER.match(station.number):
            raise HardwareError(f"{where}: the number must be 1-16 digits")
        if not (_DAHDI.match(station.channel) or _PJSIP.match(station.channel)):
            raise HardwareError(f"{where}: the channel must be DAHDI/<port> or PJSIP/<endpoint>")
        if any(ch in ';\n\r"<>\\' for ch in station.label):
            raise HardwareError(
                f"{where}: the label {station.label!r} may not hold quotes, ';', '<', '>', "
                "backslashes or line breaks (it becomes the handset's caller ID)"
            )
        if station.number in numbers:
            raise HardwareError(f"{where}: another station has the number {station.number}")
        if station.channel in channels:
            raise HardwareError(f"{where}: another station uses {station.channel}")
        numbers.add(station.number)
        channels.add(station.channel)
        checked.append(station)
    return checked


def default_inventory(ports: int) -> list[StationEntry]:
    """Stations for FXS ports 1..ports, numbered like their port (a fresh box)."""
    if ports < 0:
        raise HardwareError(f"the number of FXS ports must be 0 or more, got {ports}")
    return [
        StationEntry(number=str(n), channel=f"DAHDI/{n}", label=f"Poste {n}")
        for n in range(1, ports + 1)
    ]


def dahdi_ports(stations: Sequence[StationEntry]) -> list[int]:
    """FXS ports of the enabled analog stations, ascending."""
    return sorted(p for s in stations if s.enabled and (p := s.dahdi_port) is not None)


def port_ranges(ports: Iterable[int]) -> str:
    """1,2,3,5 -> '1-3,5' (the channel-list syntax of /etc/dahdi/system.conf)."""
    ordered = sorted(set(ports))
    parts: list[str] = []
    start = prev = None
    for port in ordered:
        if start is None:
            start = prev = port
        elif prev is not None and port == prev + 1:
            prev = port
        else:
            parts.append(f"{start}" if start == prev else f"{start}-{prev}")
            start = prev = port
    if start is not None:
        parts.append(f"{start}" if start == prev else f"{start}-{prev}")
    return ",".join(parts)
