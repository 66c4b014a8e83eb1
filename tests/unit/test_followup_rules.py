"""Pure parts of segments and triggers: conditions, merge fields, rules and their times."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import pytest

from phonebank.db.enums import DispositionCategory, FollowUpChannel, SupportLevel
from phonebank.followup.merge import MergeFieldError, check_fields, render_text, text_fields
from phonebank.followup.rules import (
    DEFAULT_CONSENT,
    RulesError,
    parse_local,
    parse_rules,
    stamp_new_triggers,
)
from phonebank.followup.segments import SegmentError, from_json, parse_segment, to_json
from phonebank.followup.triggers import due_triggers

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


def test_segment_takes_call_list_conditions_and_outcomes() -> None:
    where = ["support=undecided", "city=Saint-Étienne", "outcome=supporter,undecided"]
    segment = parse_segment([*where, "disposition=Strong_Support", "consent"])
    assert segment.target.support == (SupportLevel.UNDECIDED,)
    assert segment.target.cities == ("saint etienne",)
    assert segment.categories == (DispositionCategory.SUPPORTER, DispositionCategory.UNDECIDED)
    assert segment.dispositions == ("strong_support",)
    assert segment.consent_only and segment.needs_outcomes
    assert from_json(to_json(segment)) == segment


@pytest.mark.parametrize(
    ("item", "message"),
    [
        ("ville=Paris", "unknown condition 'ville'"),
        ("outcome=maybe", "unknown outcome 'maybe'"),
        ("disposition=", "expected disposition=VALUE"),
        ("consent=no", "consent takes no value"),
        ("age=40-18", "lower bound is above"),
    ],
)
def test_segment_errors_name_the_condition(item: str, message: str) -> None:
    with pytest.raises(SegmentError, match=message):
        parse_segment([item])


def test_merge_fields_are_listed_checked_and_rendered() -> None:
    text = "Bonjour {first_name}, bureau {precinct} {{fête}} {first_name}"
    assert text_fields(text) == ("first_name", "precinct")
    assert render_text(text, {"first_name": "Élodie", "precinct": "0112"}) == (
        "Bonjour Élodie, bureau 0112 {fête} Élodie"
    )
    with pytest.raises(MergeFieldError, match=r"unknown merge field \{prenom\}.*known: city"):
        check_fields(["prenom"], ["city", "first_name"], "the text")
    for bad in ("Bonjour {first_name", "{first_name.upper}", "{first_name!r}", "{0}"):
        with pytest.raises(MergeFieldError):
            text_fields(bad)


def test_rules_default_to_consent_for_both_channels() -> None:
    rules = parse_rules({})
    assert rules.require_consent == DEFAULT_CONSENT and rules.dnc_blocks_sms
    assert rules.needs_consent(FollowUpChannel.SMS) and rules.triggers == ()


def test_dated_triggers_fire_in_their_window_in_the_campaign_zone() -> None:
    rules = parse_rules(
        {
            "require_consent": ["sms"],
            "triggers": [
                {"id": "now", "outcome": ["supporter"], "email": "thanks", "after_minutes": 30},
                {
                    "id": "j-2",
                    "outcome": "undecided",
                    "days_before_election": 2,
                    "time": "18:00",
                    "sms": "Votez !",
                },
                {"id": "rally", "disposition": ["undecided"], "at": "2026-11-30 18:00", "sms": "x"},
            ],
        }
    )
    assert rules.require_consent == {FollowUpChannel.SMS}
    now, j2, rally = rules.triggers
    assert (now.dated, now.after) == (False, timedelta(minutes=30))
    assert j2.at_time == time(18, 0)
    election = date(2026, 12, 6)
    # Réunion is UTC+4: 18:00 there is 14:00 UTC.
    assert j2.due_at("Indian/Reunion", election) == datetime(2026, 12, 4, 14, 0, tzinfo=UTC)
    assert j2.due_at("Europe/Paris", None) is None  # no election date, no reminder
    due = datetime(2026, 11, 30, 17, 0, tzinfo=UTC)
    assert rally.due_at("Europe/Paris", election) == due
    ids = [t.id for t in due_triggers(rules, "Europe/Paris", election, due - timedelta(seconds=1))]
    assert ids == ["now"]
    assert [t.id for t in due_triggers(rules, "Europe/Paris", election, due)] == ["now", "rally"]
    late = due + timedelta(hours=25)
    assert [t.id for t in due_triggers(rules, "Europe/Paris", election, late)] == ["now"]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"triggers": [{"id": "a", "outcome": ["supporter"]}]}, "exactly one of 'sms'"),
        ({"triggers": [{"id": "a", "sms": "x"}]}, "say which outcomes"),
        ({"triggers": [{"id": "a:b", "sms": "x", "outcome": ["supporter"]}]}, "without ':'"),
        ({"triggers": [{"id": "a", "sms": "x", "outcome": ["winner"]}]}, "unknown 'winner'"),
        (
            {"triggers": [{"id": "a", "sms": "x", "outcome": "undecided", "at": "soon"}]},
            "expected a date and time",
        ),
        (
            {"triggers": [{"id": "a", "sms": "x", "outcome": "undecided", "colour": 1}]},
            "unknown key",
        ),
        ({"triggers": [{"id": "a", "sms": "x", "outcome": "undecided"}] * 2}, "repeated"),
        ({"require_consent": ["fax"]}, "channels are sms and email"),
    ],
)
def test_rule_errors_say_which_rule(data: dict[str, object], message: str) -> None:
    with pytest.raises(RulesError, match=message):
        parse_rules(data)


def test_new_triggers_start_now_and_old_ones_keep_their_start() -> None:
    old = {"triggers": [{"id": "a", "sms": "x", "outcome": "undecided", "since": "2026-01-01"}]}
    new = {
        "triggers": [
            {"id": "a", "sms": "y", "outcome": "undecided", "since": "2026-01-01"},
            {"id": "b", "sms": "z", "outcome": "undecided"},
        ]
    }
    stamped = stamp_new_triggers(new, old, NOW)
    assert [t.get("since") for t in stamped["triggers"]] == ["2026-01-01", NOW.isoformat()]
    a, b = parse_rules(stamped).triggers
    assert b.outcomes_from(NOW + timedelta(days=30)) == NOW + timedelta(days=23)
    assert b.outcomes_from(NOW + timedelta(hours=1)) == NOW
    assert parse_local("2026-11-30 18:00", "Europe/Paris").hour == 17
    with pytest.raises(RulesError, match="unknown time zone"):
        parse_local("2026-11-30 18:00", "Mars/Olympus")
    assert a.since == datetime(2026, 1, 1, tzinfo=UTC)
