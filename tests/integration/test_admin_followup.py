"""Follow-up screens on SQLite and PostgreSQL: a send's preview and confirm (once, even
submitted twice), field errors, a scheduled send cancelled, the rules editor keeping what
it does not show, and the overview for a supervisor."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from phonebank.admin.followup_parts import ModemView, ModemWatch
from phonebank.db.enums import ConsentChannel
from phonebank.db.models import Campaign
from phonebank.db.models.followup import FollowUpMessage, MessageState, SmsInbox
from phonebank.followup import repo, sends
from phonebank.followup.compose import Composer
from phonebank.followup.email_service import Unsubscribing
from phonebank.followup.mailer import Templates
from phonebank.followup.scheduler import Scheduler
from phonebank.followup.workers import FollowUpWorkers
from phonebank.web.app import TEMPLATES
from tests.fixtures.followup_world import World, build_world
from tests.integration.admin_app import AT, AdminWorld, admin_world

TEXT = "Bonjour {first_name}, meeting ce soir 20h30 bureau {precinct} {place}"


@pytest.fixture
async def site(migrated_url: str, tmp_path: Path) -> AsyncIterator[tuple[AdminWorld, World]]:
    async with admin_world(migrated_url, tmp_path) as built:
        yield built, build_world(built.engine)


def _send_form(**extra: str | list[str]) -> dict[str, str | list[str]]:
    values: dict[str, str | list[str]] = {
        "channel": "sms",
        "support": ["undecided"],
        "city": "Paris",
        "text": TEXT,
        "fields": "place=à la Mairie",
        "when": "now",
        "action": "preview",
    }
    return {**values, **extra}


async def _post(
    admin: AdminWorld, path: str, data: dict[str, str | list[str]]
) -> tuple[int, str, str]:
    token = await admin.csrf("/admin/followup")
    pairs: list[tuple[str, str]] = [("csrf_token", token)]
    for name, value in data.items():
        pairs += [(name, v) for v in value] if isinstance(value, list) else [(name, value)]
    response = await admin.client.post(path, data=pairs, allow_redirects=False)
    return response.status, response.headers.get("Location", ""), await response.text()


def _hidden(page: str, name: str) -> str:
    found = re.search(rf'name="{name}" value="([^"]*)"', page)
    assert found, f"no {name} in the page"
    return found.group(1)


def _plans(world: World) -> list[FollowUpMessage]:
    with world.sessions() as session:
        return list(
            session.scalars(
                select(FollowUpMessage)
                .where(FollowUpMessage.kind == sends.PLAN_KIND)
                .order_by(FollowUpMessage.id)
            )
        )


async def test_preview_then_confirm_queues_once(site: tuple[AdminWorld, World]) -> None:
    admin, world = site
    path = f"/admin/followup/{world.campaign_id}/send"
    assert (await admin.client.get(path)).status == 200
    status, _, page = await _post(admin, path, _send_form())
    assert status == 200, page
    # Fanny shares Alice's mobile: three people, one left out, nothing queued yet.
    assert re.search(r'id="preview-recipients"><strong>3</strong>', page)
    assert re.search(r'id="preview-matched">4<', page)
    assert "same number or address as another person" in page
    assert "Bonjour Alice, meeting ce soir 20h30 bureau 0112 à la Mairie" in page
    assert "UCS-2" not in page.split('id="preview-totals"')[1].split("</p>")[0]
    assert world.messages() == [] and _plans(world) == []

    confirm = _send_form(
        action="confirm",
        previewed=_hidden(page, "previewed"),
        send_key=_hidden(page, "send_key"),
    )
    status, location, _ = await _post(admin, path, confirm)
    assert (status, location) == (303, f"/admin/followup/{world.campaign_id}?notice=send_queued")
    texts = sorted(m.body for m in world.messages("segment"))
    assert texts[0] == "Bonjour Alice, meeting ce soir 20h30 bureau 0112 à la Mairie"
    assert len(texts) == 3
    # The same confirm again (a double click, a reload): nothing queued twice.
    status, location, _ = await _post(admin, path, confirm)
    assert location.endswith("notice=send_already")
    assert len(world.messages("segment")) == 3 and len(_plans(world)) == 1

    # A confirm whose fields changed after the preview only previews again.
    changed = {**confirm, "text": "Autre texte {first_name}"}
    status, _, page = await _post(admin, path, changed)
    assert status == 200 and "Autre texte Alice" in page
    assert len(_plans(world)) == 1

    overview = await admin.client.get(f"/admin/followup/{world.campaign_id}")
    shown = await overview.text()
    assert "support=undecided; city=Paris" in shown
    assert re.search(r"<th scope=\"row\">SMS</th><td class=\"num\">3</td>", shown)


async def test_e_mail_preview_renders_the_template(site: tuple[AdminWorld, World]) -> None:
    admin, world = site
    path = f"/admin/followup/{world.campaign_id}/send"
    form = _send_form(channel="email", template="thanks", text="", fields="")
    form.pop("city")
    status, _, page = await _post(admin, path, {**form, "precinct": "0112"})
    assert status == 200, page
    assert "Merci pour votre soutien, Alice" in page
    assert "no e-mail address" in page  # Denis and Fanny have none


async def test_errors_name_the_field(site: tuple[AdminWorld, World]) -> None:
    admin, world = site
    path = f"/admin/followup/{world.campaign_id}/send"
    status, _, page = await _post(admin, path, _send_form(text="Bonjour {prenom}"))
    assert status == 422
    assert 'id="e-text"' in page and "<code>{prenom}</code>" in page
    form = _send_form()
    for key in ("support", "city"):
        form.pop(key)
    status, _, page = await _post(admin, path, form)
    assert status == 422 and 'id="e-conditions"' in page
    status, _, page = await _post(admin, path, _send_form(city="Nowhere"))
    assert status == 422 and "Nobody in this segment can receive this message." in page
    assert 'value="confirm"' not in page
    status, _, page = await _post(admin, path, _send_form(when="at", at="30/11 18h"))
    assert status == 422 and 'id="e-at"' in page and "Type a date and a time" in page
    status, _, page = await _post(admin, path, _send_form(when="at", at="2027-01-01T18:00"))
    assert status == 422 and "This time has already passed." in page
    status, _, page = await _post(admin, path, _send_form(fields="place"))
    assert status == 422 and 'id="e-fields"' in page and "<code>place</code>" in page
    assert world.messages() == [] and _plans(world) == []


async def test_scheduled_send_is_listed_and_cancelled(site: tuple[AdminWorld, World]) -> None:
    admin, world = site
    path = f"/admin/followup/{world.campaign_id}/send"
    form = _send_form(when="at", at="2027-02-01T18:00")
    _, _, page = await _post(admin, path, form)
    assert "Schedule it for 2027-02-01 18:00" in page
    confirm = {**form, "action": "confirm"}
    confirm |= {"previewed": _hidden(page, "previewed"), "send_key": _hidden(page, "send_key")}
    status, location, _ = await _post(admin, path, confirm)
    assert location.endswith("notice=send_scheduled")
    [plan] = _plans(world)
    # 18:00 in Paris in winter is 17:00 UTC; nothing queued before then.
    assert plan.state is MessageState.QUEUED
    assert plan.next_attempt_at == datetime(2027, 2, 1, 17, 0, tzinfo=UTC)
    assert world.messages() == []

    admin.act_as("supervisor")
    page = await (await admin.client.get(f"/admin/followup/{world.campaign_id}")).text()
    assert "2027-02-01 18:00" in page and "scheduled" in page
    assert f"/admin/followup/sends/{plan.id}/cancel" not in page  # supervisors only look
    admin.act_as("admin")
    page = await (await admin.client.get(f"/admin/followup/{world.campaign_id}")).text()
    assert f"/admin/followup/sends/{plan.id}/cancel" in page
    status, location, _ = await _post(admin, f"/admin/followup/sends/{plan.id}/cancel", {})
    assert location == f"/admin/followup/{world.campaign_id}?notice=send_cancelled"
    [plan] = _plans(world)
    assert plan.state is MessageState.FAILED and plan.last_error == "cancelled by web:admin-name"
    status, location, _ = await _post(admin, f"/admin/followup/sends/{plan.id}/cancel", {})
    assert location.endswith("notice=send_not_cancelled")
    status, _, _ = await _post(admin, "/admin/followup/sends/999999/cancel", {})
    assert status == 404


def _stored(world: World) -> dict[str, object]:
    with world.sessions() as session:
        campaign = session.get(Campaign, world.campaign_id)
        assert campaign is not None
        return dict(campaign.recycle_rules or {})


async def test_rules_editor_saves_and_keeps_other_keys(site: tuple[AdminWorld, World]) -> None:
    admin, world = site
    since = "2026-01-01T00:00:00+00:00"
    with world.sessions() as session:
        campaign = session.get(Campaign, world.campaign_id)
        assert campaign is not None
        campaign.recycle_rules = {
            "undecided_days": 3,
            "followup": {
                "triggers": [
                    {
                        "id": "thanks",
                        "outcome": ["supporter"],
                        "email": "thanks",
                        "fields": {"place": "Mairie"},
                        "since": since,
                    }
                ]
            },
        }
        session.commit()
    path = f"/admin/followup/{world.campaign_id}/rules"
    page = await (await admin.client.get(path)).text()
    assert 'name="t0_id" type="text" value="thanks"' in page
    assert 'name="rows" value="2"' in page
    form: dict[str, str | list[str]] = {
        "rows": "2",
        "consent_sms": "on",
        "t0_was": "thanks",
        "t0_id": "thanks",
        "t0_channel": "email",
        "t0_email": "thanks",
        "t0_outcome": ["supporter"],
        "t0_when": "after",
        "t1_was": "",
        "t1_id": "j-2",
        "t1_channel": "sms",
        "t1_sms": "Bonjour {first_name}, on vote dimanche ! Bureau {precinct}.",
        "t1_outcome": ["undecided"],
        "t1_when": "before_election",
        "t1_days": "2",
        "t1_time": "18:00",
    }
    status, location, _ = await _post(admin, path, form)
    assert (status, location) == (303, f"/admin/followup/{world.campaign_id}?notice=rules_saved")
    stored = _stored(world)
    assert stored["undecided_days"] == 3
    assert stored["followup"] == {
        "require_consent": ["sms"],
        "dnc_blocks_sms": False,
        "triggers": [
            {
                "id": "thanks",
                "outcome": ["supporter"],
                "email": "thanks",
                "fields": {"place": "Mairie"},
                "since": since,
            },
            {
                "id": "j-2",
                "outcome": ["undecided"],
                "sms": "Bonjour {first_name}, on vote dimanche ! Bureau {precinct}.",
                "days_before_election": 2,
                "time": "18:00",
                "since": AT.isoformat(),
            },
        ],
    }
    # An unknown merge field is named on its row; nothing is changed.
    bad = {**form, "rows": "2", "t1_sms": "Bonjour {prenom}", "t1_was": "j-2"}
    status, _, page = await _post(admin, path, bad)
    assert status == 422 and 'id="e-t1_sms"' in page and "<code>{prenom}</code>" in page
    # Removing a rule keeps the others.
    status, _, _ = await _post(admin, path, {**form, "t1_was": "j-2", "t0_delete": "on"})
    assert status == 303
    followup = _stored(world)["followup"]
    assert isinstance(followup, dict)
    assert [t["id"] for t in followup["triggers"]] == ["j-2"]
    assert _stored(world)["undecided_days"] == 3


async def test_overview_shows_replies_and_opt_outs(site: tuple[AdminWorld, World]) -> None:
    admin, world = site
    with world.sessions() as session:
        session.add_all(
            [
                SmsInbox(
                    sender="+33611111111",
                    body="Merci, je viendrai",
                    sent_at=AT - timedelta(hours=1),
                    received_at=AT - timedelta(hours=1),
                    contact_id=world.ids["Alice"],
                    dedupe_key="a",
                ),
                SmsInbox(
                    sender="+33699999999",
                    body="Qui êtes-vous ?",
                    sent_at=AT,
                    received_at=AT,
                    dedupe_key="b",
                ),
            ]
        )
        repo.record_consent(
            session, world.ids["Emma"], ConsentChannel.SMS, False, "sms-stop", AT, "STOP"
        )
        session.commit()
    admin.act_as("supervisor")
    page = await (await admin.client.get(f"/admin/followup/{world.campaign_id}")).text()
    assert "Merci, je viendrai" in page and "Alice Martin" in page
    assert "Emma Martin" in page and "replied STOP" in page
    assert "Qui êtes-vous" not in page  # not from this campaign's contacts
    assert "/send" not in page  # the send form is for admins
    index = await (await admin.client.get("/admin/followup")).text()
    assert "Qui êtes-vous ?" in index and "Municipales" in index
    assert "No modem is set up" in index


async def test_modem_state_once_the_workers_run(site: tuple[AdminWorld, World]) -> None:
    admin, world = site
    watch = ModemWatch()
    assert watch.view() is None  # the service has not started its workers yet
    composer = Composer(Templates(), Unsubscribing(b"k" * 32, "http://127.0.0.1/u"))
    running = FollowUpWorkers(Scheduler(world.sessions, composer, lambda: AT))
    watch.workers = running
    assert watch.view() is None  # no [sms] device: no modem to speak of
    running.sms_device = "/dev/ttyUSB2"
    running.modem_errors += ["AT+CPIN?: SIM not inserted", "/dev/ttyUSB2: no such device"]
    view = watch.view()
    assert view == ModemView("/dev/ttyUSB2", 2, "/dev/ttyUSB2: no such device")
    app = admin.client.app
    assert app is not None
    box = (
        app[TEMPLATES]["fr"]
        .from_string(
            '{% import "admin/followup_labels.html" as fl with context %}{{ fl.modem_box(m) }}'
        )
        .render(m=view)
    )
    assert "<code>/dev/ttyUSB2</code>" in box and "erreurs depuis le démarrage : 2" in box
    assert "Dernière erreur : /dev/ttyUSB2: no such device" in box
