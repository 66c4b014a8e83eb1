"""The follow-up forms, pure: a send to a segment and the automatic follow-ups editor."""

from __future__ import annotations

from datetime import UTC, datetime

from phonebank.admin import followup_form as ff
from phonebank.admin import followup_rules_form as rf
from phonebank.admin import messages as m
from phonebank.admin.forms import Form
from phonebank.db.enums import FollowUpChannel
from phonebank.followup.gsm import Alphabet
from phonebank.followup.rules import parse_rules

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
CODES = ("strong_support", "undecided", "not_home")


def _send(values: dict[str, str], **lists: list[str]) -> tuple[ff.SendRequest | None, ff.Checked]:
    base = {"channel": "sms", "text": "Bonjour {first_name}", "when": "now"}
    return ff.parse_send(
        {**base, **values}, lists, dispositions=CODES, zone="Europe/Paris", now=NOW
    )


def test_a_send_reads_as_the_command_line_conditions() -> None:
    asked, checked = _send(
        {
            "city": "Paris, Lyon",
            "precinct": "0112",
            "age_min": "18",
            "never_contacted": "on",
            "consent": "on",
            "fields": "place=Mairie\n\n rally = 20h30 ",
            "text": "Bonjour {first_name}, {place} à {rally}",
        },
        support=["undecided", "lean_supporter", "made-up"],
        outcome=["undecided"],
        disposition=["not_home", "unknown_code"],
    )
    assert checked.errors == {}
    assert asked == ff.SendRequest(
        FollowUpChannel.SMS,
        (
            "support=lean_supporter,undecided",
            "city=Paris, Lyon",
            "precinct=0112",
            "age=18-",
            "never_contacted",
            "outcome=undecided",
            "disposition=not_home",
            "consent",
        ),
        "Bonjour {first_name}, {place} à {rally}",
        {"place": "Mairie", "rally": "20h30"},
        None,
    )


def test_a_time_is_read_in_the_campaign_zone() -> None:
    winter, _ = _send({"city": "Paris", "when": "at", "at": "2026-11-30T18:00"})
    assert winter is not None and winter.at == datetime(2026, 11, 30, 17, 0, tzinfo=UTC)
    summer, _ = _send({"city": "Paris", "when": "at", "at": "2027-06-01 18:00"})
    assert summer is not None and summer.at == datetime(2027, 6, 1, 16, 0, tzinfo=UTC)
    reunion = ff.local_to_utc("2026-11-30 18:00", "Indian/Reunion")
    assert reunion == datetime(2026, 11, 30, 14, 0, tzinfo=UTC)
    assert ff.utc_to_local(reunion, "Indian/Reunion") == "2026-11-30 18:00"


def test_each_error_lands_on_its_field() -> None:
    cases = [
        ({}, "conditions", ff.NO_CONDITION, ""),
        (
            {"city": "Paris", "text": "Bonjour {prenom} {nom}"},
            "text",
            ff.UNKNOWN_FIELD,
            "{prenom} {nom}",
        ),
        ({"city": "Paris", "text": "Bonjour {first_name"}, "text", ff.BAD_BRACES, ""),
        ({"city": "Paris", "text": ""}, "text", m.REQUIRED, ""),
        ({"city": "Paris", "text": "x" * 153 * 256}, "text", ff.TOO_MANY_PARTS, ""),
        ({"city": "Paris", "fields": "place Mairie"}, "fields", ff.BAD_CONSTANT, "place Mairie"),
        ({"city": "Paris", "fields": "2x=y"}, "fields", ff.BAD_CONSTANT, "2x=y"),
        ({"city": "Paris", "when": "at", "at": "30/11 18h"}, "at", ff.BAD_DATE_TIME, ""),
        ({"city": "Paris", "when": "at", "at": ""}, "at", m.REQUIRED, ""),
        ({"city": "Paris", "when": "at", "at": "2026-11-23 09:59"}, "at", ff.IN_THE_PAST, ""),
        ({"city": "Paris", "when": "soon"}, "when", m.UNKNOWN_CHOICE, ""),
        ({"city": "Paris", "channel": "fax"}, "channel", m.UNKNOWN_CHOICE, ""),
        ({"age_min": "60", "age_max": "30"}, "age_min", m.AGE_ORDER, ""),
        ({"age_min": "old"}, "age_min", m.NOT_A_WHOLE_NUMBER, ""),
        ({"not_contacted_since": "yesterday"}, "not_contacted_since", m.NOT_A_DATE, ""),
        ({"city": "Paris", "channel": "email", "template": ""}, "template", m.REQUIRED, ""),
    ]
    for values, name, message, detail in cases:
        asked, checked = _send(values)
        assert asked is None, values
        assert checked.errors.get(name) == message, (values, checked.errors)
        assert checked.details.get(name, "") == detail, values


