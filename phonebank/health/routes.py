"""GET /healthz (for monitoring, no login) and the status page (logged-in users)."""

from __future__ import annotations

import aiohttp_jinja2
from aiohttp import web

from phonebank.health.service import HealthService
from phonebank.web.app import Feature
from phonebank.web.security import public, requires

HEALTH = web.AppKey("health", HealthService)


@public
async def healthz(request: web.Request) -> web.Response:
    report = await request.app[HEALTH].check()
    return web.json_response(report.as_dict(), status=200 if report.healthy else 503)


@requires("volunteer")
async def home(request: web.Request) -> web.Response:
    report = await request.app[HEALTH].check()
    return aiohttp_jinja2.render_template("home.html", request, {"report": report})


def setup(service: HealthService) -> Feature:
    def install(app: web.Application) -> None:
        app[HEALTH] = service
        app.router.add_get("/healthz", healthz, name="healthz")
        app.router.add_get("/", home, name="home")

    return install
