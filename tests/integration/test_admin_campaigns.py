"""Campaign pages against the real databases: create, edit, validation, start/pause/stop,
dispositions, recordings."""

from __future__ import annotations

import wave
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import select

from phonebank.db.engine import session_factory
from phonebank.db.enums import CampaignStatus, DialMode
from phonebank.db.models import Campaign, Disposition
from tests.integration.admin_app import AdminWorld, admin_world

NEW = {
    "name": "Municipales 2027",
    "dial_mode": "progressive",
    "lines_cap": "12",
    "abandon_target": "2,5",
    "connect_limit_seconds": "2",
    "max_attempts": "4",
    "time_zone": "Europe/Paris",
    "window_preset": "fr_voluntary",
    "caller_id": "01 62 00 00 00",
    "machine_action": "hangup",
    "amd_enabled": "on",
}


@pytest.fixture
async def world(migrated_url: str, tmp_path: Path) -> AsyncIterator[AdminWorld]:
    async with admin_world(migrated_url, tmp_path) as built:
        yield built


def _campaign(world: AdminWorld, name: str = "Municipales 2027") -> Campaign:
    with session_factory(world.engine)() as session:
        return session.scalars(select(Campaign).where(Campaign.name == name)).one()


async def _create(world: AdminWorld, **changes: str) -> int:
    response = await world.post("/admin/campaigns/new", {**NEW, **changes})
    assert response.status == 303, await response.text()
    return _campaign(world, {**NEW, **changes}["name"]).id


async def test_create_a_campaign_with_default_dispositions(world: AdminWorld) -> None:
    campaign_id = await _create(world)
    campaign = _campaign(world)
    assert campaign.dial_mode is DialMode.PROGRESSIVE and campaign.lines_cap == 12
    assert campaign.abandon_target == pytest.approx(0.025)
    assert campaign.caller_id == "+33162000000"
    assert campaign.calling_window == {"preset": "fr_voluntary"}
    assert campaign.status is CampaignStatus.DRAFT
    with session_factory(world.engine)() as session:
        codes = set(
            session.scalars(select(Disposition.code).where(Disposition.campaign_id == campaign_id))
        )
    assert {"undecided", "do_not_call", "call_back"} <= codes
    page = await (await world.client.get(f"/admin/campaigns/{campaign_id}?notice=created")).text()
    assert "Created." in page and "Municipales 2027" in page
    listing = await (await world.client.get("/admin/campaigns")).text()
    assert f'href="/admin/campaigns/{campaign_id}"' in listing


async def test_validation_errors_name_the_field(world: AdminWorld) -> None:
    bad = {
        **NEW,
        "name": "",
        "abandon_target": "abc",
        "time_zone": "Mars/Olympus",
        "window_preset": "custom",
        "window_mon": "13:00-10:00",
        "caller_id": "hello",
    }
    response = await world.post("/admin/campaigns/new", bad)
    assert response.status == 422
    page = await response.text()
    for label, message in (
        ("Name", "This field is required."),
        ("Abandon target (percent)", "Type a number."),
        ("Time zone of the campaign", "Unknown time zone"),
        ("Monday", "Write hours as 10:00-13:00"),
        ("Caller ID number", "Type a phone number"),
    ):
        assert f'">{label}</a>: {message}' in page, label
    # What was typed is shown back.
    assert 'value="Mars/Olympus"' in page
    with session_factory(world.engine)() as session:
        assert session.scalars(select(Campaign)).first() is None


async def test_edit_keeps_other_rule_keys_and_sets_custom_hours(world: AdminWorld) -> None:
    campaign_id = await _create(world)
    with session_factory(world.engine).begin() as session:
        row = session.get(Campaign, campaign_id)
        assert row is not None
        row.recycle_rules = {"followup": {"rules": []}}
    edit = {
        **NEW,
        "window_preset": "custom",
        "window_mon": "09:00-12:00, 14:00-19:30",
        "window_sat": "10:00-12:00",
        "window_holidays": "on",
        "retry_busy": "45",
        "undecided_days": "10",
        "amd_greeting": "1800",
        "amd_accuracy": "92",
        "caller_id": "06 12 34 56 78",
    }
    response = await world.post(f"/admin/campaigns/{campaign_id}", edit)
    assert response.status == 303, await response.text()
    campaign = _campaign(world)
    assert campaign.calling_window == {
        "days": {"mon": [["09:00", "12:00"], ["14:00", "19:30"]], "sat": [["10:00", "12:00"]]},
        "holidays": "FR",
    }
    assert campaign.recycle_rules == {"followup": {"rules": []}, "busy": 45, "undecided_days": 10}
    assert campaign.amd_settings == {"greeting": 1800, "accuracy": 0.92}
    page = await (await world.client.get(f"/admin/campaigns/{campaign_id}")).text()
    # A French mobile number as caller ID: the ARCEP warning.
    assert "not in the ranges French rules set aside" in page
    assert 'value="09:00-12:00, 14:00-19:30"' in page