def test_the_hour_in_paris_is_not_the_hour_in_utc() -> None:
    # NOW is 09:00 UTC, 10:00 in Paris: 10:30 there is still to come.
    asked, checked = _send({"city": "Paris", "when": "at", "at": "2026-11-23 10:30"})
    assert checked.errors == {} and asked is not None
    # 09:30 in Paris is 08:30 UTC, already past.
    _asked, checked = _send({"city": "Paris", "when": "at", "at": "2026-11-23 09:30"})
    assert checked.errors == {"at": ff.IN_THE_PAST}


def test_e_mail_merge_fields_are_checked_against_the_template() -> None:
    checked = ff.Checked(Form({}))
    ff.check_template_fields(checked, "template", {"first_name", "unsubscribe_url"}, {})
    assert checked.ok
    ff.check_template_fields(checked, "template", {"rally", "first_name"}, {})
    assert checked.errors == {"template": ff.UNKNOWN_FIELD}
    assert checked.details == {"template": "{{ rally }}"}
    checked = ff.Checked(Form({}))
    ff.check_template_fields(checked, "template", {"rally"}, {"rally": "20h30"})
    assert checked.ok


def test_sms_count_follows_the_modem_rules() -> None:
    assert ff.sms_count("Élodie") == ff.SmsCount(Alphabet.GSM7, 6, 6, 1, 160)
    assert ff.sms_count("Fête") == ff.SmsCount(Alphabet.UCS2, 4, 4, 1, 70)
    assert ff.sms_count("a" * 160) == ff.SmsCount(Alphabet.GSM7, 160, 160, 1, 160)
    assert ff.sms_count("a" * 161) == ff.SmsCount(Alphabet.GSM7, 161, 161, 2, 153)
    # The euro sign takes two septets (escape + extension table).
    assert ff.sms_count("€" * 80) == ff.SmsCount(Alphabet.GSM7, 80, 160, 1, 160)
    assert ff.sms_count("€" * 81) == ff.SmsCount(Alphabet.GSM7, 81, 162, 2, 153)
    assert ff.sms_count("ê" * 71) == ff.SmsCount(Alphabet.UCS2, 71, 71, 2, 67)
    # An emoji is two UTF-16 units.
    assert ff.sms_count("🙂") == ff.SmsCount(Alphabet.UCS2, 1, 2, 1, 70)
    assert ff.sms_count("x" * 153 * 256) is None
    totals = ff.sms_totals(["Bonjour Zoé", "Bonjour Zoë", "a" * 200])
    assert totals == ff.SmsTotals(messages=3, parts=4, ucs2=1, longest=2)


def test_the_page_counter_gets_the_same_tables() -> None:
    tables = ff.gsm_alphabet()
    assert "é" in tables["basic"] and "ê" not in tables["basic"]
    assert "€" in tables["extension"] and "\x1b" not in tables["basic"]
    assert tables["limits"] == [160, 153, 70, 67]


STORED = {
    "require_consent": ["email"],
    "dnc_blocks_sms": True,
    "triggers": [
        {
            "id": "thanks",
            "outcome": ["supporter"],
            "email": "thanks",
            "fields": {"place": "Mairie"},
            "since": "2026-01-01T00:00:00+00:00",
        },
        {
            "id": "j-2",
            "outcome": ["undecided"],
            "disposition": ["not_home"],
            "days_before_election": 2,
            "time": "18:30",
            "sms": "On vote dimanche, {first_name} ! {place}",
            "fields": {"place": "Bureau 12"},
        },
        {"id": "rally", "disposition": ["undecided"], "at": "2026-11-30 18:00", "sms": "Meeting"},
        {"id": "later", "outcome": ["callback"], "after_minutes": 30, "sms": "Merci"},
    ],
}


