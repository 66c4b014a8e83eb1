"""Compare what the DAHDI tools report with the station inventory (pure)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from phonebank.hardware.inventory import StationEntry
from phonebank.hardware.scan import HardwareDevice, ScannedPort, ScannedSpan

ERROR = "error"
WARNING = "warning"
INFO = "info"


@dataclass(frozen=True)
class Finding:
    """One thing the check noticed. `code` is stable (for scripts and tests)."""

    code: str
    severity: str
    message: str
    port: int | None = None


@dataclass(frozen=True)
class CheckReport:
    findings: tuple[Finding, ...]
    fxs_ports: tuple[int, ...]

    @property
    def ok(self) -> bool:
        return not any(f.severity == ERROR for f in self.findings)

    def lines(self) -> list[str]:
        if not self.findings:
            return [f"OK: {len(self.fxs_ports)} FXS port(s) found, every station has its port."]
        return [f"{f.severity.upper()}: {f.message}" for f in self.findings]


def check_hardware(
    stations: Sequence[StationEntry],
    spans: Sequence[ScannedSpan],
    devices: Sequence[HardwareDevice],
) -> CheckReport:
    findings: list[Finding] = []
    if not devices:
        findings.append(
            Finding(
                "no_card",
                ERROR,
                "dahdi_hardware found no telephony card: is it seated in its slot "
                "(and does `lspci` list it)?",
            )
        )
    for device in devices:
        if not device.driver_loaded:
            findings.append(
                Finding(
                    "driver_not_loaded",
                    ERROR,
                    f"card {device.description or device.ids} at {device.bus}: its driver "
                    f"{device.driver} is not loaded (modprobe {device.driver}; is dahdi-dkms "
                    "built for this kernel?)",
                )
            )
    ports: dict[int, ScannedPort] = {}
    for span in spans:
        if not span.analog:
            continue
        if span.alarms not in ("OK", ""):
            hint = " (run dahdi_cfg)" if span.alarms == "UNCONFIGURED" else ""
            findings.append(
                Finding(
                    "span_alarm",
                    WARNING,
                    f"span {span.number} ({span.description}) reports {span.alarms}{hint}",
                )
            )
        for port in span.ports:
            ports[port.channel] = port
    if devices and not any(s.analog for s in spans):
        findings.append(
            Finding("no_analog_span", ERROR, "dahdi_scan shows no analog span: is DAHDI loaded?")
        )
    wanted: dict[int, StationEntry] = {}
    for station in stations:
        port_no = station.dahdi_port
        if station.enabled and port_no is not None:
            wanted[port_no] = station
    for port_no, station in sorted(wanted.items()):
        name = f"station {station.number} ({station.label or station.channel})"
        found = ports.get(port_no)
        if found is None:
            findings.append(
                Finding("missing_port", ERROR, f"{name}: the card has no port {port_no}", port_no)
            )
        elif found.failed:
            findings.append(
                Finding("failed_port", ERROR, f"{name}: port {port_no} reports FAILED", port_no)
            )
        elif found.kind == "FXO":
            findings.append(
                Finding(
                    "fxo_port",
                    ERROR,
                    f"{name}: port {port_no} has an FXO module (for a telephone line), "
                    "a handset needs an FXS module",
                    port_no,
                )
            )
        elif found.kind in ("none", "unknown"):
            findings.append(
                Finding(
                    "no_module",
                    ERROR,
                    f"{name}: port {port_no} has no module plugged in (or it is not detected)",
                    port_no,
                )
            )
    fxs = tuple(sorted(n for n, p in ports.items() if p.kind == "FXS" and not p.failed))
    for port_no in fxs:
        if port_no not in wanted:
            findings.append(
                Finding(
                    "unused_port",
                    INFO,
                    f"FXS port {port_no} has no station in the inventory",
                    port_no,
                )
            )
    return CheckReport(findings=tuple(findings), fxs_ports=fxs)
