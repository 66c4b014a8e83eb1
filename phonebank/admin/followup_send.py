"""Send to a segment: the form, the preview (the dry run), then the confirm.

A send is keyed by the preview it was confirmed from (a random token shown with
the preview) and the hash of its definition, so a double submit queues it once,
and a confirm whose fields changed since the preview previews again.
"""

from __future__ import annotations

import asyncio
import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from aiohttp import web
from sqlalchemy.orm import Session

from phonebank.admin import followup_form as ff
from phonebank.admin import followup_repo as data
from phonebank.admin.followup_form import Checked, SendRequest
from phonebank.admin.followup_parts import campaign_or_404, screens, writing
from phonebank.admin.http import fields, form, int_param, now, page, read, see_other
from phonebank.admin.list_form import TARGET_FIELDS
from phonebank.db.enums import DispositionCategory, FollowUpChannel, SupportLevel
from phonebank.db.models import Campaign
from phonebank.followup import sends
from phonebank.followup.compose import Composer
from phonebank.followup.errors import FollowUpError, TemplateError
from phonebank.followup.merge import available_fields
from phonebank.followup.scheduler import run_sends
from phonebank.web.security import requires

CANNOT_PREPARE = ff.N_("This send cannot be prepared:")
# A confirm is honoured only with the token its preview was shown with.
_KEY_LENGTH = 16


@dataclass
class SendPage:
    campaign: Campaign
    dispositions: list[tuple[str, str]]
    templates: list[str]


async def _send_page_parts(request: web.Request, campaign_id: int) -> SendPage:
    composer = screens(request).composer

    def load(session: Session) -> SendPage:
        campaign = campaign_or_404(session, campaign_id)
        codes = [(code, label) for code, label in data.dispositions(session, campaign_id)]
        return SendPage(campaign, codes, [])

    loaded: SendPage = await read(request, load)
    loaded.templates = await asyncio.to_thread(composer.templates.names)
    return loaded


def _send_context(
    loaded: SendPage,
    values: dict[str, str],
    lists: dict[str, list[str]],
    checked: Checked | None = None,
    preview: dict[str, Any] | None = None,
) -> dict[str, Any]:
    return {
        "campaign": loaded.campaign,
        "dispositions": loaded.dispositions,
        "templates": loaded.templates,
        "values": values,
        "lists": lists,
        "errors": checked.errors if checked else {},
        "details": checked.details if checked else {},
        "preview": preview,
        "support_levels": [s.value for s in SupportLevel],
        "outcomes": [c.value for c in DispositionCategory],
        "text_fields": TARGET_FIELDS,
        "merge_fields": available_fields({}),
        "gsm": ff.gsm_alphabet(),
    }


@requires("admin")
async def send_form(request: web.Request) -> web.Response:
    loaded = await _send_page_parts(request, int_param(request, "campaign_id"))
    values = {"channel": "sms", "when": "now", "template": (loaded.templates or [""])[0]}
    return page(request, "admin/followup_send.html", _send_context(loaded, values, {}))


def _spec(campaign: Campaign, asked: SendRequest) -> sends.SendSpec:
    return sends.SendSpec(
        campaign.name, asked.channel, asked.where, asked.content, asked.constants, asked.at
    )


def _check_template(
    composer: Composer, checked: Checked, asked: SendRequest, templates: list[str]
) -> None:
    if asked.content not in templates:
        checked.fail("template", ff.NO_TEMPLATE)
        return
    try:
        used = composer.templates.variables(asked.content)
    except TemplateError as exc:
        checked.fail("template", ff.BAD_TEMPLATE, str(exc))
        return
    ff.check_template_fields(checked, "template", used, asked.constants)


def _previewed(
    session: Session, campaign_id: int, spec: sends.SendSpec, composer: Composer, at: datetime
) -> dict[str, Any]:
    """The dry run: counts left out by reason, samples, and (SMS) what it costs in parts."""
    result = sends.prepare(session, spec, composer, at)
    audience = result.audience
    preview: dict[str, Any] = {
        "matched": audience.matched,
        "recipients": len(audience.recipients),
        "excluded": dict(sorted(audience.excluded.items())),
        "samples": [
            {"to": to, "message": text, "count": ff.sms_count(text)} for to, text in result.samples
        ],
        "totals": None,
    }
    if spec.channel is FollowUpChannel.SMS:
        campaign = campaign_or_404(session, campaign_id)
        texts = (
            composer.preview(
                spec.channel,
                spec.content,
                composer.fields(r, campaign, spec.constants),
                r.address,
            )
            for r in audience.recipients
        )
        preview["totals"] = ff.sms_totals(texts)
    return preview


def _confirm(
    session: Session, spec: sends.SendSpec, composer: Composer, at: datetime, key: str
) -> str:
    _plan, created = sends.create(session, spec, composer, at, key)
    if not created:
        return "send_already"
    if spec.at is not None:
        return "send_scheduled"
    # Evaluated now, as the scheduler would (older sends due now go first).
    run_sends(session, at, composer, "web")
    return "send_queued"


def _send_lists(submitted: Any) -> dict[str, list[str]]:
    return {
        name: [str(v) for v in submitted.getall(name, []) if isinstance(v, str)]
        for name in ff.SEND_LISTS
    }


@requires("admin")
async def send_submit(request: web.Request) -> web.Response:
    campaign_id = int_param(request, "campaign_id")
    submitted = await form(request)
    values, lists = fields(submitted), _send_lists(submitted)
    loaded = await _send_page_parts(request, campaign_id)
    campaign, composer, at = loaded.campaign, screens(request).composer, now(request)
    asked, checked = ff.parse_send(
        values,
        lists,
        dispositions=[code for code, _label in loaded.dispositions],
        zone=campaign.time_zone,
        now=at,
    )
    if asked is not None and asked.channel is FollowUpChannel.EMAIL:
        await asyncio.to_thread(_check_template, composer, checked, asked, loaded.templates)
    if asked is None or not checked.ok:
        context = _send_context(loaded, values, lists, checked)
        return page(request, "admin/followup_send.html", context, status=422)
    spec = _spec(campaign, asked)
    fingerprint = spec.default_key()
    token = values.get("send_key", "")
    if (
        values.get("action") == "confirm"
        and values.get("previewed") == fingerprint
        and len(token) == _KEY_LENGTH
        and token.isalnum()
    ):
        key = f"web-{token}-{fingerprint[:24]}"
        try:
            notice = await writing(request, lambda s: _confirm(s, spec, composer, at, key))
        except FollowUpError as exc:
            checked.fail("conditions", CANNOT_PREPARE, str(exc))
        else:
            raise see_other(f"/admin/followup/{campaign_id}", notice)
    preview = None
    if checked.ok:
        try:
            preview = await read(request, lambda s: _previewed(s, campaign_id, spec, composer, at))
        except FollowUpError as exc:
            checked.fail(
                "text" if asked.channel is FollowUpChannel.SMS else "template",
                CANNOT_PREPARE,
                str(exc),
            )
    if preview is not None and preview["recipients"] == 0:
        checked.fail("conditions", ff.NOBODY)
    values = {**values, "previewed": fingerprint, "send_key": secrets.token_hex(_KEY_LENGTH // 2)}
    context = _send_context(loaded, values, lists, checked, preview)
    context["spec"] = spec
    context["local_at"] = ff.utc_to_local(spec.at, campaign.time_zone) if spec.at else ""
    return page(request, "admin/followup_send.html", context, status=200 if checked.ok else 422)
