"""`phonebank hardware dahdi-config|check`: the analog card and its handsets."""

from __future__ import annotations

import argparse
import shutil
import subprocess
from pathlib import Path
from typing import Any

from phonebank.cli.dbaccess import checked_engine
from phonebank.cli.errors import CommandError
from phonebank.config import Config
from phonebank.db.engine import session_factory
from phonebank.hardware.check import check_hardware
from phonebank.hardware.dahdi_config import ECHO_CANCELLERS, ZONES, render_dahdi
from phonebank.hardware.errors import HardwareError
from phonebank.hardware.inventory import StationEntry, default_inventory
from phonebank.hardware.repo import load_stations
from phonebank.hardware.scan import parse_dahdi_hardware, parse_dahdi_scan


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "hardware",
        help="configure and check the analog card the handsets plug into",
        description="The handsets plug into the FXS ports of a DAHDI card. These commands "
        "write the card's configuration from the station inventory and check what the "
        "card reports against it. See hardware/README.md.",
    )
    sub = parser.add_subparsers(dest="hardware_command", metavar="COMMAND")
    sub.required = True
    ports_help = (
        "use stations on FXS ports 1..N (numbered 1..N) instead of the stations in the database"
    )

    render = sub.add_parser(
        "dahdi-config",
        help="write /etc/dahdi/system.conf and chan_dahdi.conf for the stations",
        description="Render /etc/dahdi/system.conf (FXS ports, echo canceller, tone zone) and "
        "Asterisk's chan_dahdi.conf (one hotline per handset) from the station inventory. "
        "Without --out, both are printed.",
    )
    render.add_argument("--ports", type=int, metavar="N", help=ports_help)
    render.add_argument("--out", type=Path, metavar="DIR", help="write the two files into DIR")
    render.add_argument("--echocanceller", default="oslec", choices=ECHO_CANCELLERS)
    render.add_argument("--zone", default="fr", choices=ZONES, help="tone zone (default fr)")
    render.add_argument(
        "--fxo-ports",
        metavar="LIST",
        help="FXO ports (telephone lines for the analog trunk), e.g. 17,18; "
        "default: asterisk.dahdi_fxo_ports of the configuration",
    )
    render.set_defaults(handler=run_dahdi_config)

    check = sub.add_parser(
        "check",
        help="compare what dahdi_hardware/dahdi_scan report with the stations",
        description="Run dahdi_hardware and dahdi_scan (or read their saved output) and report "
        "stations whose port is missing, holds an FXO module or no module, and cards whose "
        "driver is not loaded. Exit status 1 when a station cannot work.",
    )
    check.add_argument("--ports", type=int, metavar="N", help=ports_help)
    check.add_argument("--scan-output", type=Path, metavar="FILE", help="saved dahdi_scan output")
    check.add_argument(
        "--hardware-output", type=Path, metavar="FILE", help="saved dahdi_hardware output"
    )
    check.set_defaults(handler=run_check)


def _inventory(args: argparse.Namespace, config: Config) -> list[StationEntry]:
    if args.ports is not None:
        try:
            return default_inventory(args.ports)
        except HardwareError as exc:
            raise CommandError(str(exc)) from None
    with (
        checked_engine(config, need_schema=False) as (engine, shown),
        session_factory(engine)() as session,
    ):
        stations = load_stations(session)
    if not stations:
        raise CommandError(
            f"the database {shown} has no stations yet: add them, or pass --ports N "
            "for handsets on FXS ports 1..N"
        )
    return stations


def _fxo_ports(given: str | None, config: Config) -> tuple[int, ...]:
    if given is None:
        return config.asterisk.dahdi_fxo_ports
    try:
        return tuple(int(part) for part in given.split(",") if part.strip())
    except ValueError:
        raise CommandError(
            f"--fxo-ports {given!r}: expected port numbers separated by commas, e.g. 17,18"
        ) from None


def run_dahdi_config(args: argparse.Namespace, config: Config) -> int:
    stations = _inventory(args, config)
    try:
        files = render_dahdi(
            stations,
            echocanceller=args.echocanceller,
            zone=args.zone,
            fxo_ports=_fxo_ports(args.fxo_ports, config),
        )
    except HardwareError as exc:
        raise CommandError(str(exc)) from None
    if args.out is None:
        print("# ---- /etc/dahdi/system.conf")
        print(files.system_conf, end="")
        print("; ---- /etc/asterisk/chan_dahdi.conf")
        print(files.chan_dahdi_conf, end="")
        return 0
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "system.conf").write_text(files.system_conf, encoding="utf-8")
    (args.out / "chan_dahdi.conf").write_text(files.chan_dahdi_conf, encoding="utf-8")
    print(f"wrote {args.out / 'system.conf'} (copy to /etc/dahdi/, then run dahdi_cfg -vv)")
    print(f"wrote {args.out / 'chan_dahdi.conf'} (for /etc/asterisk/)")
    return 0


def _tool_output(saved: Path | None, tool: str) -> str:
    if saved is not None:
        try:
            return saved.read_text(encoding="utf-8", errors="replace")
        except OSError as exc:
            raise CommandError(f"cannot read {saved}: {exc.strerror}") from None
    binary = shutil.which(tool)
    if binary is None:
        raise CommandError(
            f"{tool} is not installed (apt-get install dahdi), or pass its saved output "
            f"with --{'scan' if tool == 'dahdi_scan' else 'hardware'}-output"
        )
    result = subprocess.run([binary], capture_output=True, text=True, check=False, timeout=30)
    if result.returncode != 0:
        raise CommandError(f"{tool} failed ({result.returncode}): {result.stderr.strip()}")
    return result.stdout


def run_check(args: argparse.Namespace, config: Config) -> int:
    stations = _inventory(args, config)
    try:
        devices = parse_dahdi_hardware(
            _tool_output(args.hardware_output, "dahdi_hardware"),
            str(args.hardware_output or "dahdi_hardware"),
        )
        spans = parse_dahdi_scan(
            _tool_output(args.scan_output, "dahdi_scan"), str(args.scan_output or "dahdi_scan")
        )
    except HardwareError as exc:
        raise CommandError(str(exc)) from None
    report = check_hardware(stations, spans, devices)
    for device in devices:
        state = "driver loaded" if device.driver_loaded else "driver NOT loaded"
        print(f"card: {device.description} ({device.driver}, {state}) at {device.bus}")
    print(f"stations with an FXS port: {sum(1 for s in stations if s.dahdi_port is not None)}")
    for line in report.lines():
        print(line)
    return 0 if report.ok else 1
