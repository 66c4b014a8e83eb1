"""What the admin handlers share: the parts they use, database calls off the event
loop, the submitted form, who is asking, and redirects with a notice."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Protocol, TypeVar

from aiohttp import web
from multidict import MultiDictProxy
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from phonebank.admin.imports import ImportJobs, Uploads
from phonebank.admin.messages import NOTICES
from phonebank.admin.recordings import RecordingStore
from phonebank.web.app import render
from phonebank.web.security import current_session

T = TypeVar("T")


class Hasher(Protocol):
    def hash(self, password: str) -> str: ...


@dataclass
class AdminParts:
    engine: Engine
    readers: sessionmaker[Session]
    # Read-then-write work: BEGIN IMMEDIATE on SQLite (phonebank.db.engine).
    writers: sessionmaker[Session]
    clock: Callable[[], float]
    hasher: Hasher
    recordings: RecordingStore
    # Uploaded lists, reject reports and export files waiting to be downloaded.
    work_dir: Path
    uploads: Uploads
    jobs: ImportJobs


ADMIN = web.AppKey("admin", AdminParts)


def parts(request: web.Request) -> AdminParts:
    return request.app[ADMIN]


def now(request: web.Request) -> datetime:
    return datetime.fromtimestamp(parts(request).clock(), UTC)


async def read(request: web.Request, work: Callable[[Session], T]) -> T:
    """Run `work` with a read session in a thread (the database driver blocks)."""
    sessions = parts(request).readers

    def run() -> T:
        with sessions() as session:
            return work(session)

    return await asyncio.to_thread(run)


async def write(request: web.Request, work: Callable[[Session], T]) -> T:
    """Run `work` in one transaction, in a thread; committed when it returns."""
    sessions = parts(request).writers

    def run() -> T:
        with sessions.begin() as session:
            return work(session)

    return await asyncio.to_thread(run)


async def form(request: web.Request) -> MultiDictProxy[str | bytes | bytearray | web.FileField]:
    return await request.post()


def fields(submitted: Mapping[str, object]) -> dict[str, str]:
    """The text fields of a form (files left out), stripped except passwords."""
    return {
        k: v if k.startswith("password") else v.strip()
        for k, v in submitted.items()
        if isinstance(v, str)
    }


def actor(request: web.Request) -> str:
    """Who acts, as the audit log writes it."""
    session = current_session(request)
    return f"web:{session.name or session.user_id}"[:128]


def see_other(path: str, notice: str | None = None) -> web.HTTPSeeOther:
    if notice is not None:
        separator = "&" if "?" in path else "?"
        path = f"{path}{separator}notice={notice}"
    return web.HTTPSeeOther(path)


def page(
    request: web.Request,
    template: str,
    context: Mapping[str, object],
    *,
    status: int = 200,
) -> web.Response:
    """An admin page: the notice named in the query (after a redirect) shown once."""
    notice = NOTICES.get(request.query.get("notice", ""))
    return render(request, template, {"notice": notice, **context}, status=status)


def int_param(request: web.Request, name: str) -> int:
    try:
        return int(request.match_info[name])
    except ValueError:
        raise web.HTTPNotFound() from None