async def test_start_pause_stop(world: AdminWorld) -> None:
    campaign_id = await _create(world)
    path = f"/admin/campaigns/{campaign_id}/status"
    for action, status in (
        ("start", "active"),
        ("pause", "paused"),
        ("start", "active"),
        ("stop", "stopped"),
        ("archive", "archived"),
    ):
        response = await world.post(path, {"action": action})
        assert response.status == 303, (action, await response.text())
        assert _campaign(world).status.value == status
    refused = await world.post(path, {"action": "pause"})
    assert refused.status == 409
    assert "cannot do that from its current state" in await refused.text()


async def test_a_campaign_without_dispositions_does_not_start(world: AdminWorld) -> None:
    campaign_id = await _create(world)
    with session_factory(world.engine).begin() as session:
        for row in session.scalars(select(Disposition)):
            row.active = False
    response = await world.post(f"/admin/campaigns/{campaign_id}/status", {"action": "start"})
    assert response.status == 409
    assert "at least one active disposition" in await response.text()


async def test_dispositions_edit_swap_keys_and_add(world: AdminWorld) -> None:
    campaign_id = await _create(world)
    with session_factory(world.engine)() as session:
        rows = list(
            session.scalars(select(Disposition).where(Disposition.campaign_id == campaign_id))
        )
    values = {}
    for d in rows:
        p = f"d{d.id}_"
        values.update(
            {
                p + "label": d.label,
                p + "key": d.shortcut_key or "",
                p + "category": d.category.value,
                p + "recycle": d.recycle_action.value,
                p + "retry": "",
                p + "follow_up": "",
                p + "position": str(d.position),
                p + "active": "on",
            }
        )
    by_code = {d.code: d for d in rows}
    one, two = by_code["strong_support"].id, by_code["lean_support"].id
    values[f"d{one}_key"], values[f"d{two}_key"] = "2", "1"
    values[f"d{one}_label"] = "Soutien ferme"
    path = f"/admin/campaigns/{campaign_id}/dispositions"
    response = await world.post(path, values)
    assert response.status == 303, await response.text()
    with session_factory(world.engine)() as session:
        first = session.get(Disposition, one)
        assert first is not None and first.shortcut_key == "2" and first.label == "Soutien ferme"

    clash = {**values, f"d{two}_key": "2"}
    refused = await world.post(path, clash)
    assert refused.status == 422
    assert "Another disposition of this campaign uses this key." in await refused.text()

    added = await world.post(
        path + "/new",
        {
            "new_code": "volunteer",
            "new_label": "Wants to help",
            "new_key": "v",
            "new_category": "supporter",
            "new_recycle": "finish",
        },
    )
    assert added.status == 303, await added.text()
    again = await world.post(
        path + "/new",
        {
            "new_code": "volunteer",
            "new_label": "x",
            "new_category": "other",
            "new_recycle": "finish",
        },
    )
    assert "Another disposition of this campaign has this code." in await again.text()


def _wav(path: Path) -> Path:
    with wave.open(str(path), "wb") as out:
        out.setnchannels(2)
        out.setsampwidth(2)
        out.setframerate(44100)
        out.writeframes(b"\x00\x01" * 2 * 4410)
    return path


async def test_recordings_upload_speak_and_clear(world: AdminWorld, tmp_path: Path) -> None:
    campaign_id = await _create(world)
    token = await world.csrf()
    base = f"/admin/campaigns/{campaign_id}/recordings"
    with _wav(tmp_path / "message.wav").open("rb") as handle:
        response = await world.client.post(
            f"{base}/safe_harbor",
            data={"csrf_token": token, "file": handle, "text": "", "language": "fr"},
            allow_redirects=False,
        )
    assert response.status == 303, await response.text()
    stored = _campaign(world).safe_harbor_recording
    assert stored == f"/var/lib/asterisk/sounds/phonebank/campaign-{campaign_id}-safe-harbor"
    with wave.open(str(world.recordings.file(campaign_id, "safe_harbor"))) as converted:
        assert (converted.getframerate(), converted.getnchannels()) == (8000, 1)
    played = await world.client.get(f"{base}/safe_harbor.wav")
    assert played.status == 200 and (await played.read())[:4] == b"RIFF"

    spoken = await world.client.post(
        f"{base}/voicemail",
        data={"csrf_token": token, "text": "Bonjour, ici l'équipe.", "language": "fr"},
        allow_redirects=False,
    )
    assert spoken.status == 303, await spoken.text()
    assert world.recordings.file(campaign_id, "voicemail").stat().st_size > 1000

    (tmp_path / "x.txt").write_bytes(b"not a wav file at all")
    with (tmp_path / "x.txt").open("rb") as handle:
        not_wav = await world.client.post(
            f"{base}/voicemail", data={"csrf_token": token, "file": handle}
        )
    assert not_wav.status == 422
    assert "This file is not a WAV recording." in await not_wav.text()

    cleared = await world.post(f"{base}/safe_harbor/clear", {})
    assert cleared.status == 303
    assert _campaign(world).safe_harbor_recording is None
    assert (await world.client.get(f"{base}/safe_harbor.wav")).status == 404
