"""Render the Asterisk configuration from `asterisk-config/*.conf.j2`.

Two flavours share the templates: *sandbox* (one instance folder per sandbox,
loopback only) and *production* (the standard /etc/asterisk layout of a system
Asterisk). `RenderContext` holds every value the templates read; building it is
pure, and `render_config` only writes the files.
"""

from __future__ import annotations

import ipaddress
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import jinja2

from phonebank.asterisk.errors import RenderError
from phonebank.config import AsteriskConfig
from phonebank.resources import resource_dir

Flavour = Literal["sandbox", "production"]

# AMI rights a dialer needs (names from manager.conf of Asterisk 22): events of
# calls, agents, queues, UserEvents, dialplan variables and DTMF; actions to
# originate, redirect, hang up and query. No `command` and no `config`.
AMI_READ = ("system", "call", "agent", "user", "dialplan", "reporting", "dtmf")
AMI_WRITE = ("system", "call", "agent", "user", "originate", "reporting")

STATION_CONTEXT = "phonebank-stations"
# Phonebank's own prompts (safe-harbor, voicemail, call-back line), as
# <dir>/<language>/<name>.wav; a system Asterisk keeps them beside its own.
PROMPTS_SUBDIR = "sounds/phonebank"
SYSTEM_VARLIB = "/var/lib/asterisk"
# Events the dialer reads (manager.conf eventfilter); everything else stays in Asterisk.
AMI_EVENTS = (
    "FullyBooted",
    "Shutdown",
    "Reload",
    "Newchannel",
    "Newstate",
    "Hangup",
    "VarSet",
    "DialBegin",
    "DialEnd",
    "UserEvent",
    "BridgeEnter",
    "BridgeLeave",
    "OriginateResponse",
    "AgentCalled",
    "AgentConnect",
    "AgentComplete",
    "AgentLogin",
    "AgentLogoff",
    "ConfbridgeJoin",
    "ConfbridgeLeave",
    "ConfbridgeStart",
    "ConfbridgeEnd",
    "ChanSpyStart",
    "ChanSpyStop",
    "MixMonitorStart",
    "MixMonitorStop",
)
_NAME_RE = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")
# Characters that end or break a value in Asterisk's config syntax.
_SECRET_FORBIDDEN = set(";\n\r\t []\"'\\")
_LABEL_FORBIDDEN = set(';\n\r"<>\\')
_SECRET_FILES = frozenset({"manager.conf"})


@dataclass(frozen=True)
class Directories:
    """The `[directories]` of asterisk.conf, as paths Asterisk itself sees."""

    etc: str
    modules: str
    data: str
    varlib: str
    agi: str
    spool: str
    run: str
    log: str
    cache: str
    sbin: str = "/usr/sbin"


@dataclass(frozen=True)
class AmiSettings:
    host: str
    port: int
    username: str
    secret: str
    read: tuple[str, ...] = AMI_READ
    write: tuple[str, ...] = AMI_WRITE


@dataclass(frozen=True)
class SipSettings:
    host: str
    port: int
    carrier_host: str
    carrier_port: int
    carrier_username: str = ""
    carrier_secret: str = ""
    carrier_register: bool = False
    carrier_domain: str = ""

    @property
    def domain(self) -> str:
        return self.carrier_domain or self.carrier_host

    @property
    def authenticated(self) -> bool:
        return bool(self.carrier_username)


@dataclass(frozen=True)
class RtpRange:
    start: int
    end: int


@dataclass(frozen=True)
class DahdiStation:
    """One analog handset on an FXS port of the DAHDI card."""

    channel: int
    name: str
    context: str = STATION_CONTEXT
    # The station's number (its caller ID, which the dialplan reads to find the
    # station's bridge); the port number when empty.
    number: str = ""
    label: str = ""
    group: int = 1

    @property
    def station_number(self) -> str:
        return self.number or str(self.channel)


@dataclass(frozen=True)
class RenderContext:
    flavour: Flavour
    ami: AmiSettings
    sip: SipSettings
    rtp: RtpRange
    agi_port: int
    # None: no [directories] section, Asterisk's compiled-in defaults apply.
    directories: Directories | None = None
    stations: tuple[DahdiStation, ...] = ()
    # "sip": outbound calls go to the carrier endpoint; "analog": to the FXO ports.
    trunk: str = "sip"
    # DAHDI channels of the FXO ports (telephone lines) the analog trunk dials out on.
    fxo_ports: tuple[int, ...] = ()
    # Set for a system Asterisk started as root (production); the sandbox
    # passes -U/-G on the command line instead.
    run_user: str = ""


