"""The script and survey editor: a campaign's script, its questions and branching,
closing lines; saved as a new version; a live preview that walks the survey as the
volunteer screen does."""

from __future__ import annotations

from typing import Any

from aiohttp import web
from sqlalchemy.orm import Session

from phonebank.admin import script_repo as repo
from phonebank.admin.http import fields, form, int_param, now, page, read, see_other, write
from phonebank.admin.script_checks import Errors, check
from phonebank.admin.script_form import (
    CALL_FIELDS,
    CATEGORIES,
    DEFAULT_CLOSING,
    KINDS,
    RawBranch,
    RawOption,
    RawPair,
    RawQuestion,
    RawScript,
    raw_of,
    read_fields,
)
from phonebank.admin.script_preview import (
    CampaignFacts,
    OutcomeChoice,
    Preview,
    Sample,
    build_preview,
    read_answers,
)
from phonebank.volunteer.labels import DEFAULT_LABELS
from phonebank.web.app import TEMPLATES, request_language
from phonebank.web.security import current_session, requires

_PREVIEW = "admin/_script_preview.html"


def _facts(session: Session, campaign_id: int, *, lock: bool = False) -> CampaignFacts:
    facts = repo.campaign_facts(session, campaign_id, lock=lock)
    if facts is None:
        raise web.HTTPNotFound()
    return facts


def _volunteer(request: web.Request) -> str:
    return current_session(request).name or "Camille"


def _preview(
    request: web.Request,
    raw: RawScript,
    campaign: CampaignFacts,
    outcomes: list[OutcomeChoice],
    values: dict[str, str],
) -> tuple[Preview, Errors]:
    draft, errors = check(raw, [o.code for o in outcomes])
    shown = build_preview(
        draft,
        campaign,
        outcomes,
        volunteer=_volunteer(request),
        sample=Sample.of(values),
        answers=read_answers(values.get("preview_answers", "")),
        outcome=values.get("preview_outcome", ""),
    )
    return shown, errors


def _context(
    request: web.Request,
    *,
    campaign: CampaignFacts,
    outcomes: list[OutcomeChoice],
    raw: RawScript,
    errors: Errors,
    base: int,
    shown: int,
    versions: list[repo.VersionRow],
    values: dict[str, str],
) -> dict[str, Any]:
    preview, live_errors = _preview(request, raw, campaign, outcomes, values)
    return {
        "campaign": campaign,
        "outcomes": outcomes,
        "raw": raw,
        "errors": errors,
        # The preview names what is wrong now, before the author saves.
        "preview_errors": live_errors,
        "preview": preview,
        "sample": Sample.of(values),
        "base": base,
        "shown": shown,
        "versions": versions,
        "kinds": KINDS,
        "closing_keys": (DEFAULT_CLOSING, *CATEGORIES),
        "call_fields": CALL_FIELDS,
        "default_labels": DEFAULT_LABELS,
        # Blank rows the page's script clones.
        "new_pair": RawPair(),
        "new_closing": RawPair(DEFAULT_CLOSING, ""),
        "new_question": RawQuestion(options=(RawOption(), RawOption())),
        "new_option": RawOption(),
        "new_branch": RawBranch(),
        "saved": None,
        "conflict": None,
    }


@requires("admin")
async def script_page(request: web.Request) -> web.Response:
    campaign_id = int_param(request, "campaign_id")
    asked = request.query.get("version", "")
    version = int(asked) if asked.isdigit() else None

    def load(session: Session) -> dict[str, Any]:
        loaded = repo.load_version(session, campaign_id, version)
        if loaded is None and version is not None:
            raise web.HTTPNotFound()
        return {
            "campaign": _facts(session, campaign_id),
            "outcomes": repo.outcome_choices(session, campaign_id),
            "raw": raw_of(loaded.title, loaded.body, loaded.questions) if loaded else RawScript(),
            "shown": loaded.version if loaded else 0,
            "base": repo.latest_version(session, campaign_id),
            "versions": repo.versions(session, campaign_id),
        }

    data = await read(request, load)
    context = _context(request, errors={}, values={}, **data)
    saved = request.query.get("saved", "")
    context["saved"] = int(saved) if saved.isdigit() else None
    return page(request, "admin/script_editor.html", context)


@requires("admin")
async def script_save(request: web.Request) -> web.Response:
    campaign_id = int_param(request, "campaign_id")
    values = fields(await form(request))
    raw = read_fields(values)
    base_text = values.get("base", "")
    base = int(base_text) if base_text.isdigit() else 0
    user = current_session(request).user_id or None
    at = now(request)

    def save(session: Session) -> dict[str, Any]:
        campaign = _facts(session, campaign_id, lock=True)
        outcomes = repo.outcome_choices(session, campaign_id)
        draft, errors = check(raw, [o.code for o in outcomes])
        result: dict[str, Any] = {"campaign": campaign, "outcomes": outcomes, "errors": errors}
        if not errors:
            try:
                result["saved"] = repo.save_version(
                    session, campaign_id, draft, base=base, user_id=user, at=at
                )
            except repo.Conflict as conflict:
                result["conflict"] = conflict.latest
        return result

    result = await write(request, save)
    if "saved" in result:
        raise see_other(f"/admin/campaigns/{campaign_id}/script?saved={result['saved']}")

    def again(session: Session) -> dict[str, Any]:
        return {
            "latest": repo.latest_version(session, campaign_id),
            "versions": repo.versions(session, campaign_id),
        }

    state = await read(request, again)
    conflict = result.get("conflict")
    # After a conflict the author has seen it: the next save goes through, on purpose.
    context = _context(
        request,
        campaign=result["campaign"],
        outcomes=result["outcomes"],
        raw=raw,
        errors=result["errors"],
        base=state["latest"] if conflict else base,
        shown=int(shown) if (shown := values.get("shown", "")).isdigit() else 0,
        versions=state["versions"],
        values=values,
    )
    context["conflict"] = conflict
    return page(request, "admin/script_editor.html", context, status=409 if conflict else 422)


@requires("admin")
async def script_preview(request: web.Request) -> web.Response:
    """The preview pane's HTML for what the editor holds now (nothing is saved)."""
    campaign_id = int_param(request, "campaign_id")
    values = fields(await form(request))

    def load(session: Session) -> tuple[CampaignFacts, list[OutcomeChoice]]:
        return _facts(session, campaign_id), repo.outcome_choices(session, campaign_id)

    campaign, outcomes = await read(request, load)
    raw = read_fields(values)
    preview, errors = _preview(request, raw, campaign, outcomes, values)
    language = request_language(request)
    html = (
        request.app[TEMPLATES][language]
        .get_template(_PREVIEW)
        .render(
            lang=language,
            campaign=campaign,
            outcomes=outcomes,
            raw=raw,
            preview=preview,
            preview_errors=errors,
            default_labels=DEFAULT_LABELS,
        )
    )
    return web.json_response({"html": html, "problems": len(errors)})


def install(router: web.UrlDispatcher) -> None:
    base = "/admin/campaigns/{campaign_id:\\d+}/script"
    router.add_get(base, script_page)
    router.add_post(base, script_save)
    router.add_post(base + "/preview", script_preview)
