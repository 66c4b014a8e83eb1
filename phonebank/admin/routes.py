"""The admin area's routes: `setup(...)` is the Feature the composition root installs."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from aiohttp import web
from sqlalchemy import Engine

from phonebank.admin import (
    campaign_media,
    campaigns,
    codes,
    dispositions,
    dnc,
    lists,
    reports,
    scripts,
    stations,
    users,
)
from phonebank.admin import followup as followup_area
from phonebank.admin.followup_parts import FOLLOWUP, FollowUpScreens
from phonebank.admin.http import ADMIN, AdminParts, Hasher, page
from phonebank.admin.imports import ImportJobs, Uploads
from phonebank.admin.recordings import RecordingStore
from phonebank.db.engine import session_factory, writer_session_factory
from phonebank.web.app import Feature
from phonebank.web.security import requires

# Each area's module installs its own routes.
AREAS = (
    campaigns,
    campaign_media,
    dispositions,
    scripts,
    users,
    codes,
    stations,
    lists,
    dnc,
    reports,
)


@requires("supervisor")
async def overview(request: web.Request) -> web.Response:
    return page(request, "admin/index.html", {})


def setup(
    *,
    engine: Engine,
    clock: Callable[[], float],
    hasher: Hasher,
    recordings: RecordingStore,
    work_dir: Path,
    followup: FollowUpScreens | None = None,
) -> Feature:
    """The admin and supervisor screens under /admin.

    `recordings` says where campaign recordings are written and how Asterisk sees
    that folder; `work_dir` holds uploaded lists and reject reports for a while;
    `followup` (the composer of the follow-up workers) adds the follow-up screens.
    """
    admin = AdminParts(
        engine=engine,
        readers=session_factory(engine),
        writers=writer_session_factory(engine),
        clock=clock,
        hasher=hasher,
        recordings=recordings,
        work_dir=work_dir,
        uploads=Uploads(work_dir / "uploads"),
        jobs=ImportJobs(engine, work_dir / "imports"),
    )

    def install(app: web.Application) -> None:
        app[ADMIN] = admin

        async def finish_imports(_app: web.Application) -> None:
            # An import still running holds a transaction: let it end before exit.
            await admin.jobs.wait()

        app.on_cleanup.append(finish_imports)
        router = app.router
        router.add_get("/admin", overview, name="admin")
        if followup is not None:
            app[FOLLOWUP] = followup
            followup_area.install(router)
        for area in (
            campaigns,
            campaign_media,
            dispositions,
            scripts,
            users,
            codes,
            stations,
            lists,
            dnc,
            reports,
        ):
            area.install(router)

    return install
