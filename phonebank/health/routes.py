"""GET /healthz (for monitoring, no login) and the status page (logged-in users)."""

from __future__ import annotations

from aiohttp import web

from phonebank.health.service import HealthService
from phonebank.web.app import Feature, render
from phonebank.web.security import public, requires

HEALTH = web.AppKey("health", HealthService)


@public
async def healthz(request: web.Request) -> web.Response:
    report = await request.app[HEALTH].check()
    return web.json_response(report.as_dict(), status=200 if report.healthy else 503)


@requires("volunteer")
async def home(request: web.Request) -> web.Response:
    report = await request.app[HEALTH].check()
    return render(request, "home.html", {"report": report})


def setup(service: HealthService) -> Feature:
    def install(app: web.Application) -> None:
        app[HEALTH] = service
        app.router.add_get("/healthz", healthz, name="healthz")
        app.router.add_get("/", home, name="home")

    return install
