"""Daily access codes (as `phonebank user code`): a supervisor makes one, hands it out,
and may stop it early. Supervisors make volunteer codes; admins supervisor codes too.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from aiohttp import web
from sqlalchemy import select
from sqlalchemy.orm import Session

from phonebank.accounts.codes import CodeWindow, code_usable, format_code, generate_code, validity
from phonebank.admin import campaign_repo
from phonebank.admin.forms import Form
from phonebank.admin.http import fields, form, int_param, now, page, read, see_other, write
from phonebank.db.enums import Role
from phonebank.db.models import AccessCode, Campaign
from phonebank.web.security import current_session, requires

DEFAULT_HOURS = 14  # one long day, as the CLI


def roles_for(creator: str) -> list[str]:
    """A code never opens more than a volunteer's screens unless an admin makes it."""
    return ["volunteer", "supervisor"] if creator == "admin" else ["volunteer"]


@dataclass(frozen=True)
class CodeRow:
    id: int
    code: str
    role: str
    campaign: str
    valid_until: datetime
    state: str  # valid, expired, revoked


def _rows(session: Session, at: datetime, everything: bool) -> list[CodeRow]:
    rows = session.execute(
        select(AccessCode, Campaign.name)
        .outerjoin(Campaign, Campaign.id == AccessCode.campaign_id)
        .order_by(AccessCode.valid_until.desc())
        .limit(500)
    )
    out = []
    for code, campaign in rows:
        usable = code_usable(CodeWindow(code.valid_from, code.valid_until, code.revoked_at), at)
        state = "valid" if usable else ("revoked" if code.revoked_at else "expired")
        if usable or everything:
            out.append(
                CodeRow(
                    code.id,
                    format_code(code.code),
                    code.role.value,
                    campaign or "",
                    code.valid_until,
                    state,
                )
            )
    return out


async def _page(
    request: web.Request, values: dict[str, str], errors: dict[str, str], status: int = 200
) -> web.Response:
    everything = request.query.get("all") == "1"
    at = now(request)

    def load(session: Session) -> tuple[list[CodeRow], list[tuple[int, str]]]:
        return _rows(session, at, everything), campaign_repo.names(session)

    codes, campaigns = await read(request, load)
    fresh = request.query.get("new", "")
    context = {
        "codes": codes,
        "campaigns": campaigns,
        "roles": roles_for(current_session(request).role),
        "everything": everything,
        "fresh": fresh,
        "values": values,
        "errors": errors,
    }
    return page(request, "admin/codes.html", context, status=status)


@requires("supervisor")
async def code_list(request: web.Request) -> web.Response:
    return await _page(request, {"hours": str(DEFAULT_HOURS), "role": "volunteer"}, {})


@requires("supervisor")
async def code_create(request: web.Request) -> web.Response:
    values = fields(await form(request))
    checked = Form(values)
    hours = checked.number("hours", low=0.25, high=24 * 7, required=True)
    role = checked.choice("role", roles_for(current_session(request).role), "volunteer")
    campaign_text = checked.choice(
        "campaign", ["", *(str(i) for i, _ in await read(request, campaign_repo.names))], ""
    )
    if not checked.ok or hours is None:
        return await _page(request, values, checked.errors, status=422)
    valid_from, valid_until = validity(now(request), hours)
    creator = current_session(request).user_id
    code = generate_code()

    def create(session: Session) -> str:
        row = AccessCode(
            code=code,
            role=Role(role),
            campaign_id=int(campaign_text) if campaign_text else None,
            valid_from=valid_from,
            valid_until=valid_until,
            created_by_id=creator,
        )
        session.add(row)
        session.flush()
        return format_code(code)

    shown = await write(request, create)
    raise see_other(f"/admin/codes?new={shown}", "created")


@requires("supervisor")
async def code_revoke(request: web.Request) -> web.Response:
    code_id = int_param(request, "code_id")
    at = now(request)

    def revoke(session: Session) -> None:
        row = session.get(AccessCode, code_id)
        if row is None:
            raise web.HTTPNotFound()
        row.revoked_at = row.revoked_at or at

    await write(request, revoke)
    raise see_other("/admin/codes", "revoked")


def install(router: web.UrlDispatcher) -> None:
    router.add_get("/admin/codes", code_list)
    router.add_post("/admin/codes", code_create)
    router.add_post("/admin/codes/{code_id:\\d+}/revoke", code_revoke)
