"""The import's matching as a property: rows give the same contacts, numbers, merges and
rejections whatever the chunk size (one row at a time, a few, all at once), on SQLite
and PostgreSQL, over generated files full of duplicates, merges and conflicts. Chunks
matter because the lookups of a chunk overlap the write of the chunk before it
(lists/service.py): the matcher must make up for what the database does not show yet."""

from __future__ import annotations

import itertools
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine, text

from phonebank.db import make_engine
from phonebank.lists.dnc import add_numbers
from phonebank.lists.service import ImportOptions, import_file

HEADER = "Nom;Prénom;Tél;Portable;CP;Date de naissance;Statut;ID;Tags;Note"
LAST = ["Martin", "MARTIN", "Dupont", "Dupônt", "Payet", "", "Lé-Gall", "Hoarau"]
FIRST = ["Marie", "marie", "Jean", "Zoé", ""]
BORN = ["", "", "17/05/1980", "1980-05-17", "01/01/1950", "hier"]
# Valid numbers (several spellings of some), an invalid one, a premium-rate one.
PHONES = [
    *(f"06 12 34 56 {n:02d}" for n in range(12)),
    "+33 6 12 34 56 00",
    "0033612345601",
    "0692 12 34 56",
    "+262 692 12 34 56",
    "0262 21 00 00",
    "01 42 68 53 00",
    "06 12 34 56 02 / 01 42 68 53 01",
    "12",
    "0899 12 34 56",
    "",
]
POSTAL = ["75011", "97400", ""]
STATUS = ["", "indécis", "soutien", "bof"]
IDS = ["", "", "A1", "A2", "B7"]
TAGS = ["", "vip", "vip, tract"]
NOTES = ["", "x", "y"]

ROW = st.tuples(*(st.sampled_from(p) for p in (LAST, FIRST, PHONES, PHONES, POSTAL, BORN)))
ROW_REST = st.tuples(*(st.sampled_from(p) for p in (STATUS, IDS, TAGS, NOTES)))
FILE = st.lists(st.tuples(ROW, ROW_REST, st.integers(0, 30)), min_size=1, max_size=25)
# A list and its re-imports: the same file name (external ids mean something in it),
# then another file (external ids from another source).
FILES = st.tuples(FILE, FILE, FILE)

_campaigns = itertools.count()


def _write(path: Path, rows: list[Any]) -> Path:
    lines = [HEADER]
    for number, (first, rest, odd) in enumerate(rows):
        line = ";".join((*first, *rest))
        if number == 0 and odd == 0:
            odd = 2  # a file of blank lines only is refused whole, in any chunk size
        # Now and then a blank line or a row with a cell too many.
        lines.append("" if odd == 0 else line + (";extra" if odd == 1 else ""))
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _import_all(engine: Engine, folder: Path, files: Any, campaign: str, chunk: int) -> Any:
    summaries = []
    for index, rows in enumerate(files):
        name = "list.csv" if index < 2 else "other.csv"
        path = _write(folder / campaign / str(chunk) / name, rows)
        summary = import_file(
            engine,
            path,
            ImportOptions(campaign, list_name="L", create_campaign=True, chunk_size=chunk),
        ).to_json()
        for key in ("seconds", "file", "campaign"):
            summary.pop(key)
        summaries.append(summary)
    return summaries


