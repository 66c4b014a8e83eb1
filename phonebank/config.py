"""Settings: typed defaults in code, then a TOML file, then `PHONEBANK_*` variables.

Each part of the program receives only its own section (`config.database`,
`config.asterisk`, ...). An environment variable names its section and key:
`PHONEBANK_DATABASE_URL` sets `[database] url`, `PHONEBANK_WEB_PORT` sets
`[web] port`, `PHONEBANK_ASTERISK_AMI_PORT` sets `[asterisk] ami_port`.
"""

from __future__ import annotations

import dataclasses
import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, get_args, get_type_hints

ENV_PREFIX = "PHONEBANK_"
CONFIG_ENV = "PHONEBANK_CONFIG"


class ConfigError(ValueError):
    """A setting is unknown or has a value of the wrong kind; says where."""


def _xdg(var: str, fallback: str, environ: Mapping[str, str] | None = None) -> Path:
    value = (os.environ if environ is None else environ).get(var)
    return Path(value) if value else Path.home() / fallback


@dataclass(frozen=True)
class PathsConfig:
    # Where the SQLite file, the sandbox's state and logs live.
    data_dir: Path = field(
        default_factory=lambda: _xdg("XDG_DATA_HOME", ".local/share") / "phonebank"
    )
    # Built once and reused: the debootstrapped Asterisk root is about 500 MB.
    cache_dir: Path = field(default_factory=lambda: _xdg("XDG_CACHE_HOME", ".cache") / "phonebank")


@dataclass(frozen=True)
class DatabaseConfig:
    # Empty means the embedded default: a SQLite file in paths.data_dir.
    url: str = ""
    echo: bool = False


@dataclass(frozen=True)
class WebConfig:
    host: str = "127.0.0.1"
    port: int = 8080
    # Signs session cookies; generated and kept in data_dir when empty.
    secret_key: str = ""
    # Set when the service is reached over HTTPS (a reverse proxy): cookies then never
    # travel in clear text.
    secure_cookies: bool = False
    # Who may read GET /metrics (Prometheus): networks in CIDR notation.
    metrics_allow: tuple[str, ...] = ("127.0.0.0/8", "::1/128")


@dataclass(frozen=True)
class AsteriskConfig:
    # "auto": the system's asterisk if installed, else the chrooted Debian sid root.
    mode: Literal["auto", "system", "chroot"] = "auto"
    # Defaults keep clear of a system Asterisk on 5038/5060.
    ami_host: str = "127.0.0.1"
    ami_port: int = 15038
    ami_username: str = "phonebank"
    # Empty: take the secret the sandbox generated (data_dir/asterisk/sandbox.json).
    ami_secret: str = ""
    sip_port: int = 15060
    # Address the SIP (UDP) transport binds to. The sandbox always uses 127.0.0.1;
    # a production render (`phonebank asterisk render`) uses this value.
    sip_host: str = "127.0.0.1"
    # The SIP trunk ("carrier" endpoint). On loopback by default so that SIPp can
    # stand in for a provider in tests; a production box names its provider here.
    carrier_host: str = "127.0.0.1"
    carrier_port: int = 15070
    # Which way outbound calls leave: "sip" (the carrier endpoint above) or "analog"
    # (FXO ports of the card plugged into telephone lines, `dahdi_fxo_ports`).
    trunk: Literal["sip", "analog"] = "sip"
    # Credentials the provider gave for the trunk; empty = the provider admits the
    # box by its IP address. Used to answer the provider's challenges on calls.
    carrier_username: str = ""
    carrier_secret: str = ""
    # Register with the provider (most consumer and small-business SIP trunks ask
    # for it); needs carrier_username and carrier_secret.
    carrier_register: bool = False
    # The provider's SIP domain, when it differs from carrier_host (From: and
    # registration URIs); empty = carrier_host.
    carrier_domain: str = ""
    # RTP media ports, kept away from a system Asterisk's 10000-20000.
    rtp_start: int = 20000
    rtp_end: int = 20999
    # Analog handsets on the DAHDI card: FXS ports 1..N become stations.
    # 0 renders a chan_dahdi.conf without channels.
    dahdi_fxs_ports: int = 0
    # FXO ports of the card (telephone lines plugged in) for trunk = "analog": their
    # DAHDI channel numbers, e.g. [17, 18] on a card whose ports 1-16 are FXS.
    dahdi_fxo_ports: tuple[int, ...] = ()
    # FastAGI server of the phonebank process, reached by the dialplan.
    agi_port: int = 14573
    debian_mirror: str = "http://deb.debian.org/debian"
    debian_suite: str = "sid"
    # Seconds between reconnect attempts grow from min to max.
    reconnect_min: float = 0.5
    reconnect_max: float = 30.0


