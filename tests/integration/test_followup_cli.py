"""`phonebank sms|email segment / sends / cancel / rules` on a migrated SQLite file."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from phonebank.cli.main import main
from phonebank.db import make_engine, upgrade
from tests.fixtures.followup_world import World, build_world


@pytest.fixture
def world(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> World:
    url = f"sqlite:///{tmp_path / 'pb.db'}"
    upgrade(url)
    monkeypatch.setenv("PHONEBANK_DATABASE_URL", url)
    monkeypatch.setenv("PHONEBANK_PATHS_DATA_DIR", str(tmp_path / "data"))
    return build_world(make_engine(url))


def _json(capsys: pytest.CaptureFixture[str]) -> object:
    return json.loads(capsys.readouterr().out)


def test_sms_segment_dry_run_send_and_rerun(
    world: World, capsys: pytest.CaptureFixture[str]
) -> None:
    args = ["sms", "segment", "--campaign", "Municipales", "--where", "support=undecided"]
    args += ["--where", "city=Paris", "--text", "Bonjour {first_name} !", "--json"]
    assert main([*args, "--dry-run"]) == 0
    dry = _json(capsys)
    assert dry == {
        "dry_run": True,
        "matched": 4,
        "recipients": 3,
        "excluded": {"duplicate": 1},
        "sample": [
            {"to": "+33611111111", "message": "Bonjour Alice !"},
            {"to": "+33644444444", "message": "Bonjour Denis !"},
            {"to": "+33655555555", "message": "Bonjour Emma !"},
        ],
    }
    assert world.messages() == []
    assert main(args) == 0
    sent = _json(capsys)
    assert isinstance(sent, dict) and sent["queued"] == 3 and sent["created"] is True
    # The same command again is the same send: nobody is queued twice.
    assert main(args) == 0
    again = _json(capsys)
    assert isinstance(again, dict) and again["created"] is False and "queued" not in again
    assert sorted(m.body for m in world.messages("segment")) == [
        "Bonjour Alice !",
        "Bonjour Denis !",
        "Bonjour Emma !",
    ]


def test_unknown_merge_field_and_condition_are_named(
    world: World, capsys: pytest.CaptureFixture[str]
) -> None:
    base = ["sms", "segment", "--campaign", "Municipales", "--where", "city=Paris"]
    assert main([*base, "--text", "Bonjour {prenom}"]) == 1
    assert "unknown merge field {prenom}" in capsys.readouterr().err
    bad_where = ["sms", "segment", "--campaign", "Municipales", "--where", "ville=Paris"]
    assert main([*bad_where, "--text", "x"]) == 1
    assert "unknown condition 'ville'" in capsys.readouterr().err
    bad_template = ["email", "segment", "--campaign", "Municipales", "--where", "city=Paris"]
    assert main([*bad_template, "--template", "nope"]) == 1
    assert "nope.subject.j2 not found" in capsys.readouterr().err
    assert world.messages() == []


def test_scheduled_email_listed_then_cancelled(
    world: World, capsys: pytest.CaptureFixture[str]
) -> None:
    # Next year's 30 November, 18:00 in Paris (17:00 UTC, winter time): always ahead.
    year = datetime.now(UTC).year + 1
    args = ["email", "segment", "--campaign", "Municipales", "--where", "city=Paris"]
    args += ["--template", "thanks", "--at", f"{year}-11-30 18:00", "--json"]
    assert main(args) == 0
    scheduled = _json(capsys)
    assert isinstance(scheduled, dict)
    assert scheduled["scheduled_at"] == f"{year}-11-30T17:00:00+00:00"
    assert main(["email", "sends", "--scheduled", "--json"]) == 0
    rows = _json(capsys)
    assert isinstance(rows, list) and len(rows) == 1
    listed = rows[0]
    assert (listed["id"], listed["state"]) == (scheduled["send"], "scheduled")
    assert main(["sms", "sends", "--json"]) == 0
    assert _json(capsys) == []
    assert main(["email", "cancel", str(scheduled["send"])]) == 0
    assert "cancelled" in capsys.readouterr().out
    assert main(["email", "sends", "--scheduled", "--json"]) == 0
    assert _json(capsys) == []
    assert main(["email", "cancel", str(scheduled["send"])]) == 1
    assert "already cancelled" in capsys.readouterr().err


def test_rules_are_checked_and_stored(
    world: World, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rules = tmp_path / "rules.json"
    rules.write_text(
        json.dumps({"triggers": [{"id": "j-2", "outcome": ["undecided"], "sms": "Hi {prenom}"}]})
    )
    assert main(["sms", "rules", "--campaign", "Municipales", "--file", str(rules)]) == 1
    assert "trigger 'j-2'" in capsys.readouterr().err
    rules.write_text(
        json.dumps(
            {
                "require_consent": ["sms"],
                "triggers": [{"id": "thanks", "outcome": ["supporter"], "email": "thanks"}],
            }
        )
    )
    assert main(["email", "rules", "--campaign", "Municipales", "--file", str(rules)]) == 0
    assert "1 trigger(s) saved" in capsys.readouterr().out
    assert main(["email", "rules", "--campaign", "Municipales"]) == 0
    shown = _json(capsys)
    assert isinstance(shown, dict)
    assert shown["require_consent"] == ["sms"]
    assert "since" in shown["triggers"][0]  # a new trigger leaves past outcomes alone
