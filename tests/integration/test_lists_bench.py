"""The import benchmark runs end to end on a small list (behaviour, not timing)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy.engine import URL

from phonebank.cli.main import main
from phonebank.lists.bench import generate
from phonebank.lists.phones import Phone, normalize


def test_generated_rows_are_all_valid(tmp_path: Path) -> None:
    path = tmp_path / "list.csv"
    phones = generate(path, 400)
    assert phones == 600
    lines = path.read_text(encoding="utf-8").splitlines()
    assert len(lines) == 401
    for line in lines[1:]:
        cells = line.split(";")
        for number in cells[2:4]:
            if number:
                assert isinstance(normalize(number, "FR", cells[4]), Phone), number


@pytest.mark.postgres
def test_bench_import_json(
    postgres_server_url: URL, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = postgres_server_url.render_as_string(hide_password=False)
    code = main(
        [
            "bench",
            "import",
            "--rows",
            "300",
            "--json",
            "--server-url",
            url,
            "--workdir",
            str(tmp_path),
        ]
    )
    assert code == 0
    result = json.loads(capsys.readouterr().out)
    assert result["rows"] == result["contacts_created"] == result["bulk_contacts_created"] == 300
    assert result["phones_valid"] == 450 and result["rejected"] == 0
    for key in (
        "import_rows_per_s",
        "bulk_import_rows_per_s",
        "copy_rows_per_s",
        "import_to_copy_ratio",
        "peak_rss_mb_after_import",
    ):
        assert result[key] > 0
    assert list(tmp_path.iterdir()) == []
