"""Lists from the browser: upload with a column-mapping preview, import with progress
and a reject report, the target builder, refreshing a list."""

from __future__ import annotations

import asyncio
from datetime import date
from typing import Any

from aiohttp import web
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from phonebank.admin import campaign_repo, list_repo
from phonebank.admin import messages as m
from phonebank.admin.http import actor, fields, form, int_param, now, page, parts, read, see_other
from phonebank.admin.imports import Upload, UploadError, preview
from phonebank.admin.list_form import TARGET_FIELDS, mapping_choices, parse_import, parse_target
from phonebank.db.enums import SupportLevel
from phonebank.lists import calllists
from phonebank.lists.errors import ListError, ListFileError
from phonebank.lists.export import campaign_id as campaign_id_of
from phonebank.lists.service import ImportOptions
from phonebank.lists.targeting import Target
from phonebank.web.security import requires

_UPLOAD_ERRORS = {"empty": m.EMPTY_FILE, "too_big": m.FILE_TOO_BIG, "nothing": m.CHOOSE_FILE}


async def _overview(
    request: web.Request, error: str | None = None, status: int = 200
) -> web.Response:
    def load(session: Session) -> tuple[Any, Any]:
        return list_repo.summaries(session), campaign_repo.names(session)

    lists, campaigns = await read(request, load)
    context = {
        "lists": lists,
        "campaigns": campaigns,
        "jobs": parts(request).jobs.recent(),
        "upload_error": error,
    }
    return page(request, "admin/lists.html", context, status=status)


@requires("admin")
async def lists_page(request: web.Request) -> web.Response:
    return await _overview(request)


@requires("admin")
async def upload(request: web.Request) -> web.Response:
    submitted = await form(request)
    file = submitted.get("file")
    try:
        if not isinstance(file, web.FileField):
            raise UploadError("nothing")
        saved = await asyncio.to_thread(parts(request).uploads.save, file.filename, file.file)
    except UploadError as exc:
        return await _overview(request, _UPLOAD_ERRORS[exc.code], status=422)
    campaign = str(submitted.get("campaign", ""))
    suffix = f"?campaign={campaign}" if campaign.isdigit() else ""
    raise see_other(f"/admin/lists/uploads/{saved.token}{suffix}")


def _upload(request: web.Request) -> Upload:
    found = parts(request).uploads.get(request.match_info["token"])
    if found is None:
        raise web.HTTPNotFound(text="this upload is no longer here; upload the file again")
    return found


async def _mapping_page(
    request: web.Request,
    found: Upload,
    values: dict[str, str],
    errors: dict[str, str],
    status: int = 200,
) -> web.Response:
    campaigns = await read(request, campaign_repo.names)
    try:
        shown = await asyncio.to_thread(preview, found.path)
    except ListFileError as exc:
        message = str(exc).replace(str(found.path), found.filename)
        context = {"upload": found, "file_error": message, "preview": None}
        return page(request, "admin/list_upload.html", context, status=422)
    for index, header in enumerate(shown.headers):
        values.setdefault(f"map_{index}", shown.guessed[header])
    context = {
        "upload": found,
        "file_error": None,
        "preview": shown,
        "choices": [mapping_choices(h) for h in shown.headers],
        "campaigns": campaigns,
        "values": values,
        "errors": errors,
    }
    return page(request, "admin/list_upload.html", context, status=status)


@requires("admin")
async def upload_preview(request: web.Request) -> web.Response:
    found = _upload(request)
    values = {"campaign": request.query.get("campaign", ""), "region": "FR"}
    return await _mapping_page(request, found, values, {})


@requires("admin")
async def upload_import(request: web.Request) -> web.Response:
    found = _upload(request)
    values = fields(await form(request))
    try:
        shown = await asyncio.to_thread(preview, found.path)
    except ListFileError:
        return await _mapping_page(request, found, values, {})
    campaigns = dict(await read(request, campaign_repo.names))
    choice, errors = parse_import(values, shown.headers, set(campaigns))
    if choice is None:
        return await _mapping_page(request, found, values, errors, status=422)
    options = ImportOptions(
        campaign=campaigns[choice.campaign_id],
        list_name=choice.list_name,
        overrides=choice.overrides,
        region=choice.region,
    )
    admin = parts(request)
    job = admin.jobs.start(found, options, actor(request), admin.clock())
    raise see_other(f"/admin/lists/imports/{job.id}")


