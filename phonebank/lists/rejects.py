"""The reject file: every rejected row with its line number and reason, as CSV."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import IO, Any


def default_rejects_path(source: Path) -> Path:
    """Beside the input: `voters.csv` → `voters.rejects.csv`."""
    return source.with_name(f"{source.stem}.rejects.csv")


class CsvRejects:
    """Opened on the first rejected row, so a clean import leaves no empty file."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.count = 0
        self._file: IO[str] | None = None
        self._writer: Any = None
        self._columns: list[str] = []

    def write(self, line: int, reason: str, values: dict[str, str]) -> None:
        if self._file is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            # UTF-8 with BOM and ";" : what a French spreadsheet opens without a question.
            self._file = self.path.open("w", encoding="utf-8-sig", newline="")
            self._writer = csv.writer(self._file, delimiter=";")
            self._columns = list(values)
            self._writer.writerow(["line", "reason", *self._columns])
        self._writer.writerow([line, reason, *(values.get(c, "") for c in self._columns)])
        self.count += 1

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None

    def __enter__(self) -> CsvRejects:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
