"""Scripts and surveys on the screen: merge fields, branching, answers, callback times.

Pure functions on plain values; the database rows are turned into these values
in `repo.py`. The page's script (`web/static/volunteer.js`) follows the same
branching rules to choose the next question as the volunteer clicks.

A script's `body` (JSON) reads:

    {"fields": {"candidate": "Marie Curie"},
     "opening": "Bonjour {first_name}, je m'appelle {volunteer} ...",
     "sections": [{"title": "...", "text": "..."}],
     "closings": {"supporter": "...", "call_back": "...", "default": "..."}}

Closing lines are looked up by disposition code, then category, then "default".
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from phonebank.volunteer.errors import VolunteerError

END = "end"  # a branch target that ends the survey
_FIELD = re.compile(r"\{(\w+)\}")
MAX_TEXT = 2000
CALLBACK_HORIZON = timedelta(days=120)


def render_merge(template: str, fields: Mapping[str, str]) -> str:
    """Replace `{name}` by its value; unknown names stay as written, for the author to see."""
    return _FIELD.sub(lambda m: fields.get(m.group(1), m.group(0)), template)


def age_on(birth: date | None, today: date) -> int | None:
    if birth is None or birth > today:
        return None
    return today.year - birth.year - ((today.month, today.day) < (birth.month, birth.day))


@dataclass(frozen=True)
class Option:
    value: str
    label: str
    next: str | None = None
    id: int = 0  # survey_options.id


@dataclass(frozen=True)
class Branch:
    """A scale answer from `low` to `high` (inclusive) goes to `next`."""

    low: float
    high: float
    next: str


@dataclass(frozen=True)
class Question:
    id: int
    key: str
    kind: str  # single, multiple, scale, text
    prompt: str
    required: bool = False
    options: tuple[Option, ...] = ()
    next: str | None = None  # the default next question, whatever the answer
    low: int = 1
    high: int = 5
    branches: tuple[Branch, ...] = ()

    @classmethod
    def from_settings(
        cls,
        id: int,
        key: str,
        kind: str,
        prompt: str,
        required: bool,
        options: Sequence[Option],
        settings: Mapping[str, Any],
    ) -> Question:
        branches = tuple(
            Branch(float(b["from"]), float(b["to"]), str(b["next"]))
            for b in settings.get("branches", ())
            if isinstance(b, Mapping) and {"from", "to", "next"} <= set(b)
        )
        nxt = settings.get("next")
        return cls(
            id=id,
            key=key,
            kind=kind,
            prompt=prompt,
            required=required,
            options=tuple(options),
            next=str(nxt) if nxt else None,
            low=int(settings.get("min", 1)),
            high=int(settings.get("max", 5)),
            branches=branches,
        )


@dataclass(frozen=True)
class Answer:
    """What the volunteer entered for one question."""

    key: str
    options: tuple[str, ...] = ()
    text: str | None = None
    number: float | None = None


def next_question(questions: Sequence[Question], key: str, answer: Answer | None) -> str | None:
    """The key of the question asked after `key`, or None when the survey is over."""
    index = next((i for i, q in enumerate(questions) if q.key == key), None)
    if index is None:
        return None
    question = questions[index]
    target: str | None = None
    if answer is not None:
        if question.kind in ("single", "multiple"):
            chosen = [o for o in question.options if o.value in answer.options and o.next]
            target = chosen[0].next if chosen else None
        elif question.kind == "scale" and answer.number is not None:
            target = next(
                (b.next for b in question.branches if b.low <= answer.number <= b.high), None
            )
    target = target or question.next
    if target == END:
        return None
    if target is not None and any(q.key == target for q in questions):
        return target
    return questions[index + 1].key if index + 1 < len(questions) else None


def survey_path(questions: Sequence[Question], answers: Mapping[str, Answer]) -> list[str]:
    """The questions asked, in order, given the answers (a loop stops the walk)."""
    path: list[str] = []
    key = questions[0].key if questions else None
    while key is not None and key not in path:
        path.append(key)
        key = next_question(questions, key, answers.get(key))
    return path


def check_answers(questions: Sequence[Question], answers: Sequence[Answer]) -> list[Answer]:
    """The answers on the survey's path, checked; raises VolunteerError('bad_answer')."""
    by_key = {q.key: q for q in questions}
    given: dict[str, Answer] = {}
    for answer in answers:
        question = by_key.get(answer.key)
        if question is None or answer.key in given:
            raise VolunteerError("bad_answer", f"unknown or repeated question {answer.key!r}")
        _check_one(question, answer)
        given[answer.key] = answer
    # Answers left on a branch the volunteer later abandoned are not recorded.
    return [given[key] for key in survey_path(questions, given) if key in given]


