"""The reports as CSV rows (pure): header first, then one row per line of the table."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence

from phonebank.admin.report_data import (
    DispositionRow,
    HourRow,
    QuestionResult,
    VolunteerRow,
)

# Which reports name people (the volunteers): their exports are personal data.
PERSONAL = {"volunteers": True, "hours": False, "dispositions": False, "survey": False}


def volunteer_rows(rows: Iterable[VolunteerRow]) -> list[list[object]]:
    out: list[list[object]] = [
        ["volunteer", "calls", "reached", "supporters", "undecided", "opposed", "talk_minutes"]
    ]
    for r in rows:
        out.append(
            [
                r.name,
                r.calls,
                r.reached,
                r.supporters,
                r.undecided,
                r.opposed,
                round(r.talk_seconds / 60, 1),
            ]
        )
    return out


def hour_rows(rows: Iterable[HourRow]) -> list[list[object]]:
    out: list[list[object]] = [
        ["hour", "dials", "humans", "machines", "no_answer_or_busy", "abandoned", "outcomes"]
    ]
    for r in rows:
        out.append(
            [
                r.hour.isoformat(timespec="minutes"),
                r.dials,
                r.humans,
                r.machines,
                r.no_answer,
                r.abandoned,
                r.outcomes,
            ]
        )
    return out


def disposition_rows(rows: Iterable[DispositionRow]) -> list[list[object]]:
    out: list[list[object]] = [["code", "label", "category", "count"]]
    out += [[r.code, r.label, r.category, r.count] for r in rows]
    return out


def survey_rows(results: Iterable[QuestionResult]) -> list[list[object]]:
    out: list[list[object]] = [["question", "precinct", "answer", "count"]]
    for q in results:
        for precinct in sorted(q.counts):
            for answer in q.answers:
                if q.counts[precinct][answer]:
                    out.append([q.key, precinct, answer, q.counts[precinct][answer]])
    return out


def to_csv(rows: Sequence[Sequence[object]]) -> str:
    """UTF-8 with ";" like the reject reports: a French spreadsheet opens it as is."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";")
    writer.writerows(rows)
    return "\ufeff" + buffer.getvalue()
