"""GET /metrics for Prometheus, answered only to the allowed networks."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable

from aiohttp import web
from aiohttp.typedefs import Middleware
from prometheus_client import CONTENT_TYPE_LATEST

from phonebank.metrics.service import Metrics, Network, address_allowed
from phonebank.web.app import Feature
from phonebank.web.security import public

METRICS = web.AppKey("metrics", Metrics)
METRICS_ALLOW = web.AppKey("metrics_allow", tuple)


@public
async def metrics(request: web.Request) -> web.Response:
    # Not a login but an address check: Prometheus scrapes without a session.
    if not address_allowed(request.remote, request.app[METRICS_ALLOW]):
        raise web.HTTPForbidden(text="metrics are only served to the networks in web.metrics_allow")
    body = request.app[METRICS].render()
    return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE_LATEST})


def _route_name(request: web.Request) -> str:
    # The route pattern, not the path: per-id paths would make unbounded label sets.
    resource = request.match_info.route.resource
    return resource.canonical if resource is not None else "unmatched"


def _middleware(collected: Metrics) -> Middleware:
    @web.middleware
    async def measure(
        request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
    ) -> web.StreamResponse:
        started = time.perf_counter()
        status = 500
        try:
            response = await handler(request)
            status = response.status
            return response
        except web.HTTPException as exc:
            status = exc.status
            raise
        finally:
            route = _route_name(request)
            collected.http_requests.labels(request.method, route, f"{status // 100}xx").inc()
            collected.http_seconds.labels(route).observe(time.perf_counter() - started)

    return measure


def setup(collected: Metrics, allow: tuple[Network, ...]) -> Feature:
    def install(app: web.Application) -> None:
        app[METRICS] = collected
        app[METRICS_ALLOW] = allow
        # Outermost, so that refused and failed requests are counted too.
        app.middlewares.insert(0, _middleware(collected))
        app.router.add_get("/metrics", metrics, name="metrics")

    return install
