"""Accounts: list, create, change role and language, disable, set a new password.

Passwords are hashed with argon2 (phonebank.security.passwords) off the event
loop and never shown back, not even in a form sent back with errors.
"""

from __future__ import annotations

import asyncio
from typing import Any

from aiohttp import web
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from phonebank.accounts.repo import CODE_ONLY_HASH
from phonebank.admin import messages as m
from phonebank.admin.http import fields, form, int_param, now, page, parts, read, see_other, write
from phonebank.admin.user_form import (
    AccountValues,
    parse_new_user,
    parse_password,
    parse_user_change,
)
from phonebank.db.models import User
from phonebank.web.security import current_session, requires

_SECRET_FIELDS = ("password", "password2")


def _shown(values: dict[str, str]) -> dict[str, str]:
    return {k: v for k, v in values.items() if k not in _SECRET_FIELDS}


@requires("admin")
async def user_list(request: web.Request) -> web.Response:
    with_guests = request.query.get("guests") == "1"

    def load(session: Session) -> list[User]:
        statement = select(User).order_by(User.role, User.username)
        if not with_guests:
            statement = statement.where(User.password_hash != CODE_ONLY_HASH)
        return list(session.scalars(statement))

    users = await read(request, load)
    return page(
        request,
        "admin/users.html",
        {"users": users, "with_guests": with_guests, "guest_hash": CODE_ONLY_HASH},
    )


@requires("admin")
async def user_new(request: web.Request) -> web.Response:
    values = {"role": "volunteer", "language": "fr", "active": "on"}
    context = {"user": None, "values": values, "errors": {}}
    return page(request, "admin/user_form.html", context)


def _set(user: User, account: AccountValues) -> None:
    user.display_name = account.display_name or user.username
    user.role = account.role
    user.language = account.language
    user.active = account.active


@requires("admin")
async def user_create(request: web.Request) -> web.Response:
    values = fields(await form(request))
    parsed, errors = parse_new_user(values)
    if parsed is not None:
        username, password, account = parsed
        password_hash = await asyncio.to_thread(parts(request).hasher.hash, password)

        def create(session: Session) -> int | None:
            if session.scalar(select(User.id).where(User.username == username)) is not None:
                return None
            user = User(username=username, password_hash=password_hash)
            _set(user, account)
            try:
                with session.begin_nested():
                    session.add(user)
            except IntegrityError:
                return None
            return user.id

        created = await write(request, create)
        if created is not None:
            raise see_other(f"/admin/users/{created}", "created")
        errors = {"username": m.USERNAME_TAKEN}
    context = {"user": None, "values": _shown(values), "errors": errors}
    return page(request, "admin/user_form.html", context, status=422)


def _load(session: Session, user_id: int) -> User:
    user = session.get(User, user_id)
    if user is None:
        raise web.HTTPNotFound()
    return user


def _values(user: User) -> dict[str, str]:
    return {
        "display_name": user.display_name,
        "role": user.role.value,
        "language": user.language.value,
        "active": "on" if user.active else "",
    }


def _context(
    request: web.Request, user: User, values: dict[str, str], errors: dict[str, str]
) -> dict[str, Any]:
    return {
        "user": user,
        "values": values,
        "errors": errors,
        "is_self": user.id == current_session(request).user_id,
        "is_guest": user.password_hash == CODE_ONLY_HASH,
    }


@requires("admin")
async def user_edit(request: web.Request) -> web.Response:
    user_id = int_param(request, "user_id")
    user = await read(request, lambda s: _load(s, user_id))
    return page(request, "admin/user_form.html", _context(request, user, _values(user), {}))


@requires("admin")
async def user_save(request: web.Request) -> web.Response:
    user_id = int_param(request, "user_id")
    values = fields(await form(request))
    editing_self = user_id == current_session(request).user_id
    parsed, errors = parse_user_change(values, editing_self=editing_self)
    at = now(request)

    def save(session: Session) -> User:
        user = _load(session, user_id)
        if parsed is not None:
            _set(user, parsed)
            user.updated_at = at
        return user

    user = await write(request, save)
    if parsed is not None:
        raise see_other(f"/admin/users/{user_id}", "saved")
    return page(
        request, "admin/user_form.html", _context(request, user, values, errors), status=422
    )


@requires("admin")
async def user_password(request: web.Request) -> web.Response:
    user_id = int_param(request, "user_id")
    values = fields(await form(request))
    user = await read(request, lambda s: _load(s, user_id))
    password, errors = parse_password(values)
    if password is None:
        context = _context(request, user, _values(user), errors)
        return page(request, "admin/user_form.html", context, status=422)
    password_hash = await asyncio.to_thread(parts(request).hasher.hash, password)
    at = now(request)

    def save(session: Session) -> None:
        changed = _load(session, user_id)
        changed.password_hash = password_hash
        changed.updated_at = at

    await write(request, save)
    raise see_other(f"/admin/users/{user_id}", "password")


def install(router: web.UrlDispatcher) -> None:
    router.add_get("/admin/users", user_list)
    router.add_get("/admin/users/new", user_new)
    router.add_post("/admin/users/new", user_create)
    router.add_get("/admin/users/{user_id:\\d+}", user_edit)
    router.add_post("/admin/users/{user_id:\\d+}", user_save)
    router.add_post("/admin/users/{user_id:\\d+}/password", user_password)
