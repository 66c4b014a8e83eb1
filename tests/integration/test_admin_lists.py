"""Lists from the browser on the real databases: upload, mapping preview, import with
progress and reject report, target builder, do-not-call."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import func, select

from phonebank.admin.http import ADMIN
from phonebank.db.engine import session_factory
from phonebank.db.models import CallList, CallListEntry, Campaign, Contact, DoNotCallEntry
from tests.integration.admin_app import AdminWorld, admin_world

VOTERS = (
    "Nom;Prénom;Téléphone;Bureau;Ville;Soutien;Remarque\n"
    "Martin;Claire;06 12 34 56 78;0112;Lyon;indécis;appeler le soir\n"
    "Durand;Paul;04 78 00 00 01;0113;Lyon;soutien;\n"
    "Petit;Léa;pas de numéro;0112;Villeurbanne;indécis;\n"
    "Roux;Marc;07 98 76 54 32;0114;Villeurbanne;opposé;\n"
)


@pytest.fixture
async def world(migrated_url: str, tmp_path: Path) -> AsyncIterator[AdminWorld]:
    async with admin_world(migrated_url, tmp_path) as built:
        with session_factory(built.engine).begin() as session:
            session.add(Campaign(name="Lyon 2027"))
        yield built


def _campaign_id(world: AdminWorld) -> int:
    with session_factory(world.engine)() as session:
        return session.scalars(select(Campaign.id)).one()


async def _upload(world: AdminWorld, tmp_path: Path, text: str, name: str = "voters.csv") -> str:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    with path.open("rb") as handle:
        response = await world.client.post(
            "/admin/lists/upload",
            data={"csrf_token": world.token, "file": handle, "campaign": str(_campaign_id(world))},
            allow_redirects=False,
        )
    assert response.status == 303, await response.text()
    location = response.headers["Location"]
    assert location.startswith("/admin/lists/uploads/")
    return location.split("?")[0]


async def test_upload_preview_map_import_and_rejects(world: AdminWorld, tmp_path: Path) -> None:
    path = await _upload(world, tmp_path, VOTERS)
    preview = await (await world.client.get(path + f"?campaign={_campaign_id(world)}")).text()
    # The guessed mapping is pre-selected, and the first rows are shown.
    assert re.search(r'name="map_2"[^>]*>.*?<option value="phone" selected>', preview, re.S)
    assert re.search(r'name="map_3"[^>]*>.*?<option value="precinct" selected>', preview, re.S)
    assert "appeler le soir" in preview
    mapping = {
        "map_0": "last_name",
        "map_1": "first_name",
        "map_2": "phone",
        "map_3": "precinct",
        "map_4": "city",
        "map_5": "support_level",
        "map_6": "ignore",
        "campaign": str(_campaign_id(world)),
        "list_name": "Tous",
        "region": "FR",
    }
    response = await world.post(path, mapping)
    assert response.status == 303, await response.text()
    job_path = response.headers["Location"]
    job_page = await (await world.client.get(job_path)).text()
    assert 'id="import-progress"' in job_page and "admin.js" in job_page
    app = world.client.app
    assert app is not None
    await app[ADMIN].jobs.wait()
    status = await (await world.client.get(job_path + "/status")).json()
    assert status["state"] == "done", status
    assert status["summary"]["contacts_created"] == 3
    assert status["summary"]["list_entries_added"] == 3
    assert status["rejected"] == 1 and status["fraction"] == 1.0
    rejects = await world.client.get(job_path + "/rejects.csv")
    assert rejects.status == 200
    assert "attachment" in rejects.headers["Content-Disposition"]
    assert "Petit" in (await rejects.read()).decode("utf-8-sig")
    with session_factory(world.engine)() as session:
        contacts = session.scalars(select(Contact).order_by(Contact.last_name)).all()
    assert [c.last_name for c in contacts] == ["Durand", "Martin", "Roux"]
    assert all("Remarque" not in (c.custom_fields or {}) for c in contacts)
    # The uploaded copy is gone once imported.
    assert (await world.client.get(path)).status == 404


async def test_a_mapping_without_phone_column_is_refused(world: AdminWorld, tmp_path: Path) -> None:
    path = await _upload(world, tmp_path, VOTERS)
    mapping = {f"map_{i}": "ignore" for i in range(7)} | {"campaign": str(_campaign_id(world))}
    response = await world.post(path, mapping)
    assert response.status == 422
    page = await response.text()
    assert "Choose at least one column that holds phone numbers." in page
    assert '">Nom</a>' in page  # the error names the column


async def test_an_unreadable_file_says_why(world: AdminWorld, tmp_path: Path) -> None:
    (tmp_path / "photo.csv").write_bytes(b"\x00\x01\x02binary")
    with (tmp_path / "photo.csv").open("rb") as handle:
        response = await world.client.post(
            "/admin/lists/upload", data={"csrf_token": world.token, "file": handle}
        )
    page = await response.text()
    assert response.status == 422 and "This file cannot be read:" in page
    assert "photo.csv: binary content" in page and str(tmp_path) not in page


async def test_target_builder_counts_builds_and_refreshes(
    world: AdminWorld, tmp_path: Path
) -> None:
    path = await _upload(world, tmp_path, VOTERS)
    await world.post(
        path,
        {"map_6": "ignore", "campaign": str(_campaign_id(world))}
        | {
            f"map_{i}": f
            for i, f in enumerate(
                ["last_name", "first_name", "phone", "precinct", "city", "support_level"]
            )
        },
    )
    app = world.client.app
    assert app is not None
    await app[ADMIN].jobs.wait()
    campaign = str(_campaign_id(world))
    token = world.token
    form = {
        "csrf_token": token,
        "campaign": campaign,
        "name": "Indécis de Lyon",
        "support": "undecided",
        "city": "lyon",
    }
    counted = await world.client.post("/admin/lists/build", data=form | {"action": "count"})
    assert counted.status == 200
    assert re.search(r"Contacts matching now:\s*<strong>1</strong>", await counted.text())
    built = await world.client.post(
        "/admin/lists/build", data=form | {"action": "build"}, allow_redirects=False
    )
    assert built.status == 303, await built.text()
    with session_factory(world.engine)() as session:
        call_list = session.scalars(
            select(CallList).where(CallList.name == "Indécis de Lyon")
        ).one()
        entries = session.scalar(
            select(func.count()).where(CallListEntry.call_list_id == call_list.id)
        )
    assert entries == 1
    assert call_list.target == {"where": {"support": ["undecided"], "city": ["lyon"]}}
    again = await world.client.post("/admin/lists/build", data=form | {"action": "build"})
    assert again.status == 422
    assert "This campaign already has a list with this name." in await again.text()
    bad = await world.client.post(
        "/admin/lists/build",
        data={
            "csrf_token": token,
            "campaign": "",
            "name": "x",
            "age_min": "60",
            "age_max": "18",
            "action": "build",
        },
    )
    text = await bad.text()
    assert '">Campaign</a>: Choose a campaign.' in text
    assert '">Age from</a>: The lowest age is above the highest.' in text
    refreshed = await world.post(f"/admin/lists/{call_list.id}/refresh", {})
    assert refreshed.status == 303
    listing = await (await world.client.get("/admin/lists")).text()
    assert "Indécis de Lyon" in listing and "support=undecided" in listing


async def test_do_not_call_add_search_and_import(world: AdminWorld, tmp_path: Path) -> None:
    added = await world.post(
        "/admin/dnc/add",
        {"numbers": "06 12 34 56 78\nnot a number\n+33478000001\n", "reason": "asked by phone"},
    )
    page = await added.text()
    assert added.status == 200
    assert re.search(r"Added:\s*2", page) and "(line numbers): 2" in page
    found = await (await world.client.get("/admin/dnc?q=0612345678")).text()
    assert "+33612345678" in found and "+33478000001" not in found
    (tmp_path / "stop.csv").write_text("Téléphone\n0798765432\n0612345678\n", encoding="utf-8")
    with (tmp_path / "stop.csv").open("rb") as handle:
        imported = await world.client.post(
            "/admin/dnc/import", data={"csrf_token": world.token, "file": handle}
        )
    assert re.search(r"Added:\s*1</strong> · already on the list:\s*1", await imported.text())
    with session_factory(world.engine)() as session:
        sources = dict(session.execute(select(DoNotCallEntry.e164, DoNotCallEntry.source)).all())
    assert sources == {"+33612345678": "manual", "+33478000001": "manual", "+33798765432": "import"}
    empty = await world.post("/admin/dnc/add", {"numbers": "  \n"})
    assert empty.status == 422 and "Type at least one number." in await empty.text()
