"""The station inventory: the handsets volunteers sit at (number, channel, label).

The same rules as `phonebank hardware` (phonebank.hardware.inventory): digits-only
numbers, DAHDI/<port> or PJSIP/<endpoint> channels, labels safe as a caller ID
name, no duplicates. Asterisk reads the stations when its configuration is
rendered (`phonebank asterisk render`); QR codes to pair screens are printed from
the supervisors' /stations page.
"""

from __future__ import annotations

import re
from typing import Any

from aiohttp import web
from sqlalchemy import select
from sqlalchemy.orm import Session

from phonebank.admin import messages as m
from phonebank.admin.forms import Form
from phonebank.admin.http import fields, form, int_param, now, page, read, see_other, write
from phonebank.db.models import Station
from phonebank.hardware.errors import HardwareError
from phonebank.hardware.inventory import StationEntry, check_inventory
from phonebank.web.security import requires

_NUMBER = re.compile(r"[0-9]{1,16}")
_CHANNEL = re.compile(r"DAHDI/[0-9]+|PJSIP/[A-Za-z0-9_.-]+")
_LABEL_FORBIDDEN = set(';\n\r"<>\\')


def parse_station(
    values: dict[str, str], others: list[StationEntry], prefix: str = ""
) -> tuple[StationEntry | None, dict[str, str]]:
    """A station from the form, checked against the `others` in the inventory."""
    f = Form(values)
    number = f.text(prefix + "number", required=True, max_length=16)
    channel = f.text(prefix + "channel", required=True, max_length=128)
    label = f.text(prefix + "label", max_length=128)
    if number and not _NUMBER.fullmatch(number):
        f.fail(prefix + "number", m.BAD_NUMBER)
    elif number in {s.number for s in others}:
        f.fail(prefix + "number", m.NUMBER_TAKEN)
    if channel and not _CHANNEL.fullmatch(channel):
        f.fail(prefix + "channel", m.BAD_CHANNEL)
    elif channel in {s.channel for s in others}:
        f.fail(prefix + "channel", m.CHANNEL_TAKEN)
    if _LABEL_FORBIDDEN.intersection(label):
        f.fail(prefix + "label", m.BAD_LABEL)
    if not f.ok:
        return None, f.errors
    entry = StationEntry(number, channel, label, f.checkbox(prefix + "enabled"))
    try:
        check_inventory([*others, entry])  # the hardware code's own rules, as a last guard
    except HardwareError:
        return None, {prefix + "number": m.BAD_NUMBER}
    return entry, {}


def _entry(row: Station) -> StationEntry:
    return StationEntry(row.number, row.channel, row.label, row.enabled)


def _rows(session: Session) -> list[Station]:
    return list(session.scalars(select(Station).order_by(Station.number)))


def _values(rows: list[Station]) -> dict[str, str]:
    out: dict[str, str] = {"new_enabled": "on"}
    for row in rows:
        p = f"s{row.id}_"
        out |= {
            p + "number": row.number,
            p + "channel": row.channel,
            p + "label": row.label,
            p + "enabled": "on" if row.enabled else "",
        }
    return out


def _sort_key(row: Station) -> tuple[int, str]:
    return (len(row.number), row.number)


async def _page(
    request: web.Request, values: dict[str, str] | None, errors: dict[str, str], status: int = 200
) -> web.Response:
    rows = sorted(await read(request, _rows), key=_sort_key)
    context: dict[str, Any] = {
        "stations": rows,
        "values": _values(rows) | (values or {}),
        "errors": errors,
    }
    return page(request, "admin/stations.html", context, status=status)


@requires("admin")
async def station_list(request: web.Request) -> web.Response:
    return await _page(request, None, {})


@requires("admin")
async def station_create(request: web.Request) -> web.Response:
    values = fields(await form(request))

    def create(session: Session) -> dict[str, str]:
        others = [_entry(r) for r in _rows(session)]
        entry, errors = parse_station(values, others, "new_")
        if entry is not None:
            session.add(
                Station(
                    number=entry.number,
                    channel=entry.channel,
                    label=entry.label,
                    enabled=entry.enabled,
                )
            )
        return errors

    errors = await write(request, create)
    if not errors:
        raise see_other("/admin/stations", "created")
    return await _page(request, values, errors, status=422)


@requires("admin")
async def station_save(request: web.Request) -> web.Response:
    station_id = int_param(request, "station_id")
    values = fields(await form(request))
    at = now(request)
    prefix = f"s{station_id}_"

    def save(session: Session) -> dict[str, str]:
        rows = _rows(session)
        row = next((r for r in rows if r.id == station_id), None)
        if row is None:
            raise web.HTTPNotFound()
        others = [_entry(r) for r in rows if r.id != station_id]
        entry, errors = parse_station(values, others, prefix)
        if entry is not None:
            row.number, row.channel, row.label = entry.number, entry.channel, entry.label
            row.enabled = entry.enabled
            row.updated_at = at
        return errors

    errors = await write(request, save)
    if not errors:
        raise see_other("/admin/stations", "saved")
    return await _page(request, values, errors, status=422)


def install(router: web.UrlDispatcher) -> None:
    router.add_get("/admin/stations", station_list)
    router.add_post("/admin/stations/new", station_create)
    router.add_post("/admin/stations/{station_id:\\d+}", station_save)
