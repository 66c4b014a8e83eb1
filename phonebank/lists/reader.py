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
from itertools import chain
from pathlib import Path
from typing import IO, Any

from phonebank.lists.errors import ListFileError

_SAMPLE_BYTES = 1 << 20
_DELIMITERS = (";", ",", "\t")
_ZIP_MAGIC = b"PK\x03\x04"
# csv's default limit (128 KiB) is fine for lists; a bigger field is a broken file.
csv.field_size_limit(1 << 20)

# (line, cells): the cells stripped and padded to the header's width; cells past the
# header (a malformed row) follow them.
Record = tuple[int, list[str]]


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
    # The data rows, once: read either `records` or `rows`, not both.
    records: Iterator[Record]
    # Fraction of the file read so far, for a progress bar.
    progress: Callable[[], float]
    encoding: str = ""
    delimiter: str = ""

    @property
    def rows(self) -> Iterator[Row]:
        """The records as rows with their values by header."""
        headers, width = self.headers, len(self.headers)
        for line, cells in self.records:
            values = dict(zip(headers, cells, strict=False))
            yield Row(line, values, [c for c in cells[width:] if c])


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


def _bad_line(path: Path, encoding: str) -> int:
    """The first line that does not decode. The file is read again for it, on the error
    path only: the fast path decodes in blocks, ahead of the rows, and cannot say."""
    with path.open("rb") as raw:
        if encoding == "utf-16":
            text = io.TextIOWrapper(raw, encoding=encoding, newline="")
            try:
                line = 1
                while text.readline():
                    line += 1
            except UnicodeDecodeError:
                return line
            finally:
                text.detach()
            return line
        for line, data in enumerate(raw, start=1):
            try:
                (data.removeprefix(codecs.BOM_UTF8) if line == 1 else data).decode(encoding)
            except UnicodeDecodeError:
                return line
    return 0


def _decode_error(path: Path, encoding: str, exc: UnicodeDecodeError) -> ListFileError:
    return ListFileError(
        f"{path}: line {_bad_line(path, encoding)}: not valid {encoding} "
        f"({exc.reason}); save the file as UTF-8 and import it again"
    )


def _csv_records(reader: Any, width: int, path: Path, encoding: str) -> Iterator[Record]:
    last_line = reader.line_num
    strip = str.strip
    padding = [""] * width
    try:
        for cells in reader:
            start, last_line = last_line + 1, reader.line_num
            stripped = list(map(strip, cells))
            if not any(stripped):
                continue
            if len(stripped) < width:
                stripped += padding[len(stripped) :]
            yield start, stripped
    except UnicodeDecodeError as exc:
        raise _decode_error(path, encoding, exc) from None


def _text_reader(
    path: Path, text: io.TextIOWrapper, encoding: str, **dialect: Any
) -> tuple[Any, str]:
    """A csv reader over the decoded text, and its delimiter (found in the header line)."""
    try:
        first = text.readline()
    except UnicodeDecodeError as exc:
        raise _decode_error(path, encoding, exc) from None
    if not first:
        raise ListFileError(f"{path}: the file is empty")
    delimiter = detect_delimiter(first)
    return csv.reader(chain((first,), text), delimiter=delimiter, **dialect), delimiter


@contextmanager
def _decoded(raw: IO[bytes], encoding: str) -> Iterator[io.TextIOWrapper]:
    # Decoded in blocks by the io module and split by the csv module, both in C: the
    # line-by-line decode this replaces cost more than all the rest of the reading.
    text = io.TextIOWrapper(raw, encoding=encoding, newline="")
    try:
        yield text
    finally:
        # The binary file belongs to the caller: do not let the wrapper close it.
        text.detach()


@contextmanager
def _open_csv(path: Path, raw: IO[bytes], sample: bytes) -> Iterator[ListFile]:
    encoding = detect_encoding(sample, path)
    with _decoded(raw, encoding) as text:
        reader, delimiter = _text_reader(path, text, encoding, quotechar='"', strict=False)
        headers = _unique_headers(next(reader))
        size = max(path.stat().st_size, 1)
        yield ListFile(
            path,
            "csv",
            headers,
            _csv_records(reader, len(headers), path, encoding),
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

        def data() -> Iterator[Record]:
            width = len(headers)
            for line, cells in enumerate(rows, start=2):
                position[0] = line
                texts = [_cell_text(c) for c in cells]
                if not any(texts):
                    continue
                if len(texts) < width:
                    texts += [""] * (width - len(texts))
                yield line, texts

        yield ListFile(path, "xlsx", headers, data(), lambda: min(position[0] / total, 1.0))
    finally:
        book.close()


@contextmanager
def _opened_bytes(path: Path) -> Iterator[tuple[IO[bytes], bytes]]:
    """The file and its first megabyte; ListFileError if it is missing or empty."""
    try:
        raw = path.open("rb")
    except OSError as exc:
        raise ListFileError(f"{path}: cannot open ({exc.strerror})") from None
    with raw:
        sample = raw.read(_SAMPLE_BYTES)
        if not sample:
            raise ListFileError(f"{path}: the file is empty")
        raw.seek(0)
        yield raw, sample


@contextmanager
def open_list(path: Path) -> Iterator[ListFile]:
    """Open a CSV or XLSX list (the content decides, not the extension)."""
    with _opened_bytes(path) as (raw, sample):
        if sample.startswith(_ZIP_MAGIC):
            with _open_xlsx(path, raw) as opened:
                yield opened
            return
        with _open_csv(path, raw, sample) as opened:
            yield opened


@contextmanager
def open_raw_csv(path: Path) -> Iterator[tuple[list[str], Iterator[list[str]]]]:
    """Header and raw cell lists of a CSV (rows may be longer than the header)."""
    with _opened_bytes(path) as (raw, sample):
        encoding = detect_encoding(sample, path)
        with _decoded(raw, encoding) as text:
            reader, _ = _text_reader(path, text, encoding)
            try:
                header = next(reader)
            except UnicodeDecodeError as exc:
                raise _decode_error(path, encoding, exc) from None

            def rows() -> Iterator[list[str]]:
                try:
                    yield from reader
                except UnicodeDecodeError as exc:
                    raise _decode_error(path, encoding, exc) from None

            yield header, rows()
