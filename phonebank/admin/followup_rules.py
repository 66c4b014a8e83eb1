"""A campaign's automatic follow-ups and consent rules, edited as a form.

Saved through `policy_store.save_rules` under `recycle_rules["followup"]`: the
campaign's other recycling keys stay as they are.
"""

from __future__ import annotations

import asyncio
from datetime import datetime
from typing import Any

from aiohttp import web
from sqlalchemy.orm import Session

from phonebank.admin import followup_form as ff
from phonebank.admin import followup_rules_form as rf
from phonebank.admin.followup_form import Checked
from phonebank.admin.followup_parts import campaign_or_404, screens, writing
from phonebank.admin.http import fields, form, int_param, now, page, read, see_other
from phonebank.db.enums import DispositionCategory, FollowUpChannel
from phonebank.db.models import Campaign
from phonebank.followup.compose import Composer
from phonebank.followup.errors import FollowUpError
from phonebank.followup.merge import available_fields
from phonebank.followup.policy_store import rules_json, save_rules
from phonebank.web.security import requires

RULES_UNREADABLE = ff.N_("These rules cannot be saved:")
# Blank rows the rules editor offers for new follow-ups.
NEW_ROWS = 1
MAX_ROWS = 50


def _rules_context(
    campaign: Campaign,
    templates: list[str],
    values: dict[str, str],
    lists: dict[str, list[str]],
    rows: int,
    checked: Checked | None = None,
) -> dict[str, Any]:
    return {
        "campaign": campaign,
        "templates": templates,
        "values": values,
        "lists": lists,
        "rows": rows,
        "errors": checked.errors if checked else {},
        "details": checked.details if checked else {},
        "outcomes": [c.value for c in DispositionCategory],
        "merge_fields": available_fields({}),
    }


@requires("admin")
async def rules_form(request: web.Request) -> web.Response:
    campaign_id = int_param(request, "campaign_id")
    campaign = await read(request, lambda s: campaign_or_404(s, campaign_id))
    templates = await asyncio.to_thread(screens(request).composer.templates.names)
    values, lists, rows = rf.rules_values(rules_json(campaign))
    context = _rules_context(campaign, templates, values, lists, rows + NEW_ROWS)
    return page(request, "admin/followup_rules.html", context)


def _save_rules(
    session: Session,
    campaign_id: int,
    values: dict[str, str],
    lists: dict[str, list[str]],
    rows: int,
    templates: list[str],
    composer: Composer,
    at: datetime,
) -> tuple[Campaign, Checked]:
    campaign = campaign_or_404(session, campaign_id)
    rules, checked = rf.parse_rules_form(values, lists, rows, rules_json(campaign), templates)
    if rules is None:
        return campaign, checked
    for trigger in rules["triggers"]:
        channel = "email" if "email" in trigger else "sms"
        try:
            composer.check(FollowUpChannel(channel), trigger[channel], trigger.get("fields", {}))
        except FollowUpError as exc:
            checked.fail(checked.rows[trigger["id"]] + channel, RULES_UNREADABLE, str(exc))
    if checked.ok:
        try:
            save_rules(session, campaign, rules, at)
        except FollowUpError as exc:
            checked.fail("rules", RULES_UNREADABLE, str(exc))
    return campaign, checked


@requires("admin")
async def rules_submit(request: web.Request) -> web.Response:
    campaign_id = int_param(request, "campaign_id")
    submitted = await form(request)
    values = fields(submitted)
    if not values.get("rows", "").isdigit():
        # Not this page's form: unticked boxes would read as "no consent needed".
        raise web.HTTPBadRequest(text="the rules form is incomplete; reload the page")
    rows = min(int(values["rows"]), MAX_ROWS)
    lists = {
        f"t{i}_outcome": [
            str(v) for v in submitted.getall(f"t{i}_outcome", []) if isinstance(v, str)
        ]
        for i in range(rows)
    }
    composer, at = screens(request).composer, now(request)
    templates = await asyncio.to_thread(composer.templates.names)
    campaign, checked = await writing(
        request,
        lambda s: _save_rules(s, campaign_id, values, lists, rows, templates, composer, at),
    )
    if checked.ok:
        raise see_other(f"/admin/followup/{campaign_id}", "rules_saved")
    context = _rules_context(campaign, templates, values, lists, rows, checked)
    return page(request, "admin/followup_rules.html", context, status=422)
