"""The script editor's submission (pure): fields read as typed, checks that name the
question and option, loops, merge fields, and the preview walking the survey with
the volunteer screen's own rules."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from phonebank.admin import messages as m
from phonebank.admin import script_checks as sf
from phonebank.admin.script_checks import check
from phonebank.admin.script_form import (
    CALL_FIELDS,
    Draft,
    RawPair,
    RawScript,
    question_settings,
    raw_of,
    read_fields,
)
from phonebank.admin.script_preview import (
    CampaignFacts,
    OutcomeChoice,
    Sample,
    build_preview,
    read_answers,
    shown_keys,
)
from phonebank.volunteer.repo import CampaignKit, build_card
from phonebank.volunteer.sample import SAMPLE_BODY, SAMPLE_QUESTIONS
from phonebank.volunteer.script import Answer, Question, next_question, render_merge, survey_path

OUTCOMES = ["strong_support", "call_back"]


def sample_fields() -> dict[str, str]:
    """The sample script (phonebank/volunteer/sample.py) as the editor posts it."""
    values = {
        "title": "Municipales",
        "opening": str(SAMPLE_BODY["opening"]),
        "field-0-name": "candidate",
        "field-0-value": "Claire Rivière",
        "section-0-title": "Si la personne a le temps",
        "section-0-text": "{candidate} veut des transports moins chers à {city}.",
        "closing-0-key": "supporter",
        "closing-0-text": "Merci {first_name} !",
        "closing-1-key": "default",
        "closing-1-text": "Bonne soirée.",
    }
    for i, (key, kind, prompt, settings, options) in enumerate(SAMPLE_QUESTIONS):
        values |= {f"q-{i}-key": key, f"q-{i}-kind": kind.value, f"q-{i}-prompt": prompt}
        values[f"q-{i}-next"] = str(settings.get("next", ""))
        if kind.value == "scale":
            values |= {f"q-{i}-min": str(settings["min"]), f"q-{i}-max": str(settings["max"])}
            for j, branch in enumerate(settings["branches"]):  # type: ignore[attr-defined]
                values |= {
                    f"q-{i}-branch-{j}-from": str(branch["from"]),
                    f"q-{i}-branch-{j}-to": str(branch["to"]),
                    f"q-{i}-branch-{j}-next": branch["next"],
                }
        for j, (value, label, nxt) in enumerate(options):
            values |= {
                f"q-{i}-opt-{j}-value": value,
                f"q-{i}-opt-{j}-label": label,
                f"q-{i}-opt-{j}-next": nxt or "",
            }
    return values


def checked(values: dict[str, str]) -> tuple[Draft, dict[str, sf.Problem]]:
    return check(read_fields(values), OUTCOMES)


def test_the_sample_script_reads_back_as_the_volunteer_screen_reads_it() -> None:
    draft, errors = checked(sample_fields())
    assert errors == {}
    assert draft.body["fields"] == {"candidate": "Claire Rivière"}
    assert draft.body["closings"] == {
        "supporter": "Merci {first_name} !",
        "default": "Bonne soirée.",
    }
    keys = [q.key for q in draft.questions]
    assert keys == ["will_vote", "why_not", "topics", "support", "help"]
    will_vote, why_not, _topics, support, _help = draft.questions
    assert [(o.value, o.next) for o in will_vote.options] == [
        ("yes", "topics"),
        ("no", "why_not"),
        ("unsure", "topics"),
    ]
    assert why_not.next == "end"
    assert (support.low, support.high, support.branches[0].next) == (1, 5, "end")
    # Stored settings come back through Question.from_settings unchanged.
    again = Question.from_settings(
        0,
        support.key,
        support.kind,
        support.prompt,
        support.required,
        [],
        question_settings(support),
    )
    assert again == support


def test_rows_come_in_the_order_of_their_numbers_and_blank_rows_go() -> None:
    values = sample_fields() | {
        "q-0-opt-7-value": "",
        "q-0-opt-7-label": "",
        "q-0-opt-5-value": "later",
        "q-0-opt-5-label": "Plus tard",
        "section-4-title": "",
        "section-4-text": "",
        "closing-3-key": "opposed",
        "closing-3-text": "",
        "opening": "Bonjour\r\n\r\n{first_name}",
    }
    raw = read_fields(values)
    assert [o.value for o in raw.questions[0].options] == ["yes", "no", "unsure", "later"]
    assert len(raw.sections) == 1 and [c.first for c in raw.closings] == ["supporter", "default"]
    assert raw.opening == "Bonjour\n\n{first_name}"


def test_a_saved_version_comes_back_into_the_editor_as_it_was_typed() -> None:
    draft, _ = checked(sample_fields())
    raw = raw_of("Municipales", draft.body, draft.questions)
    assert raw == read_fields(sample_fields())


def _problem(values: dict[str, str], name: str) -> sf.Problem:
    _draft, errors = checked(values)
    assert name in errors, errors
    return errors[name]


def test_a_branch_to_a_missing_question_is_named_with_its_question_and_option() -> None:
    problem = _problem(sample_fields() | {"q-0-opt-1-next": "why_nott"}, "q-0-opt-1-next")
    assert (problem.message, problem.detail) == (sf.NO_SUCH_QUESTION, "why_nott")
    assert (problem.question, problem.option, problem.part) == (0, 1, "next")
    problem = _problem(sample_fields() | {"q-3-branch-0-next": "nowhere"}, "q-3-branch-0-next")
    assert (problem.question, problem.option) == (3, 0)


def test_a_loop_is_refused_and_named() -> None:
    # help → will_vote: the screen would ask everything again.
    problem = _problem(sample_fields() | {"q-4-opt-1-next": "will_vote"}, "q-4-opt-1-next")
    assert problem.message == sf.LOOP
    assert problem.detail == "will_vote → topics → support → help → will_vote"
    assert (problem.question, problem.option) == (4, 1)
    itself = _problem(sample_fields() | {"q-2-next": "topics"}, "q-2-next")
    assert (itself.message, itself.detail) == (sf.LOOP, "topics → topics")


def test_going_back_without_a_loop_is_allowed() -> None:
    # why_not goes back to topics, but nothing leads back to why_not from there.
    values = sample_fields() | {"q-1-next": "topics", "q-0-opt-0-next": "support"}
    _draft, errors = checked(values)
    assert errors == {}


def test_unknown_merge_fields_are_refused_wherever_they_are() -> None:
    values = sample_fields() | {
        "opening": "Bonjour {prenom}, {first_name}",
        "section-0-text": "{candidat}",
        "closing-0-text": "Merci {first name}",
        "q-2-prompt": "Pour {candidate} à {city} ?",
    }
    _draft, errors = checked(values)
    assert errors["opening"].detail == "{prenom}" and errors["opening"].message == sf.UNKNOWN_FIELD
    assert errors["section-0-text"].detail == "{candidat}"
    assert errors["closing-0-text"].message == sf.BAD_MERGE
    assert "q-2-prompt" not in errors


def test_merge_fields_are_the_ones_the_volunteer_screen_fills() -> None:
    kit = CampaignKit({"id": 1, "name": "C", "time_zone": "Europe/Paris"}, {}, (), ())
    person = {
        "contact": {"first_name": "A", "last_name": "B", "city": "C"},
        "phone": {"time_zone": None},
    }
    card = build_card(
        CampaignKit(
            kit.campaign,
            {"opening": " ".join(f"{{{name}}}" for name in [*CALL_FIELDS, "other"])},
            (),
            (),
        ),
        person,
        "V",
    )
    assert card["script"]["opening"] == "A B C V C {other}"


@pytest.mark.parametrize(
    ("changes", "name", "message"),
    [
        ({"q-1-key": "will_vote"}, "q-1-key", sf.QUESTION_KEY_TAKEN),
        ({"q-1-key": "end"}, "q-1-key", sf.RESERVED_KEY),
        ({"q-1-key": "Why not"}, "q-1-key", sf.BAD_QUESTION_KEY),
        ({"q-1-key": ""}, "q-1-key", m.REQUIRED),
        ({"q-1-prompt": ""}, "q-1-prompt", m.REQUIRED),
        ({"q-1-kind": "essay"}, "q-1-kind", m.UNKNOWN_CHOICE),
        ({"q-0-opt-2-value": "yes"}, "q-0-opt-2-value", sf.OPTION_VALUE_TAKEN),
        ({"q-0-opt-2-label": ""}, "q-0-opt-2-label", m.REQUIRED),
        ({"q-4-opt-1-value": "", "q-4-opt-1-label": ""}, "q-4-options", sf.TWO_OPTIONS),
        ({"q-3-min": "5"}, "q-3-max", sf.SCALE_ORDER),
        ({"q-3-max": "50"}, "q-3-max", m.OUT_OF_RANGE),
        ({"q-3-max": "cinq"}, "q-3-max", m.NOT_A_WHOLE_NUMBER),
        ({"q-3-branch-0-to": "9"}, "q-3-branch-0-from", sf.BRANCH_OUTSIDE),
        ({"q-3-branch-0-from": "3", "q-3-branch-0-to": "2"}, "q-3-branch-0-from", sf.BRANCH_ORDER),
        ({"q-3-branch-0-next": ""}, "q-3-branch-0-next", m.REQUIRED),
        (
            {"q-3-branch-1-from": "2", "q-3-branch-1-to": "3", "q-3-branch-1-next": "help"},
            "q-3-branch-1-from",
            sf.BRANCHES_OVERLAP,
        ),
        ({"field-0-name": "first_name"}, "field-0-name", sf.RESERVED_FIELD),
        ({"field-1-name": "candidate", "field-1-value": "x"}, "field-1-name", sf.FIELD_TAKEN),
        ({"field-0-name": "Candidat"}, "field-0-name", sf.BAD_FIELD_NAME),
        ({"field-0-value": ""}, "field-0-value", m.REQUIRED),
        ({"closing-1-key": "supporter"}, "closing-1-key", sf.CLOSING_TAKEN),
        ({"closing-1-key": "no_such_code"}, "closing-1-key", m.UNKNOWN_CHOICE),
        ({"opening": "x" * 10001}, "opening", m.TOO_LONG),
    ],
)
def test_each_check_names_its_input(changes: dict[str, str], name: str, message: str) -> None:
    assert _problem(sample_fields() | changes, name).message == message


def test_a_closing_line_may_name_a_disposition_of_the_campaign() -> None:
    _draft, errors = checked(sample_fields() | {"closing-1-key": "call_back"})
    assert errors == {}


def test_a_draft_with_problems_is_still_built_for_the_preview() -> None:
    draft, errors = checked(sample_fields() | {"q-3-max": "x", "q-0-opt-1-next": "gone"})
    assert errors
    support = draft.questions[3]
    assert (support.low, support.high) == (1, 5)
    # The volunteer screen's rule: an unknown target goes on in order.
    assert survey_path(draft.questions, {"will_vote": Answer("will_vote", ("no",))})[:2] == [
        "will_vote",
        "why_not",
    ]


def _walk(draft: Draft, answers: dict[str, Answer]) -> tuple[list[str], bool]:
    return shown_keys(draft.questions, answers)


def test_the_preview_shows_questions_up_to_the_first_one_waiting_for_an_answer() -> None:
    draft, _ = checked(sample_fields())
    assert _walk(draft, {}) == (["will_vote"], False)
    no = {"will_vote": Answer("will_vote", ("no",))}
    # why_not is free text: it may stay empty, and it ends the survey.
    assert _walk(draft, no) == (["will_vote", "why_not"], True)
    yes = {"will_vote": Answer("will_vote", ("yes",)), "topics": Answer("topics", ("housing",))}
    assert _walk(draft, yes) == (["will_vote", "topics", "support"], False)
    low = yes | {"support": Answer("support", number=2)}
    assert _walk(draft, low) == (["will_vote", "topics", "support"], True)
    high = yes | {"support": Answer("support", number=4)}
    assert _walk(draft, high) == (["will_vote", "topics", "support", "help"], False)


def test_the_preview_fills_merge_fields_and_picks_the_closing_line() -> None:
    draft, _ = checked(sample_fields())
    facts = CampaignFacts(1, "Municipales", "Soyez brefs.", "Europe/Paris")
    outcomes = [
        OutcomeChoice("strong_support", "Strong supporter", "supporter"),
        OutcomeChoice("opposed", "Opposed", "opposed"),
    ]
    preview = build_preview(
        draft,
        facts,
        outcomes,
        volunteer="Awa",
        sample=Sample.of({"sample_first_name": "Jeanne", "sample_city": ""}),
        answers={"will_vote": Answer("will_vote", ("no",))},
        outcome="strong_support",
    )
    assert preview.script["opening"].startswith("Bonjour Jeanne, je m'appelle Awa, bénévole pour")
    assert "à Lyon" in preview.script["sections"][0]["text"]  # the sample city
    assert [q.card["key"] for q in preview.questions] == ["will_vote", "why_not"]
    assert preview.done and preview.closing == "Merci Jeanne !"
    other = build_preview(
        draft,
        facts,
        outcomes,
        volunteer="Awa",
        sample=Sample(),
        answers={},
        outcome="opposed",
    )
    assert other.closing == "Bonne soirée."


def test_preview_answers_are_read_leniently() -> None:
    text = '{"a": {"options": ["x"]}, "b": {"number": 3}, "c": {"text": "hi"}, "d": 5, "e": {}}'
    assert read_answers(text) == {
        "a": Answer("a", options=("x",)),
        "b": Answer("b", number=3.0),
        "c": Answer("c", text="hi"),
    }
    assert read_answers("not json") == {} and read_answers("[1]") == {}
    assert read_answers('{"a": {"number": true}}') == {}


_keys = st.sampled_from(["a", "b", "c", "d", ""])


@given(
    st.lists(
        st.tuples(_keys, st.lists(_keys, max_size=3)),
        min_size=1,
        max_size=4,
    )
)
def test_a_survey_that_passes_the_checks_never_loops(shape: list[tuple[str, list[str]]]) -> None:
    """Whatever the branches, a survey the editor accepts ends on every path."""
    keys = ["a", "b", "c", "d"][: len(shape)]
    values: dict[str, str] = {}
    for i, (nxt, options) in enumerate(shape):
        values |= {f"q-{i}-key": keys[i], f"q-{i}-kind": "single", f"q-{i}-prompt": "?"}
        values[f"q-{i}-next"] = nxt
        for j, target in enumerate([*options, "", ""][:3]):
            values |= {
                f"q-{i}-opt-{j}-value": f"o{j}",
                f"q-{i}-opt-{j}-label": "x",
                f"q-{i}-opt-{j}-next": target,
            }
    draft, errors = check(read_fields(values), [])
    if any(p.message == sf.LOOP for p in errors.values()):
        return
    if any(p.message == sf.NO_SUCH_QUESTION for p in errors.values()):
        return
    assert not errors
    # Every combination of answers walks to the end without meeting a question twice.
    for combo in _answer_combinations(draft.questions):
        path = survey_path(draft.questions, combo)
        last = path[-1]
        assert next_question(draft.questions, last, combo.get(last)) is None, (path, combo)


def _answer_combinations(questions: tuple[Question, ...]) -> list[dict[str, Answer]]:
    combos: list[dict[str, Answer]] = [{}]
    for q in questions:
        # Each option, or no answer at all (the default way on).
        combos = [
            c | {q.key: Answer(q.key, (o.value,))} for c in combos for o in q.options
        ] + combos
    return combos


def test_render_merge_replaces_exactly_what_the_check_calls_a_merge_field() -> None:
    text = "{a} {b_2} {é} {x y} {} {{c}}"
    fields = {"a": "1", "b_2": "2", "é": "3", "c": "4"}
    assert render_merge(text, fields) == "1 2 3 {x y} {} {4}"
    raw = RawScript(opening=text, fields=(RawPair("a", "1"),))
    _draft, errors = check(raw, [])
    assert errors["opening"].message == sf.UNKNOWN_FIELD and errors["opening"].detail == "{b_2}"
