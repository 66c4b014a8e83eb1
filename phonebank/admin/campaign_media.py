"""A campaign's safe-harbor and voicemail recordings: upload, text-to-speech, listen."""

from __future__ import annotations

import asyncio
import secrets
from pathlib import Path

from aiohttp import web
from sqlalchemy.orm import Session

from phonebank.admin import messages as m
from phonebank.admin.campaign_form import campaign_fields
from phonebank.admin.campaigns import _edit_context, _load
from phonebank.admin.http import form, int_param, now, page, parts, read, see_other, write
from phonebank.admin.recordings import KINDS, MAX_UPLOAD_BYTES, RecordingError
from phonebank.web.security import requires

MAX_TEXT = 1000


def _kind(request: web.Request) -> str:
    kind = request.match_info["kind"]
    if kind not in KINDS:
        raise web.HTTPNotFound()
    return kind


async def _set(request: web.Request, campaign_id: int, kind: str, stored: str | None) -> None:
    at = now(request)

    def save(session: Session) -> None:
        campaign = _load(session, campaign_id)
        setattr(campaign, f"{kind}_recording", stored)
        campaign.updated_at = at

    await write(request, save)


def _save_upload(upload: web.FileField, folder: Path) -> Path | None:
    """The uploaded file on disk (None when no file was chosen); RecordingError if too big."""
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / f"recording-{secrets.token_hex(8)}.upload"
    size = 0
    with target.open("wb") as out:
        while chunk := upload.file.read(64 * 1024):
            size += len(chunk)
            if size > MAX_UPLOAD_BYTES:
                out.close()
                target.unlink(missing_ok=True)
                raise RecordingError("too_big")
            out.write(chunk)
    if size == 0:
        target.unlink(missing_ok=True)
        return None
    return target


@requires("admin")
async def recording_save(request: web.Request) -> web.Response:
    campaign_id = int_param(request, "campaign_id")
    kind = _kind(request)
    await read(request, lambda s: _load(s, campaign_id))
    submitted = await form(request)
    admin = parts(request)
    upload = submitted.get("file")
    text = str(submitted.get("text", "")).strip()
    language = str(submitted.get("language", "fr"))
    try:
        saved = None
        if isinstance(upload, web.FileField):
            saved = await asyncio.to_thread(_save_upload, upload, admin.work_dir / "uploads")
        if saved is not None:
            try:
                stored = await asyncio.to_thread(
                    admin.recordings.from_wav, campaign_id, kind, saved
                )
            finally:
                saved.unlink(missing_ok=True)
        elif text:
            if len(text) > MAX_TEXT:
                raise RecordingError("too_long")
            stored = await asyncio.to_thread(
                admin.recordings.from_text, campaign_id, kind, text, language
            )
        else:
            raise RecordingError("nothing")
    except RecordingError as exc:
        message = {
            "too_big": m.FILE_TOO_BIG,
            "too_long": m.TOO_LONG,
            "nothing": m.GIVE_FILE_OR_TEXT,
        }
        campaign = await read(request, lambda s: _load(s, campaign_id))
        context = _edit_context(request, campaign, campaign_fields(campaign), {})
        context["status_error"] = message.get(exc.code) or m.RECORDING_ERRORS[exc.code]
        return page(request, "admin/campaign_form.html", context, status=422)
    await _set(request, campaign_id, kind, stored)
    raise see_other(f"/admin/campaigns/{campaign_id}#recording-{kind}", "recording")


@requires("admin")
async def recording_clear(request: web.Request) -> web.Response:
    campaign_id = int_param(request, "campaign_id")
    kind = _kind(request)
    await _set(request, campaign_id, kind, None)
    parts(request).recordings.file(campaign_id, kind).unlink(missing_ok=True)
    raise see_other(f"/admin/campaigns/{campaign_id}", "recording_removed")


@requires("admin")
async def recording_play(request: web.Request) -> web.StreamResponse:
    campaign_id = int_param(request, "campaign_id")
    kind = _kind(request)
    campaign = await read(request, lambda s: _load(s, campaign_id))
    path = parts(request).recordings.host_file(getattr(campaign, f"{kind}_recording"))
    if path is None:
        raise web.HTTPNotFound()
    return web.FileResponse(path, headers={"Content-Type": "audio/wav"})


def install(router: web.UrlDispatcher) -> None:
    base = "/admin/campaigns/{campaign_id:\\d+}/recordings/{kind:safe_harbor|voicemail}"
    router.add_post(base, recording_save)
    router.add_post(base + "/clear", recording_clear)
    router.add_get(base + ".wav", recording_play)
