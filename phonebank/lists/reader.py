"""Reading list files row by row: CSV (encoding and delimiter detected) and XLSX.

Nothing holds the whole file: CSV is decoded and split as it streams, XLSX is
read with openpyxl's read-only mode. Each data row comes with its line number
as in the file (the header is line 1; for CSV, the line where a quoted
multi-line record starts).
"""

from __future__ import annotations

import codecs
import csv
import io
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime, time
from pathlib import Path
from typing import IO, Any

from phonebank.lists.errors import ListFileError

_SAMPLE_BYTES = 1 << 20
_DELIMITERS = (";", ",", "\t")
_ZIP_MAGIC = b"PK\x03\x04"
# csv's default limit (128 KiB) is fine for lists; a bigger field is a broken file.
csv.field_size_limit(1 << 20)


@dataclass
class Row:
    line: int
    values: dict[str, str]
    # Cells beyond the header's columns that are not empty (a malformed row).
    extra: list[str] = field(default_factory=list)


@dataclass
class ListFile:
    path: Path
    kind: str  # "csv" or "xlsx"
    headers: list[str]
    rows: Iterator[Row]
    # Fraction of the file read so far, for a progress bar.
    progress: Callable[[], float]
    encoding: str = ""
    delimiter: str = ""


def _unique_headers(raw: list[str]) -> list[str]:
    seen: dict[str, int] = {}
    out = []
    for index, cell in enumerate(raw, start=1):
        name = cell.strip() or f"column {index}"
        count = seen.get(name, 0) + 1
        seen[name] = count
        out.append(name if count == 1 else f"{name} ({count})")
    return out


def detect_encoding(sample: bytes, path: Path) -> str:
    """utf-8-sig, utf-16, utf-8 or cp1252/latin-1, from the first megabyte."""
    if sample.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if sample.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    if b"\x00" in sample:
        raise ListFileError(f"{path}: binary content (NUL bytes): not a CSV or XLSX list")
    try:
        # final=False: a multi-byte character cut by the sample's end is not an error.
        codecs.getincrementaldecoder("utf-8")().decode(sample, final=False)
        return "utf-8"
    except UnicodeDecodeError:
        pass
    try:
        sample.decode("cp1252")
        return "cp1252"
    except UnicodeDecodeError:
        # Bytes cp1252 leaves undefined (0x81, 0x8d, ...): Latin-1 takes every byte.
        return "latin-1"


def detect_delimiter(header_line: str) -> str:
    counts = {d: _count_outside_quotes(header_line, d) for d in _DELIMITERS}
    best = max(_DELIMITERS, key=lambda d: counts[d])
    return best if counts[best] else ","


def _count_outside_quotes(line: str, delimiter: str) -> int:
    count, quoted = 0, False
    for ch in line:
        if ch == '"':
            quoted = not quoted
        elif ch == delimiter and not quoted:
            count += 1
    return count


class _Decoded:
    """Text lines from a binary file, naming the line where decoding fails.

    ASCII-compatible encodings are decoded line by line from the bytes, so the
    error names the right line (a TextIOWrapper decodes ahead in chunks).
    """

    def __init__(self, raw: IO[bytes], encoding: str, path: Path) -> None:
        self._raw, self._path, self._encoding, self.lines = raw, path, encoding, 0
        self._wide = encoding == "utf-16"
        self._text = io.TextIOWrapper(raw, encoding=encoding, newline="") if self._wide else None
        self._bom = encoding == "utf-8-sig"

    def close(self) -> None:
        if self._text is not None:
            # The binary file belongs to the caller: do not let the wrapper close it.
            self._text.detach()

    def __iter__(self) -> Iterator[str]:
        return self

    def __next__(self) -> str:
        try:
            if self._text is not None:
                line = self._text.readline()
            else:
                data = self._raw.readline()
                if self._bom:
                    data, self._bom = data.removeprefix(codecs.BOM_UTF8), False
                line = data.decode(self._encoding)
        except UnicodeDecodeError as exc:
            raise ListFileError(
                f"{self._path}: line {self.lines + 1}: not valid {self._encoding} "
                f"({exc.reason}); save the file as UTF-8 and import it again"
            ) from None
        if not line:
            raise StopIteration
        self.lines += 1
        return line


