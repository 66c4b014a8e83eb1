"""Follow-up screens: the queue per campaign, the modem, replies and opt-outs, cancelling
a send; the send form (`followup_send`) and the rules editor (`followup_rules`) beside.

The pages only queue, as `phonebank sms|email segment` does: the service's workers
send.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web
from sqlalchemy.orm import Session

from phonebank.admin import followup_form as ff
from phonebank.admin import followup_repo as data
from phonebank.admin import followup_rules, followup_send
from phonebank.admin.followup_parts import campaign_or_404, screens, writing
from phonebank.admin.http import actor, int_param, now, page, read, see_other
from phonebank.db.enums import FollowUpChannel
from phonebank.db.models.followup import FollowUpMessage
from phonebank.followup import sends
from phonebank.followup.policy_store import rules_json
from phonebank.web.security import requires


@requires("supervisor")
async def overview(request: web.Request) -> web.Response:
    def load(session: Session) -> dict[str, Any]:
        return {
            "campaigns": data.campaigns(session),
            "unknown_replies": data.replies(session, None),
        }

    context = await read(request, load)
    context |= {"modem": screens(request).modem(), "states": data.STATES}
    return page(request, "admin/followup.html", context)


@requires("supervisor")
async def campaign_page(request: web.Request) -> web.Response:
    campaign_id = int_param(request, "campaign_id")

    def load(session: Session) -> dict[str, Any]:
        campaign = campaign_or_404(session, campaign_id)
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
        "modem": screens(request).modem(),
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

    campaign_id, notice = await writing(request, work)
    raise see_other(f"/admin/followup/{campaign_id}" if campaign_id else "/admin/followup", notice)


def install(router: web.UrlDispatcher) -> None:
    router.add_get("/admin/followup", overview)
    router.add_get("/admin/followup/{campaign_id:\\d+}", campaign_page)
    router.add_get("/admin/followup/{campaign_id:\\d+}/send", followup_send.send_form)
    router.add_post("/admin/followup/{campaign_id:\\d+}/send", followup_send.send_submit)
    router.add_get("/admin/followup/{campaign_id:\\d+}/rules", followup_rules.rules_form)
    router.add_post("/admin/followup/{campaign_id:\\d+}/rules", followup_rules.rules_submit)
    router.add_post("/admin/followup/sends/{send_id:\\d+}/cancel", cancel)
