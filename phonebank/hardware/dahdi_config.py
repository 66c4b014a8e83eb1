"""Render /etc/dahdi/system.conf and chan_dahdi.conf from the station inventory (pure)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from phonebank.asterisk.render import DahdiStation, render_template
from phonebank.hardware.errors import HardwareError
from phonebank.hardware.inventory import StationEntry, check_inventory, dahdi_ports, port_ranges

ECHO_CANCELLERS = ("oslec", "mg2", "kb1", "sec", "sec2", "hpec")
# Tone zones of dahdi's zonedata (loadzone); France's first, it is the default.
ZONES = ("fr", "us", "uk", "be", "ch", "de", "ca", "it", "es", "nl")


@dataclass(frozen=True)
class DahdiFiles:
    system_conf: str
    chan_dahdi_conf: str


def dahdi_stations(stations: Sequence[StationEntry]) -> tuple[DahdiStation, ...]:
    """The enabled analog stations as chan_dahdi.conf entries, by port."""
    out = []
    for station in check_inventory(stations):
        port = station.dahdi_port
        if station.enabled and port is not None:
            out.append(
                DahdiStation(
                    channel=port,
                    name=f"station-{station.number}",
                    number=station.number,
                    label=station.label,
                )
            )
    return tuple(sorted(out, key=lambda s: s.channel))


def render_dahdi(
    stations: Sequence[StationEntry],
    *,
    echocanceller: str = "oslec",
    zone: str = "fr",
    flavour: str = "production",
    fxo_ports: Sequence[int] = (),
) -> DahdiFiles:
    """The card's two files: FXS ports for the stations, FXO ports for the analog trunk."""
    if echocanceller not in ECHO_CANCELLERS:
        raise HardwareError(
            f"echo canceller {echocanceller!r} is not one of {', '.join(ECHO_CANCELLERS)}"
        )
    if zone not in ZONES:
        raise HardwareError(f"tone zone {zone!r} is not one of {', '.join(ZONES)}")
    entries = dahdi_stations(stations)
    ports = dahdi_ports(stations)
    clash = sorted(set(ports) & set(fxo_ports))
    if clash:
        raise HardwareError(
            f"port(s) {port_ranges(clash)} are both stations (FXS) and trunk lines (FXO)"
        )
    lines = sorted(set(fxo_ports))
    system = render_template(
        "dahdi/system.conf.j2",
        {
            "ports": ports,
            "ranges": port_ranges(ports),
            "fxo_ranges": port_ranges(lines),
            "echocanceller": echocanceller,
            "zone": zone,
        },
    )
    chan = render_template(
        "chan_dahdi.conf.j2", {"stations": entries, "fxo_ports": lines, "flavour": flavour}
    )
    return DahdiFiles(system_conf=system, chan_dahdi_conf=chan)