def _check_one(question: Question, answer: Answer) -> None:
    values = {o.value for o in question.options}
    if question.kind == "single":
        ok = len(answer.options) == 1 and answer.options[0] in values
    elif question.kind == "multiple":
        ok = bool(answer.options) and set(answer.options) <= values
        ok = ok and len(set(answer.options)) == len(answer.options)
    elif question.kind == "scale":
        ok = answer.number is not None and question.low <= answer.number <= question.high
    else:
        ok = answer.text is not None and 0 < len(answer.text) <= MAX_TEXT
    if not ok:
        raise VolunteerError("bad_answer", f"not a valid answer to {question.key!r}")


def closing_line(closings: Mapping[str, str], code: str, category: str) -> str:
    return closings.get(code) or closings.get(category) or closings.get("default") or ""


@dataclass(frozen=True)
class ScriptText:
    opening: str = ""
    sections: tuple[tuple[str, str], ...] = ()
    closings: Mapping[str, str] = field(default_factory=dict)


def render_script(body: Mapping[str, Any], fields: Mapping[str, str]) -> ScriptText:
    """The script's text with merge fields filled; the body's own `fields` come first."""
    values = {str(k): str(v) for k, v in (body.get("fields") or {}).items()}
    values.update(fields)
    sections = tuple(
        (
            render_merge(str(part.get("title", "")), values),
            render_merge(str(part.get("text", "")), values),
        )
        for part in body.get("sections") or ()
        if isinstance(part, Mapping)
    )
    closings = {
        str(k): render_merge(str(v), values) for k, v in (body.get("closings") or {}).items()
    }
    return ScriptText(render_merge(str(body.get("opening", "")), values), sections, closings)


def zone(name: str | None, fallback: str) -> str:
    """A usable IANA zone name: the voter's if known, else the campaign's."""
    for candidate in (name, fallback):
        if candidate:
            try:
                ZoneInfo(candidate)
            except (ZoneInfoNotFoundError, ValueError):
                continue
            return candidate
    return "UTC"


def callback_due(local: str, time_zone: str, now: datetime) -> datetime:
    """`2027-03-01T14:30` in the voter's zone → the UTC instant; raises 'bad_callback'.

    A time that does not exist there (the spring-forward gap) or is past, or too far
    ahead, is refused rather than silently moved: the voter was promised that time.
    """
    try:
        naive = datetime.fromisoformat(local)
        tz = ZoneInfo(time_zone)
    except (ValueError, ZoneInfoNotFoundError):
        raise VolunteerError("bad_callback", "not a date and time") from None
    if naive.tzinfo is not None:
        raise VolunteerError("bad_callback", "expected a local time without offset")
    aware = naive.replace(tzinfo=tz)
    # Round-tripping through UTC moves a time in the gap: it does not exist there.
    if aware.astimezone(UTC).astimezone(tz).replace(tzinfo=None) != naive:
        raise VolunteerError("bad_callback", "this time does not exist in that time zone")
    due = aware.astimezone(UTC)
    if due <= now or due > now + CALLBACK_HORIZON:
        raise VolunteerError("bad_callback", "the time is past or too far ahead")
    return due
