"""GET /metrics: Prometheus text, only for allowed networks, with request counts."""

from __future__ import annotations

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from phonebank.metrics import routes as metrics_routes
from phonebank.metrics.service import Metrics, address_allowed, parse_networks
from phonebank.web.app import create_app


def _app(metrics: Metrics, allow: tuple[str, ...]) -> web.Application:
    return create_app(
        secret_key=b"m" * 32,
        clock=lambda: 0.0,
        features=[metrics_routes.setup(metrics, parse_networks(allow))],
    )


async def test_metrics_for_loopback() -> None:
    metrics = Metrics()
    metrics.ami_connected.set(1)
    async with TestClient(TestServer(_app(metrics, ("127.0.0.0/8",)))) as client:
        await client.get("/nowhere")
        response = await client.get("/metrics")
        assert response.status == 200
        assert response.headers["Content-Type"].startswith("text/plain")
        text = await response.text()
    assert "phonebank_ami_connected 1.0" in text
    assert 'phonebank_build_info{version="' in text
    assert 'phonebank_http_requests_total{method="GET",route="unmatched",status="4xx"} 1.0' in text


async def test_metrics_refused_outside_the_allowed_networks() -> None:
    async with TestClient(TestServer(_app(Metrics(), ("10.0.0.0/8",)))) as client:
        response = await client.get("/metrics")
        assert response.status == 403


def test_address_checks() -> None:
    networks = parse_networks(["127.0.0.0/8", "192.168.1.0/24", "::1/128"])
    assert address_allowed("127.0.0.1", networks)
    assert address_allowed("::ffff:192.168.1.7", networks)  # IPv4 seen through IPv6
    assert address_allowed("::1", networks)
    assert not address_allowed("192.168.2.1", networks)
    assert not address_allowed(None, networks)
    assert not address_allowed("not-an-ip", networks)


def test_bad_network_is_named() -> None:
    with pytest.raises(ValueError, match=r"'10\.0\.0\.0/33'"):
        parse_networks(["10.0.0.0/33"])
