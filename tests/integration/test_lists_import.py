"""List import on the real PostgreSQL and on SQLite: encodings, delimiters, phone
habits, overseas zones, duplicates and merges, do-not-call, rejects, unreadable files."""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from openpyxl import Workbook
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from phonebank.cli.main import main
from phonebank.db import make_engine
from phonebank.db.enums import PhoneType, SupportLevel
from phonebank.db.models import CallList, CallListEntry, Campaign, Contact, PhoneNumber
from phonebank.lists.errors import CampaignNotFound, ListFileError
from phonebank.lists.service import ImportOptions, import_file

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "lists"


@pytest.fixture
def engine(migrated_url: str) -> Iterator[Engine]:
    engine = make_engine(migrated_url)
    yield engine
    engine.dispose()


@pytest.fixture
def cli(migrated_url: str, monkeypatch: pytest.MonkeyPatch) -> Any:
    monkeypatch.setenv("PHONEBANK_DATABASE_URL", migrated_url)

    def run(*argv: str) -> int:
        return main(list(argv))

    return run


def options(campaign: str = "Municipales", **kw: Any) -> ImportOptions:
    return ImportOptions(campaign, create_campaign=True, **kw)


def phones(engine: Engine, campaign: str = "Municipales") -> dict[str, PhoneNumber]:
    with Session(engine) as session:
        found = session.scalars(
            select(PhoneNumber)
            .join(Contact, Contact.id == PhoneNumber.contact_id)
            .join(Campaign, Campaign.id == Contact.campaign_id)
            .where(Campaign.name == campaign)
        ).all()
    return {phone.e164: phone for phone in found}


def contacts(engine: Engine, campaign: str = "Municipales") -> list[Contact]:
    with Session(engine) as session:
        return list(
            session.scalars(
                select(Contact)
                .join(Campaign, Campaign.id == Contact.campaign_id)
                .where(Campaign.name == campaign)
                .order_by(Contact.id)
            )
        )


def count(engine: Engine, model: Any) -> int:
    with engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(model)).scalar_one())


HEADER = ["Nom", "Prénom", "Téléphone", "Code postal", "Ville"]
ROWS = [
    ["Lefèvre", "Hélène", "06 12 34 56 78", "75011", "Paris"],
    ["Noël", "Jérôme", "06.12.34.56.79", "69001", "Lyon"],
    ["N'Guyen", "Zoë", "+33 6 12 34 56 80", "13001", "Marseille"],
    ["Dubois", "Renée", "0033612345681", "33000", "Bordeaux"],
    ["Martin", "Loïc", "+33(0)6 12 34 56 82", "59000", "Lille"],
]
EXPECTED = ["+33612345678", "+33612345679", "+33612345680", "+33612345681", "+33612345682"]


def write(path: Path, rows: list[list[str]], encoding: str, delimiter: str, newline: str) -> Path:
    lines = [delimiter.join(HEADER), *(delimiter.join(r) for r in rows)]
    path.write_bytes((newline.join(lines) + newline).encode(encoding))
    return path


def test_each_encoding_delimiter_and_phone_habit(engine: Engine, tmp_path: Path) -> None:
    combos = [
        (enc, delim, nl)
        for enc in ("utf-8", "utf-8-sig", "cp1252", "latin-1")
        for delim, nl in ((";", "\r\n"), (",", "\n"), ("\t", "\r\n"))
    ]
    for index, (encoding, delimiter, newline) in enumerate(combos):
        campaign = f"c{index}"
        path = write(tmp_path / f"{campaign}.csv", ROWS, encoding, delimiter, newline)
        summary = import_file(engine, path, options(campaign))
        assert (summary.rows, summary.contacts_created, summary.phones_valid) == (5, 5, 5), (
            encoding,
            delimiter,
        )
        assert summary.rejected == []
        assert sorted(phones(engine, campaign)) == EXPECTED
        names = {(c.last_name, c.first_name) for c in contacts(engine, campaign)}
        assert {("Noël", "Jérôme"), ("Lefèvre", "Hélène"), ("N'Guyen", "Zoë")} <= names
    assert count(engine, Contact) == 5 * len(combos)


