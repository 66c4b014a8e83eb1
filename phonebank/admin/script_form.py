"""The script editor's submission (pure): form fields → what the editor holds, as typed.

The editor posts flat fields (`opening`, `q-0-key`, `q-0-opt-1-next`, …). `read_fields`
groups them by row (`RawScript`, all strings, blank rows dropped); `script_checks.check`
turns that into a `Draft` and the problems found. `raw_of` brings a saved version back
into the editor, `question_settings` is what a question stores beside its rows.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from phonebank.db.enums import DispositionCategory, QuestionKind
from phonebank.volunteer.script import Question

# Filled for each call by phonebank.volunteer.repo.build_card (a unit test keeps these
# two lists in step); the script's own fields (`candidate`, …) come on top.
CALL_FIELDS = ("first_name", "last_name", "city", "volunteer", "campaign")
KINDS = tuple(k.value for k in QuestionKind)
CHOICE_KINDS = ("single", "multiple")
DEFAULT_CLOSING = "default"
CATEGORIES = tuple(c.value for c in DispositionCategory)


@dataclass(frozen=True)
class RawOption:
    value: str = ""
    label: str = ""
    next: str = ""


@dataclass(frozen=True)
class RawBranch:
    low: str = ""
    high: str = ""
    next: str = ""


@dataclass(frozen=True)
class RawQuestion:
    key: str = ""
    kind: str = "single"
    prompt: str = ""
    required: bool = False
    next: str = ""
    low: str = "1"
    high: str = "5"
    options: tuple[RawOption, ...] = ()
    branches: tuple[RawBranch, ...] = ()


@dataclass(frozen=True)
class RawPair:
    """A merge field (name, value), a talking point (title, text) or a closing (key, text)."""

    first: str = ""
    second: str = ""


@dataclass(frozen=True)
class RawScript:
    """The editor's content as typed: what the page shows again after an error."""

    title: str = ""
    opening: str = ""
    fields: tuple[RawPair, ...] = ()
    sections: tuple[RawPair, ...] = ()
    closings: tuple[RawPair, ...] = ()
    questions: tuple[RawQuestion, ...] = ()


@dataclass(frozen=True)
class Draft:
    """A version ready to be saved: the body and questions as volunteer.script reads them."""

    title: str
    body: dict[str, Any]
    questions: tuple[Question, ...] = field(default_factory=tuple)


# ------------------------------------------------------------------ reading the fields
_ROW = re.compile(r"(field|section|closing)-(\d{1,4})-(\w+)")
_QUESTION = re.compile(r"q-(\d{1,4})-(\w+)")
_NESTED = re.compile(r"q-(\d{1,4})-(opt|branch)-(\d{1,4})-(\w+)")


def read_fields(values: Mapping[str, str]) -> RawScript:
    """Group the flat fields by row, in the order of their numbers; blank rows dropped."""
    # Browsers send a textarea's line breaks as CR LF; the screen splits paragraphs on LF.
    values = {k: v.replace("\r\n", "\n") for k, v in values.items()}
    rows: dict[str, dict[int, dict[str, str]]] = {"field": {}, "section": {}, "closing": {}}
    questions: dict[int, dict[str, str]] = {}
    nested: dict[tuple[int, str], dict[int, dict[str, str]]] = {}
    for name, value in values.items():
        if match := _NESTED.fullmatch(name):
            q, kind, row, part = match.groups()
            nested.setdefault((int(q), kind), {}).setdefault(int(row), {})[part] = value
        elif match := _QUESTION.fullmatch(name):
            q, part = match.groups()
            questions.setdefault(int(q), {})[part] = value
        elif match := _ROW.fullmatch(name):
            kind, row, part = match.groups()
            rows[kind].setdefault(int(row), {})[part] = value
    return RawScript(
        title=values.get("title", ""),
        opening=values.get("opening", ""),
        fields=_pairs(rows["field"], "name", "value"),
        sections=_pairs(rows["section"], "title", "text"),
        # The outcome is a list that always holds a value: a line without text is blank.
        closings=tuple(p for p in _pairs(rows["closing"], "key", "text") if p.second),
        questions=tuple(
            _question(parts, nested.get((q, "opt"), {}), nested.get((q, "branch"), {}))
            for q, parts in sorted(questions.items())
        ),
    )


def _pairs(rows: dict[int, dict[str, str]], first: str, second: str) -> tuple[RawPair, ...]:
    pairs = (RawPair(r.get(first, ""), r.get(second, "")) for r in _in(rows))
    return tuple(p for p in pairs if p.first or p.second)


def _question(
    parts: dict[str, str], options: dict[int, dict[str, str]], branches: dict[int, dict[str, str]]
) -> RawQuestion:
    opts = (
        RawOption(o.get("value", ""), o.get("label", ""), o.get("next", "")) for o in _in(options)
    )
    ranges = (
        RawBranch(b.get("from", ""), b.get("to", ""), b.get("next", "")) for b in _in(branches)
    )
    return RawQuestion(
        key=parts.get("key", ""),
        kind=parts.get("kind", ""),
        prompt=parts.get("prompt", ""),
        required=parts.get("required", "") in ("on", "1", "true"),
        next=parts.get("next", ""),
        low=parts.get("min", "1"),
        high=parts.get("max", "5"),
        options=tuple(o for o in opts if o.value or o.label),
        branches=tuple(b for b in ranges if b.low or b.high or b.next),
    )


def _in(rows: dict[int, dict[str, str]]) -> list[dict[str, str]]:
    return [r for _n, r in sorted(rows.items())]


# ----------------------------------------------------------------- back to the page
def raw_of(title: str, body: Mapping[str, Any], questions: Iterable[Question]) -> RawScript:
    """A saved version as the editor shows it."""
    fields = body.get("fields") or {}
    sections = [s for s in body.get("sections") or () if isinstance(s, Mapping)]
    closings = body.get("closings") or {}
    return RawScript(
        title=title,
        opening=str(body.get("opening", "")),
        fields=tuple(RawPair(str(k), str(v)) for k, v in fields.items()),
        sections=tuple(RawPair(str(s.get("title", "")), str(s.get("text", ""))) for s in sections),
        closings=tuple(RawPair(str(k), str(v)) for k, v in closings.items()),
        questions=tuple(
            RawQuestion(
                key=q.key,
                kind=q.kind,
                prompt=q.prompt,
                required=q.required,
                next=q.next or "",
                low=str(q.low),
                high=str(q.high),
                options=tuple(RawOption(o.value, o.label, o.next or "") for o in q.options),
                branches=tuple(RawBranch(f"{b.low:g}", f"{b.high:g}", b.next) for b in q.branches),
            )
            for q in questions
        ),
    )


def question_settings(q: Question) -> dict[str, Any]:
    """`survey_questions.settings` as Question.from_settings reads it back."""
    settings: dict[str, Any] = {"next": q.next} if q.next else {}
    if q.kind == "scale":
        settings |= {
            "min": q.low,
            "max": q.high,
            "branches": [
                {"from": int(b.low), "to": int(b.high), "next": b.next} for b in q.branches
            ],
        }
    return settings
