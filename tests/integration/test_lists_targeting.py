"""Call lists built from targeting conditions and refreshed, on PostgreSQL and SQLite."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, select, update
from sqlalchemy.orm import Session

from phonebank.cli.main import main
from phonebank.db import make_engine
from phonebank.db.enums import LeadStatus, SupportLevel
from phonebank.db.models import CallList, CallListEntry, Contact
from phonebank.lists import calllists
from phonebank.lists.errors import ListError
from phonebank.lists.service import ImportOptions, import_file
from phonebank.lists.targeting import parse_where

TODAY = date(2026, 11, 23)


@pytest.fixture
def engine(migrated_url: str, tmp_path: Path) -> Iterator[Engine]:
    engine = make_engine(migrated_url)
    path = tmp_path / "voters.csv"
    path.write_text(
        "Nom;Prénom;Tel;CP;Ville;Bureau;Naissance;Statut;Tags\n"
        "A;Un;0612345601;75011;Paris;0112;1990-01-01;indécis;vip\n"
        "B;Deux;0612345602;97400;Saint-Denis;0001;1950-06-01;indécis;\n"
        "C;Trois;0612345603;69001;Saint-Étienne;0200;2000-03-03;soutien;vip, tract\n"
        "D;Quatre;0612345604;75012;Paris;0113;;opposé;\n"
        "E;Cinq;0612345605;75011;Paris;0112;1985-05-05;indécis;\n",
        encoding="utf-8",
    )
    import_file(engine, path, ImportOptions("C", create_campaign=True))
    yield engine
    engine.dispose()


def names(engine: Engine, list_name: str, status: LeadStatus = LeadStatus.PENDING) -> list[str]:
    with Session(engine) as session:
        return sorted(
            session.scalars(
                select(Contact.last_name)
                .join(CallListEntry, CallListEntry.contact_id == Contact.id)
                .join(CallList, CallList.id == CallListEntry.call_list_id)
                .where(CallList.name == list_name, CallListEntry.status == status)
            )
        )


def build(engine: Engine, name: str, *where: str) -> calllists.RefreshResult:
    return calllists.build(engine, "C", name, parse_where(where), TODAY)


@pytest.mark.parametrize(
    ("where", "expected"),
    [
        (("support=undecided",), ["A", "B", "E"]),
        (("city=saint etienne",), ["C"]),
        (("postal_code=974*,75012",), ["B", "D"]),
        (("precinct=0112",), ["A", "E"]),
        (("age=27-41",), ["A", "E"]),
        (("age=26",), ["C"]),
        (("age=70-",), ["B"]),
        (("tag=vip",), ["A", "C"]),
        (("support=undecided", "city=Paris", "age=-40"), ["A"]),
        (("never_contacted",), ["A", "B", "C", "D", "E"]),
    ],
)
def test_conditions(engine: Engine, where: tuple[str, ...], expected: list[str]) -> None:
    result = build(engine, "L", *where)
    assert result.matched == result.added == len(expected)
    assert names(engine, "L") == expected


def test_refresh_drops_and_adds_keeping_history(engine: Engine) -> None:
    build(engine, "Indécis", "support=undecided", "not_contacted_since=2026-11-01")
    assert names(engine, "Indécis") == ["A", "B", "E"]
    with Session(engine) as session:
        session.execute(
            update(Contact)
            .where(Contact.last_name == "A")
            .values(support_level=SupportLevel.OPPOSED)
        )
        session.execute(
            update(Contact)
            .where(Contact.last_name == "D")
            .values(support_level=SupportLevel.UNDECIDED)
        )
        session.execute(
            update(Contact)
            .where(Contact.last_name == "E")
            .values(last_contacted_at=datetime(2026, 11, 20, tzinfo=UTC))
        )
        session.commit()
    result = calllists.refresh(engine, "C", "Indécis", TODAY)
    assert (result.matched, result.added, result.excluded) == (2, 1, 2)
    assert names(engine, "Indécis") == ["B", "D"]
    assert names(engine, "Indécis", LeadStatus.EXCLUDED) == ["A", "E"]
    # A excluded entry is not put back even if the contact matches again.
    again = calllists.refresh(engine, "C", "Indécis", TODAY)
    assert (again.added, again.excluded) == (0, 0)
    with Session(engine) as session:
        saved = session.scalars(select(CallList).where(CallList.name == "Indécis")).one()
    assert saved.target == {
        "where": {"support": ["undecided"], "not_contacted_since": "2026-11-01"}
    }
    assert saved.refreshed_at is not None


def test_uncallable_contacts_are_left_out(
    engine: Engine, migrated_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PHONEBANK_DATABASE_URL", migrated_url)
    assert main(["dnc", "add", "0612345601"]) == 0
    assert build(engine, "L", "precinct=0112").matched == 1


def test_cli_build_refresh_and_errors(
    engine: Engine, migrated_url: str, monkeypatch: pytest.MonkeyPatch, capsys: Any
) -> None:
    monkeypatch.setenv("PHONEBANK_DATABASE_URL", migrated_url)
    code = main(
        ["list", "build", "--campaign", "C", "--name", "Vip", "--where", "tag=vip", "--json"]
    )
    assert code == 0
    assert json.loads(capsys.readouterr().out) == {
        "call_list": "Vip",
        "matched": 2,
        "added": 2,
        "excluded": 0,
    }
    assert main(["list", "refresh", "--campaign", "C", "--name", "Vip"]) == 0
    assert "2 contacts match; 0 added, 0 dropped" in capsys.readouterr().out
    assert main(["list", "build", "--campaign", "C", "--name", "Vip", "--where", "tag=x"]) == 1
    assert "already has a list named 'Vip'" in capsys.readouterr().err
    assert main(["list", "build", "--campaign", "C", "--name", "X", "--where", "hair=red"]) == 1
    assert "unknown condition 'hair'" in capsys.readouterr().err
    with pytest.raises(ListError, match="no list named 'Nope'"):
        calllists.refresh(engine, "C", "Nope", TODAY)


def test_rank_precincts_orders_the_list(
    engine: Engine, migrated_url: str, monkeypatch: pytest.MonkeyPatch, capsys: Any
) -> None:
    monkeypatch.setenv("PHONEBANK_DATABASE_URL", migrated_url)
    build(engine, "Tous", "never_contacted")
    fixture = Path(__file__).resolve().parent.parent / "fixtures" / "lists"
    results = str(fixture / "resultats_bureaux_t1.csv")
    argv = ["list", "rank-precincts", results, "--campaign", "C", "--name", "Tous"]
    assert main([*argv, "--commune", "056", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["stations"] == 3 and out["entries_prioritised"] == 3
    assert out["closest"][0] == {"commune": "056", "station": "0112", "margin": 0.0147}
    with Session(engine) as session:
        by_name = dict(
            session.execute(
                select(Contact.last_name, CallListEntry.priority).join(
                    CallListEntry, CallListEntry.contact_id == Contact.id
                )
            ).all()
        )
    assert by_name == {"A": 100, "B": 0, "C": 0, "D": 34, "E": 100}
    assert main([*argv, "--commune", "999"]) == 1
    assert "no polling station for commune 999" in capsys.readouterr().err
