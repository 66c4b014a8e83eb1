"""Ranking polling stations by the margin between the two leading candidates."""

from __future__ import annotations

from pathlib import Path

import pytest

from phonebank.lists.errors import ListFileError
from phonebank.lists.precincts import StationResult, parse_results, priorities, rank
from phonebank.lists.reader import open_raw_csv

FIXTURE = Path(__file__).resolve().parent.parent / "fixtures" / "lists" / "resultats_bureaux_t1.csv"


def test_older_layout_with_unnamed_candidate_groups() -> None:
    with open_raw_csv(FIXTURE) as (headers, rows):
        results = parse_results(headers, rows)
    assert results[0] == StationResult("056", "0112", (300, 290, 90))
    ranked = rank(results, commune="056")
    assert [r.station for r in ranked] == ["0112", "0114", "0113"]
    assert ranked[0].margin == pytest.approx(10 / 680)
    assert [r.commune for r in rank(results)][:1] == ["123"]  # a tie: margin 0
    assert priorities(ranked) == {"0112": 100, "0114": 67, "0113": 34}


def test_newer_layout_with_numbered_columns() -> None:
    headers = [
        "Code département",
        "Code commune",
        "Code BV",
        "Exprimés",
        "Nom candidat 1",
        "Voix 1",
        "% Voix/exprimés 1",
        "Nom candidat 2",
        "Voix 2",
        "Nom candidat 3",
        "Voix 3",
    ]
    rows = [
        ["974", "97411", "0001", "100", "A", "40", "40", "B", "35", "C", "25"],
        ["974", "97411", "0002", "100", "A", "70", "70", "B", "20", "C", "10"],
        ["974", "97411", "0003", "0", "A", "", "", "B", "", "C", ""],
    ]
    results = parse_results(headers, rows)
    assert [r.votes for r in results] == [(40, 35, 25), (70, 20, 10), (0, 0, 0)]
    assert [r.station for r in rank(results)] == ["0001", "0002", "0003"]
    assert results[2].margin == 1.0


def test_not_a_results_file() -> None:
    with pytest.raises(ListFileError, match="results: no commune code column"):
        parse_results(["Nom", "Tel"], [])
    with pytest.raises(ListFileError, match="no candidate panel number"):
        parse_results(["Code commune", "Code BV", "Inscrits"], [])