def test_committed_fixture_files(engine: Engine) -> None:
    first = import_file(engine, FIXTURES / "voters_cp1252_semicolon.csv", options())
    assert (first.encoding, first.delimiter) == ("cp1252", ";")
    assert first.rows == 5
    assert first.contacts_created == 3 and first.contacts_merged == 1
    assert first.rejected == [{"line": 6, "reason": "no phone number"}]
    stored = phones(engine)
    assert stored["+262692123456"].time_zone == "Indian/Reunion"
    assert stored["+262262161234"].type == PhoneType.FIXED
    # A metropolitan mobile of someone living in Réunion (postal code 97410).
    assert stored["+33781234567"].time_zone == "Indian/Reunion"
    helene = next(c for c in contacts(engine) if c.first_name == "Hélène")
    assert helene.custom_fields == {"Profession": "Infirmière"}
    assert helene.support_level == SupportLevel.UNDECIDED
    assert helene.precinct == "0112"

    second = import_file(engine, FIXTURES / "contacts_utf8bom_comma.csv", options("Outre-mer"))
    assert (second.encoding, second.delimiter) == ("utf-8-sig", ",")
    assert second.contacts_created == 4
    assert [r["line"] for r in second.rejected] == [6]
    zones = {e: p.time_zone for e, p in phones(engine, "Outre-mer").items()}
    assert zones == {
        "+590590201234": "America/Guadeloupe",
        "+590690001234": "America/Guadeloupe",
        "+596596301234": "America/Martinique",
        "+596696201234": "America/Martinique",
        "+262269601234": "Indian/Mayotte",
        "+262639012345": "Indian/Mayotte",
        "+508412345": "America/Miquelon",
    }
    smith = next(c for c in contacts(engine, "Outre-mer") if c.first_name == "Ann")
    assert smith.last_name == "Smith, Jr."
    assert smith.email == "ann@example.org"


def test_duplicates_and_merges_within_and_across_files(engine: Engine, tmp_path: Path) -> None:
    path = tmp_path / "dups.csv"
    path.write_text(
        "Nom;Prénom;Fixe;Portable;Date de naissance;Ville;Email;Tags;Note\n"
        "Dupont;Amélie;01 42 68 53 00;;17/05/1980;Paris;;bénévole;A\n"
        "DUPONT;amelie;;06 12 34 56 78;1980-05-17;;amelie@example.org;tract, bénévole;B\n"
        "Dupont;Amélie;;06 99 99 99 99;02/02/1990;Nice;;;\n"
        "Durand;Paul;01 42 68 53 00;;;;;;\n"
        ";;06 12 34 56 78;;;;;vip;\n",
        encoding="utf-8",
    )
    summary = import_file(engine, path, options(chunk_size=2))
    # Line 3 is line 2's person (name + birth date); line 4 has another birth date: another
    # person; line 5's only number is Amélie's: rejected (Paul could never be called);
    # line 6 is anonymous with Amélie's mobile: hers.
    assert summary.contacts_created == 2
    assert summary.contacts_merged == 2
    assert summary.duplicates == 2
    assert summary.phones_valid == 3
    assert summary.rejected == [
        {"line": 5, "reason": "every number already belongs to another contact (contact 1)"}
    ]
    people = contacts(engine)
    amelie = people[0]
    assert amelie.city == "Paris"
    assert amelie.email == "amelie@example.org"
    assert amelie.tags == ["bénévole", "tract", "vip"]
    assert amelie.custom_fields == {"Note": "A", "Note (2)": "B"}
    stored = phones(engine)
    assert stored["+33612345678"].contact_id == amelie.id
    assert stored["+33142685300"].contact_id == amelie.id
    assert sorted(p.position for p in stored.values() if p.contact_id == amelie.id) == [0, 1]
    assert people[1].city == "Nice"

    again = import_file(engine, path, options())
    assert (again.contacts_created, again.contacts_merged, again.phones_valid) == (0, 4, 0)
    assert len(again.rejected) == 1
    assert count(engine, Contact) == 2
    assert count(engine, PhoneNumber) == 3