def _csv_rows(reader: Any, headers: list[str]) -> Iterator[Row]:
    width = len(headers)
    last_line = reader.line_num
    strip = str.strip
    for cells in reader:
        start, last_line = last_line + 1, reader.line_num
        stripped = list(map(strip, cells))
        if not any(stripped):
            continue
        if len(stripped) < width:
            stripped.extend([""] * (width - len(stripped)))
        # Cells past the header are the row's `extra`, not values.
        values = dict(zip(headers, stripped, strict=False))
        extra = [c for c in cells[width:] if c.strip()]
        yield Row(start, values, extra)


@contextmanager
def _open_csv(path: Path, raw: IO[bytes], sample: bytes) -> Iterator[ListFile]:
    encoding = detect_encoding(sample, path)
    text = _Decoded(raw, encoding, path)
    try:
        yield _csv_file(path, raw, text, encoding)
    finally:
        text.close()


def _csv_file(path: Path, raw: IO[bytes], text: _Decoded, encoding: str) -> ListFile:
    try:
        first = next(text)
    except StopIteration:
        raise ListFileError(f"{path}: the file is empty") from None
    delimiter = detect_delimiter(first)
    size = max(path.stat().st_size, 1)

    def lines() -> Iterator[str]:
        yield first
        yield from text

    reader = csv.reader(lines(), delimiter=delimiter, quotechar='"', strict=False)
    headers = _unique_headers(next(reader))
    return ListFile(
        path,
        "csv",
        headers,
        _csv_rows(reader, headers),
        lambda: min(raw.tell() / size, 1.0),
        encoding=encoding,
        delimiter=delimiter,
    )


def _cell_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == time() else value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


@contextmanager
def _open_xlsx(path: Path, raw: IO[bytes]) -> Iterator[ListFile]:
    import zipfile

    from openpyxl import load_workbook
    from openpyxl.utils.exceptions import InvalidFileException

    try:
        # A file object: openpyxl would refuse a path whose extension is not .xlsx.
        book = load_workbook(raw, read_only=True, data_only=True)
    except (zipfile.BadZipFile, InvalidFileException, KeyError, OSError, ValueError) as exc:
        raise ListFileError(f"{path}: not a readable XLSX workbook ({exc})") from None
    try:
        sheet = book.worksheets[0]
        total = max(sheet.max_row or 1, 1)
        rows = sheet.iter_rows(values_only=True)
        header_cells = next(rows, None)
        if header_cells is None or not any(c is not None for c in header_cells):
            raise ListFileError(f"{path}: the first sheet is empty")
        headers = _unique_headers([_cell_text(c) for c in header_cells])
        position = [1]

        def data() -> Iterator[Row]:
            width = len(headers)
            for line, cells in enumerate(rows, start=2):
                position[0] = line
                texts = [_cell_text(c) for c in cells]
                if not any(texts):
                    continue
                values = {h: (texts[i] if i < len(texts) else "") for i, h in enumerate(headers)}
                yield Row(line, values, [t for t in texts[width:] if t])

        yield ListFile(path, "xlsx", headers, data(), lambda: min(position[0] / total, 1.0))
    finally:
        book.close()


@contextmanager
def open_list(path: Path) -> Iterator[ListFile]:
    """Open a CSV or XLSX list (the content decides, not the extension)."""
    try:
        raw = path.open("rb")
    except OSError as exc:
        raise ListFileError(f"{path}: cannot open ({exc.strerror})") from None
    with raw:
        sample = raw.read(_SAMPLE_BYTES)
        if not sample:
            raise ListFileError(f"{path}: the file is empty")
        raw.seek(0)
        if sample.startswith(_ZIP_MAGIC):
            with _open_xlsx(path, raw) as opened:
                yield opened
            return
        with _open_csv(path, raw, sample) as opened:
            yield opened


@contextmanager
def open_raw_csv(path: Path) -> Iterator[tuple[list[str], Iterator[list[str]]]]:
    """Header and raw cell lists of a CSV (rows may be longer than the header)."""
    try:
        raw = path.open("rb")
    except OSError as exc:
        raise ListFileError(f"{path}: cannot open ({exc.strerror})") from None
    with raw:
        sample = raw.read(_SAMPLE_BYTES)
        if not sample:
            raise ListFileError(f"{path}: the file is empty")
        raw.seek(0)
        text = _Decoded(raw, detect_encoding(sample, path), path)
        try:
            first = next(text)

            def lines() -> Iterator[str]:
                yield first
                yield from text

            reader = csv.reader(lines(), delimiter=detect_delimiter(first))
            yield next(reader), reader
        except StopIteration:
            raise ListFileError(f"{path}: the file is empty") from None
        finally:
            text.close()
