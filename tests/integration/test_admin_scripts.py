"""The script editor on the real databases: the page's own form saved as a new active
version, answers of older versions intact, problems named with nothing saved and the
form as typed, two saves at once, the preview endpoint."""

from __future__ import annotations

import asyncio
import html
import json
from collections.abc import AsyncIterator
from html.parser import HTMLParser
from pathlib import Path

import pytest
from sqlalchemy import func, select

from phonebank.db.engine import session_factory
from phonebank.db.models import Campaign, Script, SurveyAnswer, SurveyQuestion
from phonebank.volunteer.repo import questions_of
from tests.integration.admin_app import AdminWorld, admin_world, seed_calls


class _FormReader(HTMLParser):
    """The fields the browser would send for the editor's form (id script-form)."""

    def __init__(self) -> None:
        super().__init__()
        self.fields: dict[str, str] = {}
        self.inside = False
        self.select: str | None = None
        self.first_option: str | None = None
        self.textarea: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form":
            self.inside = a.get("id") == "script-form"
        if not self.inside:
            return
        name = a.get("name", "")
        if tag == "input" and name:
            if a.get("type") != "checkbox" or "checked" in a:
                self.fields[name] = a.get("value", "on" if a.get("type") == "checkbox" else "")
        elif tag == "select":
            self.select, self.first_option = name, None
        elif tag == "option" and self.select:
            if self.first_option is None:
                self.first_option = a.get("value", "")
                self.fields.setdefault(self.select, self.first_option)
            if "selected" in a:
                self.fields[self.select] = a.get("value", "")
        elif tag == "textarea":
            self.textarea = name
            self.fields[name] = ""

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self.inside = False
        elif tag == "select":
            self.select = None
        elif tag == "textarea":
            self.textarea = None

    def handle_data(self, data: str) -> None:
        if self.textarea:
            self.fields[self.textarea] += data


def form_of(page: str) -> dict[str, str]:
    reader = _FormReader()
    reader.feed(page)
    # A textarea's first line break belongs to the markup, as browsers read it.
    return {k: v[1:] if v.startswith("\n") else v for k, v in reader.fields.items()}


@pytest.fixture
async def world(migrated_url: str, tmp_path: Path) -> AsyncIterator[AdminWorld]:
    async with admin_world(migrated_url, tmp_path) as built:
        with session_factory(built.engine).begin() as session:
            seed_calls(session, built.users["volunteer"])
        yield built


def _campaign(world: AdminWorld) -> int:
    with session_factory(world.engine)() as session:
        return session.scalars(select(Campaign.id)).one()


async def _editor(world: AdminWorld, campaign: int, query: str = "") -> tuple[str, dict[str, str]]:
    response = await world.client.get(f"/admin/campaigns/{campaign}/script{query}")
    assert response.status == 200
    page = await response.text()
    return page, form_of(page)


def _branching(fields: dict[str, str]) -> dict[str, str]:
    """The seeded script plus a question reached only by "no", and a closing line."""
    return fields | {
        "title": "v2",
        "opening": "Bonjour {first_name}, ici {volunteer} pour {candidate}.",
        "field-0-name": "candidate",
        "field-0-value": "Claire Rivière",
        "q-0-opt-0-next": "end",
        "q-0-opt-1-next": "why",
        "q-1-key": "why",
        "q-1-kind": "text",
        "q-1-prompt": "Pourquoi pas, {first_name} ?",
        "closing-0-key": "supporter",
        "closing-0-text": "Merci {first_name} !",
    }


