"""The do-not-call list: search it, add numbers typed or from a file.

Adding goes through phonebank.lists.dnc (as `phonebank dnc add|import`): the
number is stored once, and every phone with that number, in every campaign,
stops being callable at once.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from aiohttp import web
from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from phonebank.admin import messages as m
from phonebank.admin.http import fields, form, page, parts, read
from phonebank.admin.imports import UploadError
from phonebank.db.models import DoNotCallEntry
from phonebank.lists import dnc
from phonebank.lists.errors import ListFileError
from phonebank.lists.phones import Phone, normalize
from phonebank.web.security import requires

SHOWN = 100


def _search(session: Session, query: str) -> tuple[int, list[DoNotCallEntry]]:
    total = session.scalar(select(func.count()).select_from(DoNotCallEntry)) or 0
    statement = select(DoNotCallEntry).order_by(DoNotCallEntry.added_at.desc()).limit(SHOWN)
    if query:
        phone = normalize(query)
        digits = "".join(ch for ch in query if ch.isdigit())
        conditions = [DoNotCallEntry.e164.contains(digits)] if digits else []
        if isinstance(phone, Phone):
            conditions.append(DoNotCallEntry.e164 == phone.e164)
        if not conditions:
            return total, []
        statement = statement.where(or_(*conditions))
    return total, list(session.scalars(statement))


async def _page(
    request: web.Request,
    *,
    result: dnc.DncResult | None = None,
    errors: dict[str, str] | None = None,
    values: dict[str, str] | None = None,
    status: int = 200,
) -> web.Response:
    query = request.query.get("q", "").strip()[:64]
    total, entries = await read(request, lambda s: _search(s, query))
    context: dict[str, Any] = {
        "query": query,
        "total": total,
        "entries": entries,
        "result": result,
        "errors": errors or {},
        "values": values or {},
    }
    return page(request, "admin/dnc.html", context, status=status)


@requires("admin")
async def dnc_page(request: web.Request) -> web.Response:
    return await _page(request)


@requires("admin")
async def dnc_add(request: web.Request) -> web.Response:
    values = fields(await form(request))
    lines = [(n, text) for n, text in enumerate(values.get("numbers", "").splitlines(), 1)]
    lines = [(n, text.strip()) for n, text in lines if text.strip()]
    if not lines:
        return await _page(request, errors={"numbers": m.NO_NUMBERS}, values=values, status=422)
    reason = values.get("reason", "")[:500]
    result = await asyncio.to_thread(
        dnc.add_numbers, parts(request).engine, lines, source="manual", reason=reason
    )
    return await _page(request, result=result)


def _import_file(engine: Any, path: Path, reason: str) -> dnc.DncResult:
    return dnc.add_numbers(engine, dnc.file_numbers(path, {}), source="import", reason=reason)


@requires("admin")
async def dnc_import(request: web.Request) -> web.Response:
    submitted = await form(request)
    file = submitted.get("file")
    reason = str(submitted.get("reason", ""))[:500]
    admin = parts(request)
    try:
        if not isinstance(file, web.FileField):
            raise UploadError("nothing")
        saved = await asyncio.to_thread(admin.uploads.save, file.filename, file.file)
    except UploadError as exc:
        message = {"empty": m.EMPTY_FILE, "too_big": m.FILE_TOO_BIG}.get(exc.code, m.CHOOSE_FILE)
        return await _page(request, errors={"file": message}, status=422)
    try:
        result = await asyncio.to_thread(_import_file, admin.engine, saved.path, reason)
    except ListFileError:
        return await _page(request, errors={"file": m.NO_PHONE_COLUMN_IN_FILE}, status=422)
    finally:
        admin.uploads.remove(saved)
    return await _page(request, result=result)


def install(router: web.UrlDispatcher) -> None:
    router.add_get("/admin/dnc", dnc_page)
    router.add_post("/admin/dnc/add", dnc_add)
    router.add_post("/admin/dnc/import", dnc_import)