def _state(engine: Engine, campaign: str, summaries: Any) -> dict[str, Any]:
    """The campaign's contacts, numbers and list, ids replaced by their rank."""
    with engine.connect() as conn:
        found = conn.execute(
            text(
                "SELECT c.* FROM contacts c JOIN campaigns k ON k.id = c.campaign_id "
                "WHERE k.name = :n ORDER BY c.id"
            ),
            {"n": campaign},
        ).mappings()
        rows = list(found)
        rank = {row["id"]: i for i, row in enumerate(rows)}
        skip = {"id", "created_at", "updated_at", "campaign_id"}
        people = [{k: v for k, v in row.items() if k not in skip} for row in rows]
        numbers = conn.execute(
            text(
                "SELECT p.contact_id, p.e164, p.raw, p.type, p.time_zone, p.position, "
                "p.callable, p.do_not_call FROM phone_numbers p "
                "JOIN contacts c ON c.id = p.contact_id "
                "JOIN campaigns k ON k.id = c.campaign_id "
                "WHERE k.name = :n ORDER BY p.contact_id, p.position"
            ),
            {"n": campaign},
        ).all()
        entries = conn.execute(
            text(
                "SELECT e.contact_id FROM call_list_entries e "
                "JOIN call_lists l ON l.id = e.call_list_id "
                "JOIN campaigns k ON k.id = l.campaign_id WHERE k.name = :n"
            ),
            {"n": campaign},
        ).scalars()
        listed = sorted(rank[c] for c in entries)
    phones = [(rank[row[0]], *row[1:]) for row in numbers]
    return {
        "contacts": people,
        "phones": phones,
        "list": listed,
        "summaries": _ranked(summaries, rank),
    }


def _ranked(value: Any, rank: dict[int, int]) -> Any:
    """`value` with "contact 123" in its texts (warnings, reasons) given by rank."""
    if isinstance(value, str):
        return re.sub(r"contact (\d+)", lambda m: f"contact #{rank[int(m[1])]}", value)
    if isinstance(value, list):
        return [_ranked(v, rank) for v in value]
    if isinstance(value, dict):
        return {k: _ranked(v, rank) for k, v in value.items()}
    return value


@pytest.fixture
def engine(migrated_url: str) -> Iterator[Engine]:
    engine = make_engine(migrated_url)
    add_numbers(engine, [(1, "06 12 34 56 03"), (2, "0692 12 34 56")], reason="test")
    yield engine
    engine.dispose()


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(files=FILES)
def test_outcome_does_not_depend_on_the_chunk_size(
    engine: Engine, tmp_path: Path, files: Any
) -> None:
    states = []
    for chunk in (1, 3, 2000):
        campaign = f"C{next(_campaigns)}"
        summaries = _import_all(engine, tmp_path, files, campaign, chunk)
        states.append(_state(engine, campaign, summaries))
    assert states[0] == states[1] == states[2]
    # Every row is accounted for, in each import.
    for summary in states[0]["summaries"]:
        assert summary["rows"] == (
            summary["contacts_created"] + summary["contacts_merged"] + len(summary["rejected"])
        )


def test_an_external_id_from_another_file_is_kept_aside(engine: Engine, tmp_path: Path) -> None:
    # The crash this fixes: a row of file B with external id X merged (same person by
    # name and date) into a contact of file A; writing X as the contact's external id
    # collided with the contact of file A that has X.
    a = tmp_path / "a.csv"
    a.write_text(
        "Nom;Prénom;Né le;Tél;ID\n"
        "Martin;Marie;17/05/1980;06 12 34 56 01;\n"
        "Dupont;Jean;01/01/1950;06 12 34 56 02;X\n",
        encoding="utf-8",
    )
    b = tmp_path / "b.csv"
    b.write_text("Nom;Prénom;Né le;Tél;ID\nMartin;Marie;17/05/1980;06 12 34 56 03;X\n")
    import_file(engine, a, ImportOptions("C", create_campaign=True))
    summary = import_file(engine, b, ImportOptions("C"))
    assert (summary.contacts_created, summary.contacts_merged) == (0, 1)
    with engine.connect() as conn:
        marie = conn.execute(
            text("SELECT external_id, custom_fields FROM contacts WHERE first_name = 'Marie'")
        ).one()
    assert marie.external_id is None
    custom = marie.custom_fields
    assert (json.loads(custom) if isinstance(custom, str) else custom) == {"external_id (2)": "X"}