def test_same_number_in_another_campaign_is_another_phone(engine: Engine, tmp_path: Path) -> None:
    path = write(tmp_path / "a.csv", ROWS[:1], "utf-8", ";", "\n")
    import_file(engine, path, options("A"))
    import_file(engine, path, options("B"))
    assert list(phones(engine, "A")) == list(phones(engine, "B")) == ["+33612345678"]
    assert count(engine, PhoneNumber) == 2


def test_do_not_call_before_and_after_import(engine: Engine, cli: Any, tmp_path: Path) -> None:
    assert cli("dnc", "add", "06 12 34 56 78", "--reason", "asked on 1 March") == 0
    path = write(tmp_path / "a.csv", ROWS, "utf-8", ";", "\n")
    summary = import_file(engine, path, options("A"))
    assert summary.dnc == 1
    import_file(engine, path, options("B"))
    stored = phones(engine, "A")
    assert stored["+33612345678"].do_not_call and not stored["+33612345678"].callable
    assert stored["+33612345679"].callable

    assert cli("dnc", "import", str(FIXTURES / "dnc_numbers.txt")) == 0
    assert cli("dnc", "add", "+33 6 12 34 56 79") == 0
    for campaign in ("A", "B"):
        marked = phones(engine, campaign)["+33612345679"]
        assert marked.do_not_call and not marked.callable
    assert cli("dnc", "add", "not a number") == 1


def test_dnc_cli_output(cli: Any, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli("dnc", "import", str(FIXTURES / "dnc_numbers.txt"), "--json") == 0
    result = json.loads(capsys.readouterr().out)
    assert result["added"] == 2
    assert result["rejected"] == [
        {"line": 3, "reason": "'0899 12 34 56': premium-rate number (never dialled)"}
    ]
    assert cli("dnc", "list", "--json") == 0
    listed = json.loads(capsys.readouterr().out)
    assert [e["e164"] for e in listed] == ["+262692123456", "+33612345678"] or sorted(
        e["e164"] for e in listed
    ) == ["+262692123456", "+33612345678"]
    assert all(e["source"] == "import" for e in listed)


def test_cli_json_summary_and_reject_file(
    cli: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "mixed.csv"
    path.write_text(
        "Nom,Prénom,Tel\n"
        "Ok,Un,0612345678\n"
        "Bad,Deux,12\n"
        "Extra,Trois,0612345679,surplus\n"
        "\n"
        "Vide,Quatre,\n"
        'Quoted,"Cinq\nSix",0612345680\n',
        encoding="utf-8",
    )
    code = cli("import", str(path), "--campaign", "C", "--create-campaign", "--json")
    assert code == 0
    summary = json.loads(capsys.readouterr().out)
    for key in (
        "rows",
        "contacts_created",
        "contacts_merged",
        "phones_valid",
        "phones_invalid",
        "duplicates",
        "dnc",
        "rejected",
    ):
        assert key in summary
    assert summary["rows"] == 5
    assert summary["contacts_created"] == 2
    assert summary["phones_invalid"] == 1
    assert [r["line"] for r in summary["rejected"]] == [3, 4, 6]
    with (tmp_path / "mixed.rejects.csv").open(encoding="utf-8-sig", newline="") as f:
        rejected = list(csv.reader(f, delimiter=";"))
    assert rejected[0] == ["line", "reason", "Nom", "Prénom", "Tel"]
    assert [r[0] for r in rejected[1:]] == ["3", "4", "6"]
    assert "no phone number" in rejected[3][1]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "the file is empty"),
        (b"Nom;Ville\nDupont;Paris\n", "no phone column among Nom, Ville"),
        (b"Nom;Tel\n", "no data rows"),
        (b"\x00\x00\x00\x00", "binary content"),
    ],
)
def test_unreadable_files_import_nothing(
    cli: Any,
    engine: Engine,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    content: bytes,
    message: str,
) -> None:
    path = tmp_path / "bad.csv"
    path.write_bytes(content)
    assert cli("import", str(path), "--campaign", "C", "--create-campaign") == 1
    err = capsys.readouterr().err
    assert str(path) in err and message in err
    assert count(engine, Contact) == 0
    assert count(engine, Campaign) == 0


