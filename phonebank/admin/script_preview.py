"""The editor's live preview (pure): a draft as the volunteer screen will show it.

Nothing here decides anything of its own: the card is built by the volunteer
screen's `build_card` (merge fields) and the survey is walked by its `survey_path`
and `next_question`; only the display rule of the screen (questions are shown up
to the first one still waiting for an answer) is applied on top.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from phonebank.admin.script_form import Draft
from phonebank.volunteer.repo import CampaignKit, build_card
from phonebank.volunteer.script import (
    MAX_TEXT,
    Answer,
    Question,
    closing_line,
    next_question,
    survey_path,
)


@dataclass(frozen=True)
class CampaignFacts:
    id: int
    name: str
    briefing: str
    time_zone: str


@dataclass(frozen=True)
class OutcomeChoice:
    """A disposition of the campaign, as the outcome buttons show it."""

    code: str
    label: str
    category: str


@dataclass(frozen=True)
class Sample:
    """The voter the preview pretends to call."""

    first_name: str = "Camille"
    last_name: str = "Martin"
    city: str = "Lyon"

    @classmethod
    def of(cls, values: Mapping[str, str]) -> Sample:
        default = cls()
        return cls(
            first_name=values.get("sample_first_name", "")[:64] or default.first_name,
            last_name=values.get("sample_last_name", "")[:64] or default.last_name,
            city=values.get("sample_city", "")[:64] or default.city,
        )


@dataclass(frozen=True)
class ShownQuestion:
    card: dict[str, Any]  # the question as the volunteer's card carries it
    answer: Answer | None


@dataclass(frozen=True)
class Preview:
    script: dict[str, Any]  # opening, sections and closings, merge fields filled
    questions: tuple[ShownQuestion, ...]
    done: bool  # the last question shown is answered and nothing follows it
    outcome: OutcomeChoice | None
    closing: str  # the closing line of that outcome


def read_answers(text: str) -> dict[str, Answer]:
    """The preview's answers as the page sends them (JSON); anything odd is left out."""
    try:
        data = json.loads(text or "{}")
    except ValueError:
        return {}
    if not isinstance(data, dict):
        return {}
    out: dict[str, Answer] = {}
    for key, value in list(data.items())[:200]:
        if not isinstance(value, dict):
            continue
        options = value.get("options")
        number = value.get("number")
        text_value = value.get("text")
        if isinstance(options, list) and all(isinstance(o, str) for o in options):
            out[key] = Answer(key, options=tuple(options))
        elif isinstance(number, int | float) and not isinstance(number, bool):
            out[key] = Answer(key, number=float(number))
        elif isinstance(text_value, str):
            out[key] = Answer(key, text=text_value[:MAX_TEXT])
    return out


def _answered(question: Question, answer: Answer | None) -> bool:
    # As the screen: a free-text question may be left empty, the others wait.
    if question.kind == "text":
        return True
    if answer is None:
        return False
    if question.kind == "scale":
        return answer.number is not None
    return bool(answer.options)


def shown_keys(
    questions: Sequence[Question], answers: Mapping[str, Answer]
) -> tuple[list[str], bool]:
    """The questions the screen shows for these answers, and whether the survey is done."""
    by_key = {q.key: q for q in questions}
    shown: list[str] = []
    for key in survey_path(questions, answers):
        shown.append(key)
        if not _answered(by_key[key], answers.get(key)):
            return shown, False
    done = bool(shown) and next_question(questions, shown[-1], answers.get(shown[-1])) is None
    return shown, done


def build_preview(
    draft: Draft,
    campaign: CampaignFacts,
    outcomes: Sequence[OutcomeChoice],
    *,
    volunteer: str,
    sample: Sample,
    answers: Mapping[str, Answer],
    outcome: str = "",
) -> Preview:
    kit = CampaignKit(
        campaign={
            "id": campaign.id,
            "name": campaign.name,
            "briefing": campaign.briefing,
            "dial_mode": "preview",
            "time_zone": campaign.time_zone,
        },
        body=draft.body,
        questions=draft.questions,
        dispositions=(),
    )
    person = {
        "contact": {
            "first_name": sample.first_name,
            "last_name": sample.last_name,
            "city": sample.city,
        },
        "phone": {"time_zone": None},
        "history": [],
    }
    card = build_card(kit, person, volunteer)
    survey = {q["key"]: q for q in card["survey"]}
    keys, done = shown_keys(draft.questions, answers)
    chosen = next((o for o in outcomes if o.code == outcome), None)
    closings = card["script"]["closings"]
    return Preview(
        script=card["script"],
        questions=tuple(ShownQuestion(survey[k], answers.get(k)) for k in keys),
        done=done,
        outcome=chosen,
        closing=closing_line(closings, chosen.code, chosen.category) if chosen else "",
    )
