"""Prometheus metrics: one registry per service (no global state), filled by the parts."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client import Info as InfoMetric

from phonebank import __version__

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


class Metrics:
    """The metrics the service exposes on GET /metrics."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.build = InfoMetric("phonebank_build", "Phonebank version", registry=self.registry)
        self.build.info({"version": __version__})
        self.ami_connected = Gauge(
            "phonebank_ami_connected",
            "1 while the AMI link to Asterisk is logged in, else 0",
            registry=self.registry,
        )
        self.http_requests = Counter(
            "phonebank_http_requests",
            "HTTP requests answered, by route and status class",
            ["method", "route", "status"],
            registry=self.registry,
        )
        self.http_seconds = Histogram(
            "phonebank_http_request_seconds",
            "Time to answer an HTTP request",
            ["route"],
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5),
            registry=self.registry,
        )

        # The call floor (phonebank/metrics/floor.py fills these from the runner).
        self.stations = Gauge(
            "phonebank_stations",
            "Stations by state (ready, talking, wrap_up, paused, logged_out)",
            ["campaign", "state"],
            registry=self.registry,
        )
        self.lines = Gauge(
            "phonebank_lines",
            "Outbound lines by state (ringing, waiting for a station, bridged)",
            ["campaign", "state"],
            registry=self.registry,
        )
        self.calls = Counter(
            "phonebank_calls",
            "Calls settled, by outcome (human, machine, busy, no_answer, invalid, "
            "abandoned, failed, lost)",
            ["campaign", "outcome"],
            registry=self.registry,
        )
        self.abandon_rate = Gauge(
            "phonebank_abandon_rate",
            "Abandoned calls / live answers, today and over 30 days",
            ["campaign", "window"],
            registry=self.registry,
        )
        self.abandon_target = Gauge(
            "phonebank_abandon_target",
            "The campaign's ceiling for the abandon rate",
            ["campaign"],
            registry=self.registry,
        )

    def render(self) -> bytes:
        return generate_latest(self.registry)


def parse_networks(cidrs: Iterable[str]) -> tuple[Network, ...]:
    """The allowed networks, or a ValueError naming the bad entry."""
    networks = []
    for cidr in cidrs:
        try:
            networks.append(ipaddress.ip_network(cidr, strict=False))
        except ValueError:
            raise ValueError(
                f"web.metrics_allow: {cidr!r} is not a network like 127.0.0.0/8"
            ) from None
    return tuple(networks)


def address_allowed(address: str | None, networks: tuple[Network, ...]) -> bool:
    if not address:
        return False
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return any(ip in network for network in networks)