@dataclass(frozen=True)
class SmsConfig:
    # Serial device of the GSM modem (e.g. /dev/gsm-modem from the udev rule in
    # hardware/modems.md); `phonebank sms --device` and PHONEBANK_SMS_DEVICE override it.
    device: str = ""
    baudrate: int = 115200
    # SIM PIN, sent only when the SIM asks for it.
    pin: str = ""
    # SMS parts per minute through the modem; 0 = no limit.
    rate_per_minute: int = 6
    # How long the network keeps trying to deliver, in hours.
    validity_hours: int = 24
    delivery_reports: bool = True
    # Seconds to wait for the network's answer to one AT+CMGS.
    send_timeout: float = 60.0
    # Country assumed for numbers written without one (06 12 34 56 78).
    region: str = "FR"


@dataclass(frozen=True)
class EmailConfig:
    smtp_host: str = "127.0.0.1"
    smtp_port: int = 25
    smtp_user: str = ""
    smtp_password: str = ""
    starttls: bool = False
    # From: header, e.g. "Campagne <contact@example.org>".
    from_address: str = ""
    rate_per_minute: int = 60
    # Web address the signed unsubscribe token is appended to.
    unsubscribe_base_url: str = "http://localhost:8080/unsubscribe"
    # Folder searched for templates before the built-in ones; empty = built-in only.
    templates_dir: str = ""


@dataclass(frozen=True)
class DialerConfig:
    # How often each running dialer engine proves it is alive in the database.
    heartbeat_seconds: float = 5.0
    # An engine not heard of for this long is dead (its process crashed or the box
    # lost power): its calls in flight are settled and its leads released.
    dead_after_seconds: float = 60.0
    # How often a running engine looks for dead engines' leftovers.
    recover_seconds: float = 60.0


@dataclass(frozen=True)
class Config:
    paths: PathsConfig = field(default_factory=PathsConfig)
    database: DatabaseConfig = field(default_factory=DatabaseConfig)
    web: WebConfig = field(default_factory=WebConfig)
    asterisk: AsteriskConfig = field(default_factory=AsteriskConfig)
    sms: SmsConfig = field(default_factory=SmsConfig)
    email: EmailConfig = field(default_factory=EmailConfig)
    dialer: DialerConfig = field(default_factory=DialerConfig)

    @property
    def database_url(self) -> str:
        if self.database.url:
            return self.database.url
        return f"sqlite:///{self.paths.data_dir / 'phonebank.db'}"


def _coerce(value: Any, kind: Any, where: str) -> Any:
    """Turn a TOML or environment value into the declared type, or say why not."""
    if kind is bool:
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.lower() in {
            "1",
            "true",
            "yes",
            "on",
            "0",
            "false",
            "no",
            "off",
        }:
            return value.lower() in {"1", "true", "yes", "on"}
        raise ConfigError(f"{where}: expected true or false, got {value!r}")
    if kind is int:
        if isinstance(value, bool):
            raise ConfigError(f"{where}: expected a whole number, got {value!r}")
        try:
            return int(value)
        except (TypeError, ValueError):
            raise ConfigError(f"{where}: expected a whole number, got {value!r}") from None
    if kind is float:
        try:
            return float(value)
        except (TypeError, ValueError):
            raise ConfigError(f"{where}: expected a number, got {value!r}") from None
    if kind is Path:
        if not isinstance(value, str):
            raise ConfigError(f"{where}: expected a path, got {value!r}")
        return Path(value).expanduser()
    if getattr(kind, "__origin__", None) is tuple:
        # A list in TOML, or comma-separated text in an environment variable.
        items = value.split(",") if isinstance(value, str) else value
        if not isinstance(items, list | tuple):
            raise ConfigError(f"{where}: expected a list, got {value!r}")
        (item_kind, _ellipsis) = get_args(kind)
        return tuple(
            _coerce(item.strip() if isinstance(item, str) else item, item_kind, where)
            for item in items
            if not (isinstance(item, str) and not item.strip())
        )
    if getattr(kind, "__origin__", None) is Literal:
        choices = get_args(kind)
        if value not in choices:
            raise ConfigError(f"{where}: expected one of {', '.join(choices)}, got {value!r}")
        return value
    if kind is str:
        if not isinstance(value, str):
            raise ConfigError(f"{where}: expected text, got {value!r}")
        return value
    raise ConfigError(f"{where}: unsupported setting type {kind!r}")


