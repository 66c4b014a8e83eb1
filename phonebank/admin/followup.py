"""Follow-up screens: the queue per campaign, sends to a segment (preview, then confirm),
cancelling a scheduled send, and the campaign's automatic follow-ups.

The pages only queue, as `phonebank sms|email segment` does: the service's workers
send. A send is keyed by the preview it was confirmed from (a random token shown
with the preview) and its definition, so a double submit queues it once.
"""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from aiohttp import web
from sqlalchemy.orm import Session

from phonebank.admin import followup_form as ff
from phonebank.admin import followup_repo as data
from phonebank.admin.followup_form import Checked, SendRequest
from phonebank.admin.http import actor, fields, form, int_param, now, page, parts, read, see_other
from phonebank.admin.list_form import TARGET_FIELDS
from phonebank.db.enums import DispositionCategory, FollowUpChannel, SupportLevel
from phonebank.db.models import Campaign
from phonebank.db.models.followup import FollowUpMessage
from phonebank.followup import sends
from phonebank.followup.compose import Composer
from phonebank.followup.errors import FollowUpError, TemplateError
from phonebank.followup.merge import available_fields
from phonebank.followup.policy_store import rules_json, save_rules
from phonebank.followup.scheduler import run_sends
from phonebank.followup.workers import FollowUpWorkers
from phonebank.web.security import requires

N_ = ff.N_
CANNOT_PREPARE = N_("This send cannot be prepared:")
RULES_UNREADABLE = N_("These rules cannot be saved:")
# Blank rows the rules editor offers for new follow-ups.
NEW_ROWS = 1
MAX_ROWS = 50
# A confirm is honoured only with the token its preview was shown with.
_KEY_LENGTH = 16


@dataclass(frozen=True)
class ModemView:
    """What the page may say of the modem: the device, and the errors seen since start."""

    device: str
    errors: int
    last_error: str


class ModemWatch:
    """The running follow-up workers, once the service has started them (the web app
    is built before they start)."""

    def __init__(self) -> None:
        self.workers: FollowUpWorkers | None = None

    def view(self) -> ModemView | None:
        running = self.workers
        if running is None or not running.sms_device:
            return None
        errors = running.modem_errors
        return ModemView(running.sms_device, len(errors), errors[-1] if errors else "")


def _no_modem() -> ModemView | None:
    return None


@dataclass(frozen=True)
class FollowUpScreens:
    """What the follow-up pages need besides the admin's parts."""

    composer: Composer
    modem: Callable[[], ModemView | None] = field(default=_no_modem)


FOLLOWUP = web.AppKey("admin_followup", FollowUpScreens)


def _screens(request: web.Request) -> FollowUpScreens:
    return request.app[FOLLOWUP]


def _campaign(session: Session, campaign_id: int) -> Campaign:
    campaign = session.get(Campaign, campaign_id)
    if campaign is None:
        raise web.HTTPNotFound()
    return campaign


# -- overview ------------------------------------------------------------------------


@requires("supervisor")
async def overview(request: web.Request) -> web.Response:
    def load(session: Session) -> dict[str, Any]:
        return {
            "campaigns": data.campaigns(session),
            "unknown_replies": data.replies(session, None),
        }

    context = await read(request, load)
    context |= {"modem": _screens(request).modem(), "states": data.STATES}
    return page(request, "admin/followup.html", context)


@requires("supervisor")
async def campaign_page(request: web.Request) -> web.Response:
    campaign_id = int_param(request, "campaign_id")

    def load(session: Session) -> dict[str, Any]:
        campaign = _campaign(session, campaign_id)
        stored = rules_json(campaign)
        return {
            "campaign": campaign,
            "counts": data.queue_counts(session, campaign_id).get(
                campaign_id, {c.value: {} for c in FollowUpChannel}
            ),
            "sends": data.campaign_sends(session, campaign_id),
            "replies": data.replies(session, campaign_id),
            "opt_outs": data.opt_outs(session, campaign_id),
            "rules": stored,
        }

    context = await read(request, load)
    context |= {
        "modem": _screens(request).modem(),
        "states": data.STATES,
        "local": lambda moment: ff.utc_to_local(moment, context["campaign"].time_zone),
    }
    return page(request, "admin/followup_campaign.html", context)


