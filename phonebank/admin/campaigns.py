"""Campaign pages: the list, create and edit the settings, start / pause / stop."""

from __future__ import annotations

from typing import Any

from aiohttp import web
from sqlalchemy.orm import Session

from phonebank.admin import campaign_repo as repo
from phonebank.admin import messages as m
from phonebank.admin.callerid import needs_arcep_warning
from phonebank.admin.campaign_form import (
    RETRY_KEYS,
    WINDOW_CHOICES,
    campaign_fields,
    new_campaign_fields,
    parse_campaign,
)
from phonebank.admin.http import fields, form, int_param, now, page, parts, read, see_other, write
from phonebank.admin.lifecycle import allowed_actions, transition
from phonebank.admin.recordings import KINDS
from phonebank.campaigns.amd import PARAMETERS
from phonebank.db.enums import DialMode, MachineAction
from phonebank.db.models import Campaign
from phonebank.dialer.recycle import RecycleRules
from phonebank.lists.windows import DAY_NAMES
from phonebank.web.security import requires

_NOTICE_OF = {"start": "started", "pause": "paused", "stop": "stopped", "archive": "archived"}


def _choices() -> dict[str, Any]:
    defaults = RecycleRules()
    return {
        "dial_modes": [d.value for d in DialMode],
        "machine_actions": [a.value for a in MachineAction],
        "window_choices": WINDOW_CHOICES,
        "days": DAY_NAMES,
        "amd_parameters": PARAMETERS,
        "retry_keys": RETRY_KEYS,
        "retry_defaults": defaults.retry_minutes,
        "undecided_default": defaults.undecided_days,
    }


@requires("admin")
async def campaign_list(request: web.Request) -> web.Response:
    campaigns = await read(request, repo.summaries)
    return page(request, "admin/campaigns.html", {"campaigns": campaigns})


@requires("admin")
async def campaign_new(request: web.Request) -> web.Response:
    context = {"campaign": None, "values": new_campaign_fields(), "errors": {}, **_choices()}
    return page(request, "admin/campaign_form.html", context)


@requires("admin")
async def campaign_create(request: web.Request) -> web.Response:
    values = fields(await form(request))
    parsed, errors = parse_campaign(values, {}, {})
    if parsed is not None:
        try:
            created = await write(request, lambda s: repo.create(s, parsed))
        except repo.NameTaken:
            errors = {"name": m.NAME_TAKEN}
        else:
            raise see_other(f"/admin/campaigns/{created}", "created")
    context = {"campaign": None, "values": values, "errors": errors, **_choices()}
    return page(request, "admin/campaign_form.html", context, status=422)


def _load(session: Session, campaign_id: int) -> Campaign:
    campaign = repo.get(session, campaign_id)
    if campaign is None:
        raise web.HTTPNotFound()
    return campaign


def _edit_context(
    request: web.Request, campaign: Campaign, values: dict[str, str], errors: dict[str, str]
) -> dict[str, Any]:
    store = parts(request).recordings
    recordings = {
        kind: {
            "custom": bool(getattr(campaign, f"{kind}_recording")),
            "playable": store.host_file(getattr(campaign, f"{kind}_recording")) is not None,
        }
        for kind in KINDS
    }
    return {
        "campaign": campaign,
        "values": values,
        "errors": errors,
        "arcep_warning": needs_arcep_warning(campaign.caller_id),
        "actions": allowed_actions(campaign.status),
        "recordings": recordings,
        **_choices(),
    }


@requires("admin")
async def campaign_edit(request: web.Request) -> web.Response:
    campaign_id = int_param(request, "campaign_id")
    campaign = await read(request, lambda s: _load(s, campaign_id))
    context = _edit_context(request, campaign, campaign_fields(campaign), {})
    return page(request, "admin/campaign_form.html", context)


@requires("admin")
async def campaign_save(request: web.Request) -> web.Response:
    campaign_id = int_param(request, "campaign_id")
    values = fields(await form(request))
    at = now(request)

    def save(session: Session) -> tuple[Campaign, dict[str, str]]:
        campaign = _load(session, campaign_id)
        parsed, errors = parse_campaign(
            values, dict(campaign.amd_settings or {}), dict(campaign.recycle_rules or {})
        )
        if parsed is not None:
            try:
                repo.update(session, campaign, parsed, at)
            except repo.NameTaken:
                errors = {"name": m.NAME_TAKEN}
        # Nothing was changed when there are errors: the checks come before the writes.
        return campaign, errors

    campaign, errors = await write(request, save)
    if not errors:
        raise see_other(f"/admin/campaigns/{campaign_id}", "saved")
    context = _edit_context(request, campaign, values, errors)
    return page(request, "admin/campaign_form.html", context, status=422)


@requires("admin")
async def campaign_status(request: web.Request) -> web.Response:
    campaign_id = int_param(request, "campaign_id")
    action = fields(await form(request)).get("action", "")
    at = now(request)

    def change(session: Session) -> str | None:
        campaign = _load(session, campaign_id)
        new = transition(campaign.status, action)
        if new is None:
            return m.BAD_TRANSITION
        if action == "start" and repo.active_dispositions(session, campaign_id) == 0:
            return m.NO_DISPOSITIONS
        campaign.status = new
        campaign.updated_at = at
        return None

    problem = await write(request, change)
    if problem is None:
        raise see_other(f"/admin/campaigns/{campaign_id}", _NOTICE_OF[action])
    campaign = await read(request, lambda s: _load(s, campaign_id))
    context = _edit_context(request, campaign, campaign_fields(campaign), {})
    context["status_error"] = problem
    return page(request, "admin/campaign_form.html", context, status=409)


def install(router: web.UrlDispatcher) -> None:
    router.add_get("/admin/campaigns", campaign_list, name="admin_campaigns")
    router.add_get("/admin/campaigns/new", campaign_new)
    router.add_post("/admin/campaigns/new", campaign_create)
    router.add_get("/admin/campaigns/{campaign_id:\\d+}", campaign_edit)
    router.add_post("/admin/campaigns/{campaign_id:\\d+}", campaign_save)
    router.add_post("/admin/campaigns/{campaign_id:\\d+}/status", campaign_status)
