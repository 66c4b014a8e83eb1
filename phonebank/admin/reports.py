"""Reports for supervisors, their CSV exports, the personal-data exports, the export log.

Every export writes an audit row (who, what, when, how many rows). Exports are
POSTs: a link on another site cannot make a logged-in supervisor export anything.
"""

from __future__ import annotations

import asyncio
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from aiohttp import web
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from phonebank.admin import audit, report_csv
from phonebank.admin import report_data as data
from phonebank.admin.http import actor, fields, form, now, page, parts, read, write
from phonebank.db.models import Campaign
from phonebank.lists.export import export_csv
from phonebank.volunteer.labels import DEFAULT_LABELS
from phonebank.web.security import current_session, requires

DEFAULT_DAYS = 7
MAX_DAYS = 400
KINDS = ("volunteers", "hours", "dispositions", "survey")
PERSONAL_EXPORTS = ("contacts", "results")


@dataclass(frozen=True)
class Choice:
    campaign: Campaign | None
    period: data.Period | None
    values: dict[str, str]


def _choose(session: Session, values: dict[str, str], today_utc: datetime) -> Choice:
    campaigns = list(session.scalars(select(Campaign).order_by(Campaign.name)))
    chosen = next((c for c in campaigns if str(c.id) == values.get("campaign")), None)
    chosen = chosen or (campaigns[0] if campaigns else None)
    if chosen is None:
        return Choice(None, None, values)
    today = today_utc.astimezone(ZoneInfo(chosen.time_zone)).date()
    try:
        last = date.fromisoformat(values.get("to", ""))
    except ValueError:
        last = today
    try:
        first = date.fromisoformat(values.get("from", ""))
    except ValueError:
        first = last - timedelta(days=DEFAULT_DAYS - 1)
    first = max(min(first, last), last - timedelta(days=MAX_DAYS))
    shown = {"campaign": str(chosen.id), "from": first.isoformat(), "to": last.isoformat()}
    return Choice(chosen, data.Period(first, last, chosen.time_zone), shown)


def _report(session: Session, campaign_id: int, period: data.Period) -> dict[str, Any]:
    return {
        "volunteers": data.per_volunteer(session, campaign_id, period),
        "hours": data.per_hour(session, campaign_id, period),
        "dispositions": data.per_disposition(session, campaign_id, period),
        "survey": data.survey_by_precinct(session, campaign_id, period),
    }


@requires("supervisor")
async def reports_page(request: web.Request) -> web.Response:
    values = {k: request.query.get(k, "") for k in ("campaign", "from", "to")}
    at = now(request)

    def load(session: Session) -> tuple[Choice, list[tuple[int, str]], dict[str, Any]]:
        choice = _choose(session, values, at)
        names = [(c.id, c.name) for c in session.scalars(select(Campaign).order_by(Campaign.name))]
        report: dict[str, Any] = {}
        if choice.campaign is not None and choice.period is not None:
            report = _report(session, choice.campaign.id, choice.period)
        return choice, names, report

    choice, campaigns, report = await read(request, load)
    context = {
        "choice": choice,
        "campaigns": campaigns,
        "report": report,
        "default_labels": DEFAULT_LABELS,
    }
    return page(request, "admin/reports.html", context)


def _exporter(request: web.Request) -> audit.Exporter:
    return audit.Exporter(current_session(request).user_id, actor(request), request.remote)


def _attachment(text: str, filename: str) -> web.Response:
    return web.Response(
        text=text,
        content_type="text/csv",
        charset="utf-8",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


@requires("supervisor")
async def report_export(request: web.Request) -> web.Response:
    kind = request.match_info["kind"]
    values = fields(await form(request))
    at = now(request)
    who = _exporter(request)

    def export(session: Session) -> tuple[str, str]:
        choice = _choose(session, values, at)
        if choice.campaign is None or choice.period is None:
            raise web.HTTPNotFound()
        period = choice.period
        report = _report(session, choice.campaign.id, period)
        builders: dict[str, Callable[[Any], list[list[object]]]] = {
            "volunteers": report_csv.volunteer_rows,
            "hours": report_csv.hour_rows,
            "dispositions": report_csv.disposition_rows,
            "survey": report_csv.survey_rows,
        }
        rows = builders[kind](report[kind])
        details = {
            "campaign": choice.campaign.name,
            "report": kind,
            "from": period.first.isoformat(),
            "to": period.last.isoformat(),
            "rows": len(rows) - 1,
            "format": "csv",
            "personal": report_csv.PERSONAL[kind],
            "to_where": "browser download",
        }
        audit.record_export(
            session, who, at, kind=f"report.{kind}", campaign_id=choice.campaign.id, details=details
        )
        filename = f"{kind}-{choice.campaign.id}-{period.first}-{period.last}.csv"
        return report_csv.to_csv(rows), filename

    text, filename = await write(request, export)
    return _attachment(text, filename)


def _personal_export(engine: Engine, kind: str, campaign: str, who: audit.Exporter) -> Path:
    handle = tempfile.NamedTemporaryFile(  # noqa: SIM115  (closed here, removed by the caller)
        "w", encoding="utf-8", newline="", suffix=".csv", delete=False
    )
    with handle:
        export_csv(engine, kind, campaign, handle, who.actor, "browser download")
    return Path(handle.name)


@requires("admin")
async def personal_export(request: web.Request) -> web.StreamResponse:
    kind = request.match_info["kind"]
    values = fields(await form(request))
    campaign_id = values.get("campaign", "")
    name = await read(
        request,
        lambda s: (
            s.scalar(select(Campaign.name).where(Campaign.id == int(campaign_id)))
            if campaign_id.isdigit()
            else None
        ),
    )
    if name is None:
        raise web.HTTPNotFound()
    who = _exporter(request)
    path = await asyncio.to_thread(_personal_export, parts(request).engine, kind, name, who)
    try:
        await write(request, lambda s: audit.claim_cli_style_entry(s, who, f"export.{kind}"))
        source = path.open("rb")
    finally:
        # An open file outlives its name: nothing personal stays on disk after this.
        path.unlink(missing_ok=True)
    response = web.StreamResponse(
        headers={
            "Content-Type": "text/csv; charset=utf-8",
            "Content-Disposition": f'attachment; filename="{kind}-{campaign_id}.csv"',
            # Sent before the security middleware could add it: the response streams.
            "X-Content-Type-Options": "nosniff",
        }
    )
    with source:
        await response.prepare(request)
        while chunk := await asyncio.to_thread(source.read, 256 * 1024):
            await response.write(chunk)
    await response.write_eof()
    return response


@requires("admin")
async def export_log(request: web.Request) -> web.Response:
    entries = await read(request, audit.exports)
    return page(request, "admin/exports.html", {"entries": entries})


def install(router: web.UrlDispatcher) -> None:
    router.add_get("/admin/reports", reports_page)
    router.add_post(f"/admin/reports/{{kind:{'|'.join(KINDS)}}}.csv", report_export)
    router.add_post(
        f"/admin/reports/export/{{kind:{'|'.join(PERSONAL_EXPORTS)}}}.csv", personal_export
    )
    router.add_get("/admin/exports", export_log)
