"""Precinct priority from the Interior Ministry's results per polling station. Pure.

The ministry publishes, for each election round, one CSV row per polling station
(data.gouv.fr, "résultats par bureau de vote"), `;`-separated, in Latin-1 or UTF-8.
Two layouts exist and both are read:

- older files: a header for the station columns and for the *first* candidate only
  (`N°Panneau;Sexe;Nom;Prénom;Voix;% Voix/Ins;% Voix/Exp`); the other candidates
  follow in groups of the same width with no header of their own;
- newer files: numbered columns (`Voix 1`, `Voix 2`, ...).

A station is ranked by the margin between its two leading candidates, as a share
of the votes cast for candidates: the closest race first.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from phonebank.lists.errors import ListFileError
from phonebank.lists.headers import fold

_COMMUNE = ("code de la commune", "code commune")
_STATION = ("code du b vote", "code bv", "code bureau de vote", "code du bureau de vote")
_GROUP_START = ("n panneau", "numero de panneau", "n de panneau")


@dataclass(frozen=True)
class StationResult:
    commune: str
    station: str
    votes: tuple[int, ...]  # per candidate, in the file's order

    @property
    def margin(self) -> float:
        """(first - second) / votes cast for candidates; 1.0 when unopposed or empty."""
        ordered = sorted(self.votes, reverse=True)
        total = sum(ordered)
        if total == 0 or len(ordered) < 2:
            return 1.0
        return (ordered[0] - ordered[1]) / total


def _find(headers: Sequence[str], names: tuple[str, ...], what: str, source: str) -> int:
    folded = [fold(h) for h in headers]
    for name in names:
        if name in folded:
            return folded.index(name)
    raise ListFileError(f"{source}: no {what} column (looked for: {', '.join(names)})")


def _int(text: str) -> int:
    text = text.strip().replace(" ", "").replace("\u00a0", "")
    return int(text) if text.isdigit() else 0


def parse_results(
    headers: Sequence[str], rows: Iterable[Sequence[str]], source: str = "results"
) -> list[StationResult]:
    """Station results from the file's header and raw rows (cells as text)."""
    commune = _find(headers, _COMMUNE, "commune code", source)
    station = _find(headers, _STATION, "polling station code", source)
    folded = [fold(h) for h in headers]
    numbered = [i for i, h in enumerate(folded) if h.startswith("voix ") and h[5:].isdigit()]
    if numbered:
        offsets: list[int] | None = numbered
        stride = 0
    else:
        start = _find(headers, _GROUP_START, "candidate panel number", source)
        offsets = None
        voix = folded.index("voix", start) if "voix" in folded[start:] else -1
        if voix < 0:
            raise ListFileError(f"{source}: no 'Voix' column after the panel number")
        stride, first = len(headers) - start, voix
    out = []
    for cells in rows:
        if len(cells) <= station:
            continue
        if offsets is not None:
            votes = tuple(_int(cells[i]) for i in offsets if i < len(cells))
        else:
            votes = tuple(_int(cells[i]) for i in range(first, len(cells), stride))
        out.append(StationResult(cells[commune].strip(), cells[station].strip(), votes))
    return out


def rank(results: Iterable[StationResult], commune: str | None = None) -> list[StationResult]:
    """Closest race first; ties by station code."""
    chosen = [r for r in results if commune is None or r.commune == commune]
    return sorted(chosen, key=lambda r: (r.margin, r.station))


def priorities(ranked: Sequence[StationResult], top: int = 100) -> dict[str, int]:
    """Station code → call-list priority: `top` for the closest race, down to 1."""
    count = len(ranked)
    return {
        r.station: max(1, top - (index * top) // max(count, 1)) for index, r in enumerate(ranked)
    }