def _round_trip(
    changes: dict[str, str], rows_extra: int = 1
) -> tuple[dict[str, object] | None, ff.Checked]:
    values, lists, rows = rf.rules_values(STORED)
    values |= changes
    return rf.parse_rules_form(values, lists, rows + rows_extra, STORED, ["thanks", "news"])


def test_the_rules_editor_gives_back_what_it_was_given() -> None:
    values, lists, rows = rf.rules_values(STORED)
    assert rows == 4
    assert values["consent_email"] == "on" and values["consent_sms"] == ""
    assert values["t1_when"] == "before_election" and values["t1_days"] == "2"
    assert values["t2_at"] == "2026-11-30T18:00"  # as a datetime-local field wants it
    assert lists["t0_outcome"] == ["supporter"]
    data, checked = _round_trip({})
    assert checked.errors == {}
    assert data == STORED
    assert data is not None and parse_rules(data).triggers[1].fields == {"place": "Bureau 12"}


def test_new_removed_and_renamed_rules() -> None:
    data, checked = _round_trip(
        {
            "t0_delete": "on",
            "t3_id": "plus-tard",  # renamed: a new rule, counted from now on
            "t4_id": "news",
            "t4_channel": "email",
            "t4_email": "news",
            "t4_disposition": "Strong_Support, undecided",
            "t4_when": "after",
            "t4_after_minutes": "0",
        }
    )
    assert checked.errors == {}
    assert data is not None
    triggers = data["triggers"]
    assert isinstance(triggers, list)
    assert [t["id"] for t in triggers] == ["j-2", "rally", "plus-tard", "news"]
    assert "since" not in triggers[2] and triggers[2]["after_minutes"] == 30
    assert triggers[3] == {
        "id": "news",
        "disposition": ["strong_support", "undecided"],
        "email": "news",
    }
    # A blank row is no rule.
    data, checked = _round_trip({}, rows_extra=3)
    assert checked.errors == {} and data == STORED


def test_rules_errors_name_the_row_and_the_field() -> None:
    cases = [
        ({"t1_id": ""}, "t1_id", m.REQUIRED, ""),
        ({"t1_id": "a:b"}, "t1_id", ff.BAD_RULE_ID, ""),
        ({"t1_id": "thanks"}, "t1_id", ff.RULE_ID_TAKEN, ""),
        ({"t1_sms": "Bonjour {prenom}"}, "t1_sms", ff.UNKNOWN_FIELD, "{prenom}"),
        ({"t1_sms": ""}, "t1_sms", m.REQUIRED, ""),
        ({"t0_email": "gone"}, "t0_email", m.UNKNOWN_CHOICE, ""),
        ({"t1_time": "18h"}, "t1_time", ff.BAD_TIME, ""),
        ({"t1_days": "-1"}, "t1_days", m.OUT_OF_RANGE, ""),
        ({"t2_at": "lundi"}, "t2_at", ff.BAD_DATE_TIME, ""),
        ({"t4_id": "new", "t4_sms": "x"}, "t4_outcome", ff.NO_OUTCOME, ""),
    ]
    for changes, name, message, detail in cases:
        data, checked = _round_trip(changes)
        assert data is None, changes
        assert checked.errors.get(name) == message, (changes, checked.errors)
        assert checked.details.get(name, "") == detail, changes
    # A constant kept from the stored rule is a known merge field ({place} above).
    data, checked = _round_trip({"t1_sms": "Toujours {place}"})
    assert checked.ok and data is not None


def test_constants_lines() -> None:
    assert ff.parse_constants("a=1\n b = deux \n\n") == ({"a": "1", "b": "deux"}, "")
    assert ff.parse_constants("a=1\nno equals") == ({}, "no equals")
    assert ff.parse_constants("") == ({}, "")