def stations_for_ports(count: int) -> tuple[DahdiStation, ...]:
    """Stations for FXS ports 1..count, named station-01, station-02, ..."""
    if count < 0:
        raise RenderError(f"asterisk.dahdi_fxs_ports must be 0 or more, got {count}")
    return tuple(DahdiStation(channel=n, name=f"station-{n:02d}") for n in range(1, count + 1))


def build_context(
    config: AsteriskConfig,
    *,
    flavour: Flavour,
    ami_secret: str,
    directories: Directories | None,
    run_user: str = "",
) -> RenderContext:
    """Gather and check the values the templates need; raise RenderError on bad ones."""
    sip_host = "127.0.0.1" if flavour == "sandbox" else config.sip_host
    context = RenderContext(
        flavour=flavour,
        ami=AmiSettings(
            host=config.ami_host,
            port=config.ami_port,
            username=config.ami_username,
            secret=ami_secret,
        ),
        sip=SipSettings(
            host=sip_host,
            port=config.sip_port,
            carrier_host=config.carrier_host,
            carrier_port=config.carrier_port,
            carrier_username=config.carrier_username,
            carrier_secret=config.carrier_secret,
            carrier_register=config.carrier_register,
            carrier_domain=config.carrier_domain,
        ),
        rtp=RtpRange(config.rtp_start, config.rtp_end),
        agi_port=config.agi_port,
        directories=directories,
        stations=stations_for_ports(config.dahdi_fxs_ports),
        trunk=config.trunk,
        fxo_ports=config.dahdi_fxo_ports,
        run_user=run_user,
    )
    check_context(context)
    return context


def _check_port(name: str, port: int) -> None:
    if not 1 <= port <= 65535:
        raise RenderError(f"{name} must be a port number between 1 and 65535, got {port}")


def _check_ip(name: str, value: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address:
    try:
        return ipaddress.ip_address(value)
    except ValueError:
        raise RenderError(f"{name} must be an IP address, got {value!r}") from None


def check_context(context: RenderContext) -> None:
    """Refuse values that would expose the AMI or break the config syntax."""
    ami_ip = _check_ip("asterisk.ami_host", context.ami.host)
    if not (isinstance(ami_ip, ipaddress.IPv4Address) and ami_ip.is_loopback):
        raise RenderError(
            f"asterisk.ami_host must be a loopback address such as 127.0.0.1, got "
            f"{context.ami.host!r}: the AMI controls calls and must never face a network"
        )
    if not _NAME_RE.match(context.ami.username):
        raise RenderError(
            f"asterisk.ami_username {context.ami.username!r} must be 1-64 letters, digits, "
            "'.', '_' or '-'"
        )
    secret = context.ami.secret
    if len(secret) < 16 or any(ch in _SECRET_FORBIDDEN for ch in secret):
        raise RenderError(
            "the AMI secret must be at least 16 characters without spaces, quotes, "
            "brackets, backslashes or ';' (generate one with: "
            "python3 -c 'import secrets; print(secrets.token_urlsafe(24))')"
        )
    _check_ip("asterisk.sip_host", context.sip.host)
    carrier = context.sip.carrier_host
    if not carrier or any(ch in _SECRET_FORBIDDEN for ch in carrier):
        raise RenderError(f"asterisk.carrier_host {context.sip.carrier_host!r} is not a host name")
    for name, port in (
        ("asterisk.ami_port", context.ami.port),
        ("asterisk.sip_port", context.sip.port),
        ("asterisk.carrier_port", context.sip.carrier_port),
        ("asterisk.agi_port", context.agi_port),
        ("asterisk.rtp_start", context.rtp.start),
        ("asterisk.rtp_end", context.rtp.end),
    ):
        _check_port(name, port)
    if context.rtp.end - context.rtp.start < 10:
        raise RenderError(
            f"asterisk.rtp_start..rtp_end ({context.rtp.start}-{context.rtp.end}) must span "
            "at least 10 ports (each call uses two)"
        )
    if context.rtp.start <= context.sip.port <= context.rtp.end:
        raise RenderError(f"asterisk.sip_port {context.sip.port} lies inside the RTP range")
    channels = [s.channel for s in context.stations]
    if len(set(channels)) != len(channels):
        raise RenderError(f"two stations share a DAHDI channel: {sorted(channels)}")
    _check_trunk(context, set(channels))
    for station in context.stations:
        if not station.station_number.isdigit():
            raise RenderError(f"station on DAHDI channel {station.channel}: number must be digits")
        if any(ch in _LABEL_FORBIDDEN for ch in station.label):
            raise RenderError(
                f"station {station.station_number}: its label {station.label!r} may not hold "
                "quotes, ';', '<', '>' or line breaks"
            )


def _check_trunk(context: RenderContext, station_channels: set[int]) -> None:
    sip = context.sip
    for name, value in (
        ("asterisk.carrier_username", sip.carrier_username),
        ("asterisk.carrier_secret", sip.carrier_secret),
        ("asterisk.carrier_domain", sip.carrier_domain),
    ):
        if any(ch in _SECRET_FORBIDDEN for ch in value):
            raise RenderError(
                f"{name} may not hold spaces, quotes, brackets, backslashes or ';' "
                "(pjsip.conf could not quote it)"
            )
    if sip.carrier_username and not sip.carrier_secret:
        raise RenderError("asterisk.carrier_username is set but asterisk.carrier_secret is empty")
    if sip.carrier_register and not sip.authenticated:
        raise RenderError(
            "asterisk.carrier_register needs asterisk.carrier_username and carrier_secret: "
            "a provider only accepts a registration it can authenticate"
        )
    if context.trunk not in ("sip", "analog"):
        raise RenderError(f"asterisk.trunk must be sip or analog, got {context.trunk!r}")
    if context.trunk == "analog" and not context.fxo_ports:
        raise RenderError(
            'asterisk.trunk = "analog" needs the FXO ports the lines plug into '
            "(asterisk.dahdi_fxo_ports, e.g. [17, 18])"
        )
    if len(set(context.fxo_ports)) != len(context.fxo_ports):
        raise RenderError(f"asterisk.dahdi_fxo_ports lists a port twice: {context.fxo_ports}")
    for port in context.fxo_ports:
        if port < 1:
            raise RenderError(f"asterisk.dahdi_fxo_ports: {port} is not a DAHDI channel number")
        if port in station_channels:
            raise RenderError(
                f"DAHDI channel {port} is both a station (FXS) and a trunk line (FXO); "
                "a port is one or the other"
            )


def _environment() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(resource_dir("asterisk-config"))),
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
        autoescape=False,  # noqa: S701 - Asterisk config files, not HTML
    )