def _section_types(cls: type[Any]) -> dict[str, Any]:
    return get_type_hints(cls)


def _apply(base: Config, layer: Mapping[str, Mapping[str, Any]], source: str) -> Config:
    sections = _section_types(Config)
    replaced: dict[str, Any] = {}
    for section_name, values in layer.items():
        if section_name not in sections:
            known = ", ".join(sorted(sections))
            raise ConfigError(f"{source}: unknown section [{section_name}] (known: {known})")
        if not isinstance(values, Mapping):
            raise ConfigError(f"{source}: [{section_name}] must be a table")
        section_cls = sections[section_name]
        hints = _section_types(section_cls)
        current = replaced.get(section_name, getattr(base, section_name))
        changes: dict[str, Any] = {}
        for key, raw in values.items():
            if key not in hints:
                known = ", ".join(sorted(hints))
                raise ConfigError(
                    f"{source}: unknown setting {section_name}.{key} (known: {known})"
                )
            changes[key] = _coerce(raw, hints[key], f"{source}: {section_name}.{key}")
        replaced[section_name] = dataclasses.replace(current, **changes)
    return dataclasses.replace(base, **replaced)


def _env_layer(environ: Mapping[str, str]) -> dict[str, dict[str, str]]:
    sections = _section_types(Config)
    layer: dict[str, dict[str, str]] = {}
    for name, value in environ.items():
        if not name.startswith(ENV_PREFIX) or name == CONFIG_ENV:
            continue
        rest = name[len(ENV_PREFIX) :].lower()
        section, _, key = rest.partition("_")
        if section not in sections or not key:
            # Other PHONEBANK_* variables (e.g. for tests) are not settings.
            continue
        layer.setdefault(section, {})[key] = value
    return layer


def load_config(path: Path | None = None, environ: Mapping[str, str] | None = None) -> Config:
    """Build the settings: defaults, then the TOML file (if any), then the environment."""
    env = os.environ if environ is None else environ
    config = Config(
        paths=PathsConfig(
            data_dir=_xdg("XDG_DATA_HOME", ".local/share", env) / "phonebank",
            cache_dir=_xdg("XDG_CACHE_HOME", ".cache", env) / "phonebank",
        )
    )
    file_path = (
        path if path is not None else (Path(env[CONFIG_ENV]) if env.get(CONFIG_ENV) else None)
    )
    if file_path is not None:
        try:
            with file_path.open("rb") as handle:
                data = tomllib.load(handle)
        except FileNotFoundError:
            raise ConfigError(f"configuration file {file_path} does not exist") from None
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"{file_path}: not valid TOML: {exc}") from None
        config = _apply(config, data, str(file_path))
    return _apply(config, _env_layer(env), "environment")


def describe(config: Config) -> dict[str, dict[str, Any]]:
    """The effective settings as plain values, secrets masked (for `phonebank config`)."""
    out: dict[str, dict[str, Any]] = {}
    for section in dataclasses.fields(config):
        values = dataclasses.asdict(getattr(config, section.name))
        for key, value in values.items():
            if ("secret" in key or "password" in key or key == "pin") and value:
                values[key] = "********"
            elif isinstance(value, Path):
                values[key] = str(value)
        out[section.name] = values
    return out
