"""Reading list files: encodings, delimiters, quoting, CRLF, XLSX, unreadable files."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

import pytest
from openpyxl import Workbook

from phonebank.lists.errors import ListFileError
from phonebank.lists.reader import Row, open_list

HEADER = ["Nom", "Prénom", "Téléphone", "Ville"]
ROWS = [["Dupont", "Amélie", "06 12 34 56 78", "Saint-Étienne"], ["Ngô", "Zoë", "", "Orléans"]]


def write_csv(path: Path, encoding: str, delimiter: str, newline: str = "\n") -> Path:
    lines = [delimiter.join(HEADER), *(delimiter.join(r) for r in ROWS)]
    path.write_bytes((newline.join(lines) + newline).encode(encoding))
    return path


def read_all(path: Path) -> tuple[list[str], list[Row], str, str]:
    with open_list(path) as opened:
        rows = list(opened.rows)
        assert opened.progress() == pytest.approx(1.0, abs=0.01)
        return opened.headers, rows, opened.encoding, opened.delimiter


@pytest.mark.parametrize(
    ("encoding", "detected"),
    [
        ("utf-8", "utf-8"),
        ("utf-8-sig", "utf-8-sig"),
        ("cp1252", "cp1252"),
        ("latin-1", "cp1252"),
        ("utf-16", "utf-16"),
    ],
)
@pytest.mark.parametrize("delimiter", [";", ",", "\t"])
def test_encodings_and_delimiters(
    tmp_path: Path, encoding: str, detected: str, delimiter: str
) -> None:
    path = write_csv(tmp_path / "list.csv", encoding, delimiter, newline="\r\n")
    headers, rows, found_encoding, found_delimiter = read_all(path)
    assert headers == HEADER
    assert (found_encoding, found_delimiter) == (detected, delimiter)
    assert [r.line for r in rows] == [2, 3]
    assert rows[0].values == dict(zip(HEADER, ROWS[0], strict=True))
    assert rows[1].values["Prénom"] == "Zoë"


def test_latin1_bytes_undefined_in_cp1252(tmp_path: Path) -> None:
    path = tmp_path / "l.csv"
    path.write_bytes(b"Nom;Tel\nA\x81b;0612345678\n")
    _, rows, encoding, _ = read_all(path)
    assert encoding == "latin-1"
    assert rows[0].values["Nom"] == "A\x81b"


def test_quoted_fields_multiline_records_and_line_numbers(tmp_path: Path) -> None:
    path = tmp_path / "q.csv"
    path.write_text(
        'Nom,Adresse,Tel\r\n"Martin, Jean","12 rue ""Haute""\r\nBât. B",0612345678\r\n'
        "\r\n"
        "Durand,,0712345678\r\n"
        ",,\r\n"
        "Petit,x,0612345679,surplus\r\n",
        encoding="utf-8",
    )
    _, rows, _, delimiter = read_all(path)
    assert delimiter == ","
    assert [r.line for r in rows] == [2, 5, 7]
    assert rows[0].values["Nom"] == "Martin, Jean"
    assert rows[0].values["Adresse"] == '12 rue "Haute"\r\nBât. B'
    assert rows[2].extra == ["surplus"]
    assert rows[1].extra == []


def test_short_rows_and_duplicate_or_blank_headers(tmp_path: Path) -> None:
    path = tmp_path / "d.csv"
    path.write_text("Tel;Tel;;X\n0612345678\n", encoding="utf-8")
    headers, rows, _, _ = read_all(path)
    assert headers == ["Tel", "Tel (2)", "column 3", "X"]
    assert rows[0].values == {"Tel": "0612345678", "Tel (2)": "", "column 3": "", "X": ""}


def test_xlsx_streamed_with_typed_cells(tmp_path: Path) -> None:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["NOM", "PRÉNOM", "TÉL", "Date de naissance", "Score"])
    sheet.append(["Dupont", "Léa", 612345678, datetime(1980, 5, 17), 2.5])
    sheet.append([None, None, None, None, None])
    sheet.append(["Roux", "Ana", "07 12 34 56 78", date(1990, 1, 2), 3.0])
    path = tmp_path / "list.xlsx"
    book.save(path)
    headers, rows, _, _ = read_all(path)
    assert headers == ["NOM", "PRÉNOM", "TÉL", "Date de naissance", "Score"]
    assert [r.line for r in rows] == [2, 4]
    assert rows[0].values == {
        "NOM": "Dupont",
        "PRÉNOM": "Léa",
        "TÉL": "612345678",
        "Date de naissance": "1980-05-17",
        "Score": "2.5",
    }
    assert rows[1].values["Score"] == "3"


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "the file is empty"),
        (b"\x00\x01\x02binary", "binary content"),
        (b"PK\x03\x04not really a zip", "not a readable XLSX workbook"),
    ],
)
def test_unreadable_files_name_the_file(tmp_path: Path, content: bytes, message: str) -> None:
    path = tmp_path / "bad.csv"
    path.write_bytes(content)
    with pytest.raises(ListFileError) as caught, open_list(path) as opened:
        list(opened.rows)
    assert str(path) in str(caught.value)
    assert message in str(caught.value)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ListFileError, match="cannot open"), open_list(tmp_path / "none.csv"):
        pass


def test_invalid_utf8_after_the_sample_names_the_line(tmp_path: Path) -> None:
    path = tmp_path / "late.csv"
    body = "Nom;Tel\n" + "Élodie;0612345678\n" * 70_000
    path.write_bytes(body.encode("utf-8") + b"Bad\xff;0612345678\n")
    with pytest.raises(ListFileError, match=r"line 70002: not valid utf-8"), open_list(path) as f:
        for _ in f.rows:
            pass
