"""A campaign's dispositions: labels, keys, categories and what each does to the lead."""

from __future__ import annotations

from typing import Any

from aiohttp import web
from sqlalchemy import select
from sqlalchemy.orm import Session

from phonebank.admin.campaigns import _load
from phonebank.admin.disposition_form import DispositionValues, parse_dispositions, parse_new
from phonebank.admin.http import fields, form, int_param, now, page, read, see_other, write
from phonebank.db.enums import DispositionCategory, FollowUpChannel, RecycleAction
from phonebank.db.models import Campaign, Disposition
from phonebank.web.security import requires


def _rows(session: Session, campaign_id: int) -> list[Disposition]:
    return list(
        session.scalars(
            select(Disposition)
            .where(Disposition.campaign_id == campaign_id)
            .order_by(Disposition.position, Disposition.id)
        )
    )


def _values(rows: list[Disposition]) -> dict[str, str]:
    out: dict[str, str] = {}
    for d in rows:
        p = f"d{d.id}_"
        out.update(
            {
                p + "label": d.label,
                p + "key": d.shortcut_key or "",
                p + "category": d.category.value,
                p + "recycle": d.recycle_action.value,
                p + "retry": "" if d.retry_delay_minutes is None else str(d.retry_delay_minutes),
                p + "dnc": "on" if d.adds_to_dnc else "",
                p + "follow_up": d.follow_up.value if d.follow_up else "",
                p + "active": "on" if d.active else "",
                p + "position": str(d.position),
            }
        )
    return out


def _context(
    campaign: Campaign, rows: list[Disposition], values: dict[str, str], errors: dict[str, str]
) -> dict[str, Any]:
    return {
        "campaign": campaign,
        "rows": rows,
        "values": values,
        "errors": errors,
        "categories": [c.value for c in DispositionCategory],
        "recycle_actions": [a.value for a in RecycleAction],
        "follow_ups": ["", *(c.value for c in FollowUpChannel)],
    }


@requires("admin")
async def dispositions_page(request: web.Request) -> web.Response:
    campaign_id = int_param(request, "campaign_id")

    def load(session: Session) -> tuple[Campaign, list[Disposition]]:
        return _load(session, campaign_id), _rows(session, campaign_id)

    campaign, rows = await read(request, load)
    values = _values(rows) | {"new_active": "on", "new_category": "other", "new_recycle": "finish"}
    return page(request, "admin/dispositions.html", _context(campaign, rows, values, {}))


def _apply(d: Disposition, v: DispositionValues) -> None:
    for name in DispositionValues.__dataclass_fields__:
        setattr(d, name, getattr(v, name))


@requires("admin")
async def dispositions_save(request: web.Request) -> web.Response:
    campaign_id = int_param(request, "campaign_id")
    values = fields(await form(request))
    at = now(request)

    def save(session: Session) -> tuple[Campaign, list[Disposition], dict[str, str]]:
        campaign = _load(session, campaign_id)
        rows = _rows(session, campaign_id)
        parsed, errors = parse_dispositions(values, [d.id for d in rows])
        if errors:
            return campaign, rows, errors
        # Keys move between rows in one save: clear them first so the unique
        # (campaign, key) constraint never sees two rows holding one key.
        for d in rows:
            d.shortcut_key = None
        session.flush()
        for d in rows:
            _apply(d, parsed[d.id])
            d.updated_at = at
        return campaign, rows, {}

    campaign, rows, errors = await write(request, save)
    if not errors:
        raise see_other(f"/admin/campaigns/{campaign_id}/dispositions", "saved")
    context = _context(campaign, rows, values, errors)
    return page(request, "admin/dispositions.html", context, status=422)


@requires("admin")
async def disposition_add(request: web.Request) -> web.Response:
    campaign_id = int_param(request, "campaign_id")
    values = fields(await form(request))

    def add(session: Session) -> tuple[Campaign, list[Disposition], dict[str, str]]:
        campaign = _load(session, campaign_id)
        rows = _rows(session, campaign_id)
        codes = {d.code for d in rows}
        keys = {d.shortcut_key for d in rows if d.shortcut_key}
        parsed, errors = parse_new(values, codes, keys)
        if parsed is None:
            return campaign, rows, errors
        code, v = parsed
        row = Disposition(campaign_id=campaign_id, code=code)
        _apply(row, v)
        row.position = v.position or (max((d.position for d in rows), default=-1) + 1)
        session.add(row)
        return campaign, rows, {}

    campaign, rows, errors = await write(request, add)
    if not errors:
        raise see_other(f"/admin/campaigns/{campaign_id}/dispositions", "created")
    context = _context(campaign, rows, _values(rows) | values, errors)
    return page(request, "admin/dispositions.html", context, status=422)


def install(router: web.UrlDispatcher) -> None:
    base = "/admin/campaigns/{campaign_id:\\d+}/dispositions"
    router.add_get(base, dispositions_page)
    router.add_post(base, dispositions_save)
    router.add_post(base + "/new", disposition_add)
