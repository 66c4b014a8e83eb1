"""The script and survey rules: merge fields, age, branching, answers, callback times."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from phonebank.volunteer.errors import VolunteerError
from phonebank.volunteer.script import (
    Answer,
    Option,
    Question,
    age_on,
    callback_due,
    check_answers,
    closing_line,
    next_question,
    render_merge,
    render_script,
    survey_path,
)

SURVEY = [
    Question(
        1,
        "vote",
        "single",
        "Will you vote?",
        options=(
            Option("yes", "Yes", "topics", 11),
            Option("no", "No", "why", 12),
            Option("maybe", "Maybe", None, 13),
        ),
    ),
    Question(2, "why", "text", "Why not?", next="end"),
    Question(
        3,
        "topics",
        "multiple",
        "Topics?",
        options=(
            Option("bus", "Buses", None, 31),
            Option("rent", "Rent", "rent_detail", 32),
        ),
    ),
    Question.from_settings(
        4,
        "support",
        "scale",
        "1-5?",
        False,
        [],
        {
            "min": 1,
            "max": 5,
            "branches": [{"from": 1, "to": 2, "next": "end"}, {"bad": 1}],
        },
    ),
    Question(5, "help", "single", "Help?", options=(Option("y", "Y", None, 51),)),
    Question(6, "rent_detail", "text", "Rent?"),
]


def test_merge_fields_fill_what_is_known_and_show_the_rest() -> None:
    assert render_merge(
        "Bonjour {first_name}, {candidate} {unknown}", {"first_name": "Léa", "candidate": "C"}
    ) == ("Bonjour Léa, C {unknown}")
    text = render_script(
        {
            "fields": {"candidate": "Claire"},
            "opening": "Hi {first_name}, {candidate}",
            "sections": [{"title": "T {city}", "text": "x"}, "junk"],
            "closings": {"default": "Bye {first_name}"},
        },
        {"first_name": "Ana", "city": "Lyon"},
    )
    assert text.opening == "Hi Ana, Claire"
    assert text.sections == (("T Lyon", "x"),)
    assert closing_line(text.closings, "strong_support", "supporter") == "Bye Ana"
    assert closing_line({"supporter": "S", "default": "D"}, "strong_support", "supporter") == "S"
    assert (
        closing_line({"strong_support": "C", "supporter": "S"}, "strong_support", "supporter")
        == "C"
    )
    assert closing_line({}, "x", "y") == ""


def test_age_from_the_birth_date() -> None:
    assert age_on(date(1961, 4, 18), date(2027, 4, 17)) == 65
    assert age_on(date(1961, 4, 18), date(2027, 4, 18)) == 66
    assert age_on(None, date(2027, 1, 1)) is None
    assert age_on(date(2030, 1, 1), date(2027, 1, 1)) is None


def test_the_answer_chooses_the_next_question() -> None:
    assert next_question(SURVEY, "vote", Answer("vote", ("no",))) == "why"
    assert next_question(SURVEY, "vote", Answer("vote", ("yes",))) == "topics"
    assert next_question(SURVEY, "vote", Answer("vote", ("maybe",))) == "why"  # in order
    assert next_question(SURVEY, "why", Answer("why", text="busy")) is None  # "end"
    # Multiple choice: the first chosen option that branches decides.
    assert next_question(SURVEY, "topics", Answer("topics", ("bus", "rent"))) == "rent_detail"
    assert next_question(SURVEY, "topics", Answer("topics", ("bus",))) == "support"
    assert next_question(SURVEY, "support", Answer("support", number=2)) is None
    assert next_question(SURVEY, "support", Answer("support", number=4)) == "help"
    assert next_question(SURVEY, "rent_detail", None) is None  # the last one
    assert next_question(SURVEY, "nope", None) is None


def test_answers_off_the_path_are_dropped_and_bad_ones_refused() -> None:
    kept = check_answers(
        SURVEY,
        [
            Answer("vote", ("yes",)),
            Answer("why", text="left over"),
            Answer("topics", ("bus",)),
            Answer("support", number=5),
            Answer("help", ("y",)),
        ],
    )
    assert [a.key for a in kept] == ["vote", "topics", "support", "help"]
    assert survey_path(SURVEY, {}) == ["vote", "why"]
    for bad in (
        [Answer("vote", ("yes", "no"))],
        [Answer("vote", ("other",))],
        [Answer("topics", ())],
        [Answer("topics", ("bus", "bus"))],
        [Answer("support", number=6)],
        [Answer("support")],
        [Answer("why", text="")],
        [Answer("why", text="x" * 2001)],
        [Answer("ghost", ("x",))],
        [Answer("vote", ("yes",)), Answer("vote", ("yes",))],
    ):
        with pytest.raises(VolunteerError) as refused:
            check_answers(SURVEY, bad)
        assert refused.value.code == "bad_answer"


def test_a_branch_loop_does_not_hang_the_walk() -> None:
    loop = [
        Question(1, "a", "single", "A", options=(Option("x", "X", "b"),)),
        Question(2, "b", "single", "B", options=(Option("x", "X", "a"),)),
    ]
    answers = {"a": Answer("a", ("x",)), "b": Answer("b", ("x",))}
    assert survey_path(loop, answers) == ["a", "b"]


NOW = datetime(2027, 3, 1, 12, 0, tzinfo=UTC)


def test_callback_time_in_the_voters_zone() -> None:
    # 19:30 in La Réunion (UTC+4) is 15:30 UTC.
    assert callback_due("2027-03-02T19:30", "Indian/Reunion", NOW) == datetime(
        2027, 3, 2, 15, 30, tzinfo=UTC
    )
    assert callback_due("2027-03-02T19:30", "Europe/Paris", NOW) == datetime(
        2027, 3, 2, 18, 30, tzinfo=UTC
    )


@pytest.mark.parametrize(
    "local, zone",
    [
        ("2027-03-28T02:30", "Europe/Paris"),  # the spring-forward gap: does not exist
        ("2027-02-28T10:00", "Europe/Paris"),  # past
        ("2028-03-01T10:00", "Europe/Paris"),  # too far ahead
        ("tomorrow", "Europe/Paris"),
        ("2027-03-02T10:00+01:00", "Europe/Paris"),
        ("2027-03-02T10:00", "Mars/Olympus"),
    ],
)
def test_callback_times_that_cannot_be_kept_are_refused(local: str, zone: str) -> None:
    with pytest.raises(VolunteerError) as refused:
        callback_due(local, zone, NOW)
    assert refused.value.code == "bad_callback"
