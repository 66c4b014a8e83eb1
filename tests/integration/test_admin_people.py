"""Users, access codes and stations from the browser's forms, on the real databases."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import select

from phonebank.accounts.repo import SqlAccountRepo
from phonebank.accounts.service import AccountService, LoginError
from phonebank.db.engine import session_factory
from phonebank.db.models import AccessCode, Station, User
from tests.integration.admin_app import FAST_HASHER, NOW, AdminWorld, admin_world


@pytest.fixture
async def world(migrated_url: str, tmp_path: Path) -> AsyncIterator[AdminWorld]:
    async with admin_world(migrated_url, tmp_path) as built:
        yield built


def _user(world: AdminWorld, username: str) -> User:
    with session_factory(world.engine)() as session:
        return session.scalars(select(User).where(User.username == username)).one()


def _accounts(world: AdminWorld) -> AccountService:
    return AccountService(SqlAccountRepo(session_factory(world.engine)), FAST_HASHER, lambda: NOW)


async def test_create_an_account_then_log_in_with_it(world: AdminWorld) -> None:
    form = {
        "username": "Marie",
        "display_name": "Marie C.",
        "role": "supervisor",
        "language": "fr",
        "password": "secret-words",
        "password2": "secret-words",
    }
    response = await world.post("/admin/users/new", form)
    assert response.status == 303, await response.text()
    user = _user(world, "marie")
    assert user.role.value == "supervisor" and user.display_name == "Marie C."
    assert user.password_hash.startswith("$argon2")
    page = await (await world.client.get(response.headers["Location"])).text()
    assert "secret-words" not in page and user.password_hash not in page
    assert _accounts(world).login("marie", "secret-words", "127.0.0.1").id == user.id

    again = await world.post("/admin/users/new", form)
    assert again.status == 422
    assert "Another account has this user name." in await again.text()


async def test_new_account_errors_never_show_the_password(world: AdminWorld) -> None:
    response = await world.post(
        "/admin/users/new",
        {
            "username": "bad name",
            "role": "volunteer",
            "language": "fr",
            "password": "short",
            "password2": "short",
        },
    )
    assert response.status == 422
    page = await response.text()
    assert '">User name</a>: Use up to 64 characters, without spaces.' in page
    assert '">Password</a>: Use at least 8 characters.' in page
    assert 'value="short"' not in page


async def test_change_role_disable_and_reset_password(world: AdminWorld) -> None:
    volunteer = world.users["volunteer"]
    path = f"/admin/users/{volunteer}"
    response = await world.post(
        path,
        {"display_name": "Vic", "role": "supervisor", "language": "en", "active": ""},
        page_path=path,
    )
    assert response.status == 303, await response.text()
    user = _user(world, "volunteer1")
    assert user.role.value == "supervisor" and not user.active
    with pytest.raises(LoginError):
        _accounts(world).login("volunteer1", "password-1234", "127.0.0.1")

    await world.post(
        path,
        {"display_name": "Vic", "role": "volunteer", "language": "en", "active": "on"},
        page_path=path,
    )
    mismatch = await world.post(
        f"{path}/password", {"password": "new-password-1", "password2": "other-password"}
    )
    assert mismatch.status == 422
    assert "The two passwords differ." in await mismatch.text()
    changed = await world.post(
        f"{path}/password", {"password": "new-password-1", "password2": "new-password-1"}
    )
    assert changed.status == 303
    assert _accounts(world).login("volunteer1", "new-password-1", "127.0.0.1").id == volunteer


async def test_an_admin_cannot_lock_themself_out(world: AdminWorld) -> None:
    path = f"/admin/users/{world.users['admin']}"
    response = await world.post(
        path,
        {"display_name": "Me", "role": "supervisor", "language": "en", "active": ""},
        page_path=path,
    )
    assert response.status == 422
    assert "You cannot take away your own admin role" in await response.text()
    assert _user(world, "admin1").role.value == "admin"


async def test_codes_create_list_revoke_and_log_in(world: AdminWorld) -> None:
    world.act_as("supervisor")
    page = await (await world.client.get("/admin/codes")).text()
    # A supervisor makes volunteer codes only.
    assert 'value="supervisor"' not in page
    refused = await world.post(
        "/admin/codes", {"hours": "2", "role": "supervisor"}, page_path="/admin/codes"
    )
    assert refused.status == 422
    response = await world.post(
        "/admin/codes", {"hours": "2", "role": "volunteer"}, page_path="/admin/codes"
    )
    assert response.status == 303
    shown = await (await world.client.get(response.headers["Location"])).text()
    match = re.search(r'data-testid="new-code">(\w{4}-\w{4})<', shown)
    assert match, shown
    code = match.group(1)
    with session_factory(world.engine)() as session:
        row = session.scalars(select(AccessCode)).one()
    assert row.created_by_id == world.users["supervisor"]
    assert (row.valid_until - row.valid_from).total_seconds() == 2 * 3600
    account = _accounts(world).login_with_code(code, "Léa", "127.0.0.1")
    assert account.role == "volunteer"

    revoked = await world.post(f"/admin/codes/{row.id}/revoke", {}, page_path="/admin/codes")
    assert revoked.status == 303
    with pytest.raises(LoginError):
        _accounts(world).login_with_code(code, "Léa", "127.0.0.2")
    listing = await (await world.client.get("/admin/codes?all=1")).text()
    assert code in listing and "revoked" in listing


async def test_stations_add_edit_and_refuse_duplicates(world: AdminWorld) -> None:
    ok = await world.post(
        "/admin/stations/new",
        {"new_number": "1", "new_channel": "DAHDI/1", "new_label": "Poste 1", "new_enabled": "on"},
    )
    assert ok.status == 303, await ok.text()
    await world.post(
        "/admin/stations/new",
        {"new_number": "2", "new_channel": "PJSIP/desk-2", "new_enabled": "on"},
    )
    duplicate = await world.post(
        "/admin/stations/new", {"new_number": "1", "new_channel": "DAHDI/9"}
    )
    assert duplicate.status == 422
    assert "Another station has this number." in await duplicate.text()
    bad = await world.post(
        "/admin/stations/new", {"new_number": "3x", "new_channel": "SIP/old", "new_label": 'a"b'}
    )
    text = await bad.text()
    assert "The number must be 1 to 16 digits." in text
    assert "Write DAHDI/ and the port" in text and "No quotes, semicolons" in text

    with session_factory(world.engine)() as session:
        first = session.scalars(select(Station).where(Station.number == "1")).one()
    p = f"s{first.id}_"
    edited = await world.post(
        f"/admin/stations/{first.id}",
        {p + "number": "1", p + "channel": "DAHDI/1", p + "label": "Fenêtre", p + "enabled": ""},
    )
    assert edited.status == 303
    with session_factory(world.engine)() as session:
        first = session.scalars(select(Station).where(Station.number == "1")).one()
    assert first.label == "Fenêtre" and not first.enabled
    clash = await world.post(
        f"/admin/stations/{first.id}", {p + "number": "1", p + "channel": "PJSIP/desk-2"}
    )
    assert "Another station uses this channel." in await clash.text()