def _job(request: web.Request) -> Any:
    job = parts(request).jobs.get(request.match_info["job"])
    if job is None:
        raise web.HTTPNotFound()
    return job


@requires("admin")
async def job_page(request: web.Request) -> web.Response:
    return page(request, "admin/list_import.html", {"job": _job(request)})


@requires("admin")
async def job_status(request: web.Request) -> web.Response:
    return web.json_response(_job(request).status())


@requires("admin")
async def job_rejects(request: web.Request) -> web.StreamResponse:
    job = _job(request)
    if job.rejects is None or not job.rejects.is_file():
        raise web.HTTPNotFound()
    name = f"{job.filename.rsplit('.', 1)[0]}.rejects.csv".replace('"', "")
    return web.FileResponse(
        job.rejects,
        headers={
            "Content-Type": "text/csv; charset=utf-8",
            "Content-Disposition": f'attachment; filename="{name}"',
        },
    )


def _target_context(
    campaigns: list[tuple[int, str]],
    values: dict[str, str],
    supports: list[str],
    errors: dict[str, str],
    count: int | None = None,
) -> dict[str, Any]:
    return {
        "campaigns": campaigns,
        "values": values,
        "supports": supports,
        "support_levels": [s.value for s in SupportLevel],
        "errors": errors,
        "count": count,
        "text_fields": TARGET_FIELDS,
    }


@requires("admin")
async def build_form(request: web.Request) -> web.Response:
    campaigns = await read(request, campaign_repo.names)
    values = {"campaign": request.query.get("campaign", "")}
    return page(request, "admin/list_build.html", _target_context(campaigns, values, [], {}))


def _count(engine: Engine, campaign: str, target: Target, today: date) -> int:
    with engine.connect() as conn:
        cid = campaign_id_of(conn, campaign)
        return sum(1 for _ in calllists.matching_contacts(conn, cid, target, today))


@requires("admin")
async def build_submit(request: web.Request) -> web.Response:
    submitted = await form(request)
    values = fields(submitted)
    supports = [str(v) for v in submitted.getall("support", []) if isinstance(v, str)]
    campaigns = await read(request, campaign_repo.names)
    names = dict(campaigns)
    target, checked = parse_target(values, supports)
    campaign_text = values.get("campaign", "")
    if not campaign_text.isdigit() or int(campaign_text) not in names:
        checked.fail("campaign", m.UNKNOWN_CAMPAIGN)
    building = values.get("action") != "count"
    name = checked.text("name", required=building, max_length=128)
    if target is None or not checked.ok:
        context = _target_context(campaigns, values, supports, checked.errors)
        return page(request, "admin/list_build.html", context, status=422)
    campaign = names[int(campaign_text)]
    engine, today = parts(request).engine, now(request).date()
    if not building:
        count = await asyncio.to_thread(_count, engine, campaign, target, today)
        context = _target_context(campaigns, values, supports, {}, count)
        return page(request, "admin/list_build.html", context)
    try:
        await asyncio.to_thread(calllists.build, engine, campaign, name, target, today)
    except ListError:
        context = _target_context(campaigns, values, supports, {"name": m.LIST_TAKEN})
        return page(request, "admin/list_build.html", context, status=422)
    raise see_other("/admin/lists", "built")


@requires("admin")
async def refresh(request: web.Request) -> web.Response:
    list_id = int_param(request, "list_id")
    found = await read(request, lambda s: list_repo.list_by_id(s, list_id))
    if found is None:
        raise web.HTTPNotFound()
    campaign, name = found
    await asyncio.to_thread(
        calllists.refresh, parts(request).engine, campaign, name, now(request).date()
    )
    raise see_other("/admin/lists", "refreshed")


def install(router: web.UrlDispatcher) -> None:
    router.add_get("/admin/lists", lists_page)
    router.add_post("/admin/lists/upload", upload)
    router.add_get("/admin/lists/uploads/{token}", upload_preview)
    router.add_post("/admin/lists/uploads/{token}", upload_import)
    router.add_get("/admin/lists/imports/{job}", job_page)
    router.add_get("/admin/lists/imports/{job}/status", job_status)
    router.add_get("/admin/lists/imports/{job}/rejects.csv", job_rejects)
    router.add_get("/admin/lists/build", build_form)
    router.add_post("/admin/lists/build", build_submit)
    router.add_post("/admin/lists/{list_id:\\d+}/refresh", refresh)