async def test_saving_makes_a_new_active_version_and_keeps_the_old_answers(
    world: AdminWorld,
) -> None:
    campaign = _campaign(world)
    page, fields = await _editor(world, campaign)
    assert "Will you vote?" in page and fields["q-0-key"] == "vote"
    assert fields["base"] == "1" and fields["q-0-opt-1-value"] == "no"
    response = await world.post(f"/admin/campaigns/{campaign}/script", _branching(fields))
    assert response.status == 303
    assert response.headers["Location"] == f"/admin/campaigns/{campaign}/script?saved=2"
    saved = await (await world.client.get(response.headers["Location"])).text()
    assert "Version 2 is saved and active" in saved

    with session_factory(world.engine)() as session:
        scripts = session.scalars(select(Script).order_by(Script.version)).all()
        assert [(s.version, s.active) for s in scripts] == [(1, False), (2, True)]
        assert scripts[1].created_by_id == world.users["admin"]
        assert scripts[1].body["fields"] == {"candidate": "Claire Rivière"}
        assert scripts[1].body["closings"] == {"supporter": "Merci {first_name} !"}
        # The answers recorded with version 1 still point at its questions.
        old = session.scalars(
            select(SurveyQuestion).where(SurveyQuestion.script_id == scripts[0].id)
        )
        old_ids = {q.id for q in old}
        answered = set(session.scalars(select(SurveyAnswer.question_id)))
        assert answered and answered <= old_ids
        # The volunteer screen now reads version 2, branches included.
        active, questions = questions_of(session, campaign)
        assert active is not None and active.version == 2
        assert [q.key for q in questions] == ["vote", "why"]
        assert [(o.value, o.next) for o in questions[0].options] == [("yes", "end"), ("no", "why")]
        assert questions[1].kind == "text"

    # The versions table counts the answers each version holds.
    listing, again = await _editor(world, campaign)
    assert again["q-1-prompt"] == "Pourquoi pas, {first_name} ?" and again["base"] == "2"
    # Version 2: 2 questions, no answers yet; version 1: 1 question, 3 answers.
    assert '<td class="num">2</td>\n      <td class="num">0</td>' in listing
    assert '<td class="num">1</td>\n      <td class="num">3</td>' in listing
    # Version 1 opens in the editor as it was: restoring it is saving it again.
    old_page, old_fields = await _editor(world, campaign, "?version=1")
    assert "You are editing a copy of version 1." in old_page
    assert "q-1-key" not in old_fields and old_fields["base"] == "2"
    restore = await world.post(f"/admin/campaigns/{campaign}/script", old_fields)
    assert restore.headers["Location"].endswith("saved=3")


async def test_problems_are_named_nothing_is_saved_and_the_form_comes_back_as_typed(
    world: AdminWorld,
) -> None:
    campaign = _campaign(world)
    _page, fields = await _editor(world, campaign)
    typed = _branching(fields) | {
        "opening": "Bonjour {prenom}",
        "q-0-opt-1-next": "nope",
        "q-1-prompt": "Pourquoi pas ?",
    }
    response = await world.post(f"/admin/campaigns/{campaign}/script", typed)
    assert response.status == 422
    page = await response.text()
    assert "Nothing was saved" in page
    assert "Unknown merge field: <code>{prenom}</code>" in page
    assert (
        '<a href="#f-q-0-opt-1-next">Question 1 (vote), option 2, Then</a>: '
        "No question has this key: <code>nope</code>" in page
    )
    back = form_of(page)
    for name in ("opening", "q-0-opt-1-next", "q-1-key", "q-1-prompt", "field-0-value"):
        assert back[name] == typed[name], name
    assert html.escape("⚠ nope") in page or "⚠ nope" in page
    with session_factory(world.engine)() as session:
        assert session.scalar(select(func.count(Script.id))) == 1


async def test_a_loop_is_refused_with_the_way_round_it(world: AdminWorld) -> None:
    campaign = _campaign(world)
    _page, fields = await _editor(world, campaign)
    looping = _branching(fields) | {"q-1-next": "vote"}
    response = await world.post(f"/admin/campaigns/{campaign}/script", looping)
    assert response.status == 422
    page = await response.text()
    assert "Question 2 (why), Then</a>: This would ask the same questions again" in page
    assert "<code>vote → why → vote</code>" in page


async def test_a_save_on_top_of_someone_elses_is_stopped_once(world: AdminWorld) -> None:
    campaign = _campaign(world)
    _page, fields = await _editor(world, campaign)
    first = await world.post(f"/admin/campaigns/{campaign}/script", _branching(fields))
    assert first.status == 303
    late = await world.post(f"/admin/campaigns/{campaign}/script", fields | {"title": "mine"})
    assert late.status == 409
    page = await late.text()
    assert "Someone saved version 2 while you were editing" in page
    kept = form_of(page)
    assert kept["title"] == "mine" and kept["base"] == "2"
    again = await world.post(f"/admin/campaigns/{campaign}/script", kept)
    assert again.headers["Location"].endswith("saved=3")