def test_undecodable_line_late_in_the_file_rolls_everything_back(
    engine: Engine, tmp_path: Path
) -> None:
    path = tmp_path / "late.csv"
    # Past the first megabyte, which decided the encoding.
    note = "x" * 200
    good = "".join(f"Nom{i};06{i:08d};{note}\n" for i in range(6_000))
    path.write_bytes(("Nom;Tel;Note\n" + good).encode() + b"Caf\xe9;0612345678;\n")
    with pytest.raises(ListFileError, match=r"line 6002: not valid utf-8"):
        import_file(engine, path, options(chunk_size=1000))
    assert count(engine, Contact) == 0
    assert count(engine, Campaign) == 0


def test_missing_campaign_and_dry_run(engine: Engine, tmp_path: Path) -> None:
    path = write(tmp_path / "a.csv", ROWS, "utf-8", ";", "\n")
    with pytest.raises(CampaignNotFound, match="no campaign named 'X'"):
        import_file(engine, path, ImportOptions("X"))
    summary = import_file(engine, path, options(dry_run=True, list_name="L"))
    assert summary.contacts_created == 5 and summary.list_entries_added == 5
    assert count(engine, Contact) == count(engine, Campaign) == count(engine, CallList) == 0


def test_list_and_map_and_xlsx(engine: Engine, tmp_path: Path) -> None:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["Numéro", "Nom", "Prénom", "Groupe"])
    sheet.append([612345678, "Hoarau", "Marie", "A"])
    sheet.append(["0692 12 34 56", "Payet", "Jean", "B"])
    path = tmp_path / "list.xlsx"
    book.save(path)
    overrides = {"numero": "phone", "groupe": "tags"}
    summary = import_file(engine, path, options(list_name="Relance", overrides=overrides))
    assert summary.contacts_created == 2 and summary.list_entries_added == 2
    assert sorted(phones(engine)) == ["+262692123456", "+33612345678"]
    assert sorted(t for c in contacts(engine) for t in c.tags) == ["A", "B"]
    again = import_file(engine, path, options(list_name="Relance", overrides=overrides))
    assert again.list_entries_added == 0
    assert count(engine, CallListEntry) == 2


def test_cli_text_summary_dry_run_and_bad_region(
    cli: Any, engine: Engine, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write(tmp_path / "a.csv", ROWS, "cp1252", ";", "\r\n")
    argv = ["import", str(path), "--campaign", "C", "--create-campaign", "--list", "L"]
    assert cli(*argv, "--dry-run") == 0
    out = capsys.readouterr().out
    assert "5 rows (cp1252) would import into campaign 'C', list 'L'" in out
    assert "contacts created: 5, merged: 0" in out
    assert count(engine, Contact) == 0
    assert cli(*argv, "--region", "XX") == 1
    assert "--region XX: not a region" in capsys.readouterr().err
    assert cli(*argv, "--map", "Nope=phone") == 1
    assert "--map names column(s) not in the header: nope" in capsys.readouterr().err


def test_values_with_tabs_newlines_and_backslashes_arrive_as_written(
    engine: Engine, tmp_path: Path
) -> None:
    # COPY's text format escapes these four characters; a value that has one must still
    # arrive exactly as the file has it.
    path = tmp_path / "odd.csv"
    with path.open("w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out, delimiter=";")
        writer.writerow(["Nom", "Prénom", "Tél", "Ville", "Note", "Tags"])
        writer.writerow(
            ["Le\tGall", "Anne\nMarie", "06 12 34 56 78", "C:\\Ville", "a\\tb\r", "x\\y"]
        )
        writer.writerow(["Plain", "Row", "06 12 34 56 79", "Lyon", "", ""])
        writer.writerow(["Back\\slash", "", "06 12 34 56 80", "", "\\N", ""])
    summary = import_file(engine, path, options())
    assert summary.contacts_created == 3, summary.rejected
    people = {c.last_name: c for c in contacts(engine)}
    odd = people["Le\tGall"]
    assert (odd.first_name, odd.city) == ("Anne\nMarie", "C:\\Ville")
    assert odd.custom_fields == {"Note": "a\\tb"} and odd.tags == ["x\\y"]
    assert people["Back\\slash"].custom_fields == {"Note": "\\N"}
    assert people["Plain"].city == "Lyon" and people["Back\\slash"].first_name == ""