def template_names() -> list[str]:
    """The `*.conf.j2` templates shipped in asterisk-config/."""
    return sorted(p.name for p in resource_dir("asterisk-config").glob("*.conf.j2"))


def prompts_dir(context: RenderContext) -> str:
    """Where the dialplan finds phonebank's prompts, as Asterisk sees the path."""
    varlib = context.directories.varlib if context.directories else SYSTEM_VARLIB
    return f"{varlib}/{PROMPTS_SUBDIR}"


def render_template(name: str, values: dict[str, object]) -> str:
    """Render one template of asterisk-config/ (e.g. "dahdi/system.conf.j2") to text."""
    try:
        return _environment().get_template(name).render(values)
    except jinja2.TemplateError as exc:
        raise RenderError(f"asterisk-config/{name}: {exc}") from exc


def render_text(context: RenderContext) -> dict[str, str]:
    """Render every template to text, keyed by output file name (pure)."""
    env = _environment()
    values = {
        "flavour": context.flavour,
        "ami": context.ami,
        "sip": context.sip,
        "rtp": context.rtp,
        "agi_port": context.agi_port,
        "directories": context.directories,
        "stations": context.stations,
        "trunk": context.trunk,
        "fxo_ports": context.fxo_ports,
        "run_user": context.run_user,
        "prompts_dir": prompts_dir(context),
        "ami_events": AMI_EVENTS,
    }
    out: dict[str, str] = {}
    for name in template_names():
        try:
            out[name.removesuffix(".j2")] = env.get_template(name).render(values)
        except jinja2.TemplateError as exc:
            raise RenderError(f"asterisk-config/{name}: {exc}") from exc
    return out


def render_config(context: RenderContext, out_dir: Path) -> list[Path]:
    """Write the rendered files into out_dir and return their paths.

    manager.conf carries the AMI secret, so it is readable by its owner and
    group only (0640); the rest is 0644.
    """
    check_context(context)
    texts = render_text(context)
    out_dir.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    for name, text in texts.items():
        path = out_dir / name
        mode = 0o640 if name in _SECRET_FILES else 0o644
        tmp = path.with_name(f".{name}.tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.chmod(tmp, mode)
        os.replace(tmp, path)
        written.append(path)
    return written