async def test_two_saves_at_the_same_instant_make_one_version(world: AdminWorld) -> None:
    campaign = _campaign(world)
    _page, fields = await _editor(world, campaign)
    token = await world.csrf()
    path = f"/admin/campaigns/{campaign}/script"
    answers = await asyncio.gather(
        *(
            world.client.post(
                path, data={**fields, "title": f"t{n}", "csrf_token": token}, allow_redirects=False
            )
            for n in range(2)
        )
    )
    assert sorted(a.status for a in answers) == [303, 409]
    with session_factory(world.engine)() as session:
        rows = session.execute(select(Script.version, Script.active)).all()
    assert sorted(rows) == [(1, False), (2, True)]


async def test_the_first_version_of_a_campaign_without_a_script(world: AdminWorld) -> None:
    with session_factory(world.engine).begin() as session:
        fresh = Campaign(name="Nouvelle")
        session.add(fresh)
        session.flush()
        campaign = fresh.id
    page, fields = await _editor(world, campaign)
    assert "No version yet" in page and fields["base"] == "0"
    new = {
        **fields,
        "opening": "Bonjour {first_name}",
        "q-0-key": "ok",
        "q-0-kind": "scale",
        "q-0-prompt": "De 0 à 10 ?",
        "q-0-min": "0",
        "q-0-max": "10",
        "q-0-branch-0-from": "0",
        "q-0-branch-0-to": "3",
        "q-0-branch-0-next": "end",
    }
    response = await world.post(f"/admin/campaigns/{campaign}/script", new)
    assert response.headers["Location"].endswith("saved=1")
    with session_factory(world.engine)() as session:
        _script, questions = questions_of(session, campaign)
    assert (questions[0].low, questions[0].high, questions[0].branches[0].next) == (0, 10, "end")


async def test_the_preview_follows_the_branch_of_the_answer(world: AdminWorld) -> None:
    campaign = _campaign(world)
    _page, fields = await _editor(world, campaign)
    path = f"/admin/campaigns/{campaign}/script/preview"
    draft = _branching(fields)

    async def preview(answers: dict[str, object], **extra: str) -> dict[str, object]:
        data = {**draft, "preview_answers": json.dumps(answers), **extra}
        response = await world.client.post(
            path, data=data, headers={"X-CSRF-Token": world.token, "Accept": "application/json"}
        )
        assert response.status == 200
        result: dict[str, object] = await response.json()
        return result

    start = await preview({}, sample_first_name="Jeanne")
    assert "Bonjour Jeanne, ici admin-name pour Claire Rivière." in str(start["html"])
    assert "Pourquoi pas, Jeanne ?" not in str(start["html"]) and start["problems"] == 0
    no = await preview({"vote": {"options": ["no"]}}, sample_first_name="Jeanne")
    assert "Pourquoi pas, Jeanne ?" in str(no["html"])
    yes = await preview({"vote": {"options": ["yes"]}}, preview_outcome="strong_support")
    assert "Pourquoi pas" not in str(yes["html"]) and "End of the survey." in str(yes["html"])
    assert "Merci Camille !" in str(yes["html"])  # the supporters' closing line
    broken = await preview({}, **{"q-1-next": "vote"})
    assert broken["problems"] == 1 and "To correct before saving" in str(broken["html"])
    # Nothing is saved by a preview.
    with session_factory(world.engine)() as session:
        assert session.scalar(select(func.count(Script.id))) == 1


async def test_unknown_campaigns_and_versions_are_not_found(world: AdminWorld) -> None:
    campaign = _campaign(world)
    assert (await world.client.get("/admin/campaigns/999999/script")).status == 404
    assert (await world.client.get(f"/admin/campaigns/{campaign}/script?version=9")).status == 404
    response = await world.client.post(
        "/admin/campaigns/999999/script", data={"csrf_token": world.token}
    )
    assert response.status == 404


async def test_saving_needs_the_csrf_token(world: AdminWorld) -> None:
    campaign = _campaign(world)
    _page, fields = await _editor(world, campaign)
    fields.pop("csrf_token")
    response = await world.client.post(
        f"/admin/campaigns/{campaign}/script", data=fields, allow_redirects=False
    )
    assert response.status == 403