@requires("admin")
async def cancel(request: web.Request) -> web.Response:
    send_id = int_param(request, "send_id")
    at, who = now(request), actor(request)

    def work(session: Session) -> tuple[int | None, str]:
        plan = session.get(FollowUpMessage, send_id)
        if plan is None or plan.kind != sends.PLAN_KIND:
            raise web.HTTPNotFound()
        campaign_id = plan.campaign_id
        try:
            sends.cancel(session, send_id, at, who)
        except sends.SendError:
            return campaign_id, "send_not_cancelled"
        return campaign_id, "send_cancelled"

    campaign_id, notice = await _writing(request, work)
    raise see_other(f"/admin/followup/{campaign_id}" if campaign_id else "/admin/followup", notice)


async def _writing(request: web.Request, work: Callable[[Session], Any]) -> Any:
    """`work` in a writer session of its own: the follow-up code commits as it goes."""
    sessions = parts(request).writers

    def run() -> Any:
        with sessions() as session:
            return work(session)

    return await asyncio.to_thread(run)


# -- send to a segment -----------------------------------------------------------------


@dataclass
class SendPage:
    campaign: Campaign
    dispositions: list[tuple[str, str]]
    templates: list[str]


async def _send_page_parts(request: web.Request, campaign_id: int) -> SendPage:
    composer = _screens(request).composer

    def load(session: Session) -> SendPage:
        campaign = _campaign(session, campaign_id)
        codes = [(code, label) for code, label in data.dispositions(session, campaign_id)]
        return SendPage(campaign, codes, [])

    loaded: SendPage = await read(request, load)
    loaded.templates = await asyncio.to_thread(composer.templates.names)
    return loaded


def _send_context(
    request: web.Request,
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
    return page(request, "admin/followup_send.html", _send_context(request, loaded, values, {}))


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
        campaign = _campaign(session, campaign_id)
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
    campaign, composer, at = loaded.campaign, _screens(request).composer, now(request)
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
        context = _send_context(request, loaded, values, lists, checked)
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
            notice = await _writing(request, lambda s: _confirm(s, spec, composer, at, key))
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
    context = _send_context(request, loaded, values, lists, checked, preview)
    context["spec"] = spec
    context["local_at"] = ff.utc_to_local(spec.at, campaign.time_zone) if spec.at else ""
    return page(request, "admin/followup_send.html", context, status=200 if checked.ok else 422)


# -- automatic follow-ups ----------------------------------------------------------------


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
    campaign = await read(request, lambda s: _campaign(s, campaign_id))
    templates = await asyncio.to_thread(_screens(request).composer.templates.names)
    values, lists, rows = ff.rules_values(rules_json(campaign))
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
    campaign = _campaign(session, campaign_id)
    rules, checked = ff.parse_rules_form(values, lists, rows, rules_json(campaign), templates)
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
    composer, at = _screens(request).composer, now(request)
    templates = await asyncio.to_thread(composer.templates.names)
    campaign, checked = await _writing(
        request,
        lambda s: _save_rules(s, campaign_id, values, lists, rows, templates, composer, at),
    )
    if checked.ok:
        raise see_other(f"/admin/followup/{campaign_id}", "rules_saved")
    context = _rules_context(campaign, templates, values, lists, rows, checked)
    return page(request, "admin/followup_rules.html", context, status=422)


def install(router: web.UrlDispatcher) -> None:
    router.add_get("/admin/followup", overview)
    router.add_get("/admin/followup/{campaign_id:\\d+}", campaign_page)
    router.add_get("/admin/followup/{campaign_id:\\d+}/send", send_form)
    router.add_post("/admin/followup/{campaign_id:\\d+}/send", send_submit)
    router.add_get("/admin/followup/{campaign_id:\\d+}/rules", rules_form)
    router.add_post("/admin/followup/{campaign_id:\\d+}/rules", rules_submit)
    router.add_post("/admin/followup/sends/{send_id:\\d+}/cancel", cancel)
