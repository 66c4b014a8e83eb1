"""A non-editable install carries web/, asterisk-config/ and agi-scripts/ and finds them."""

from __future__ import annotations

import json
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "-w", str(out), str(ROOT)],
        check=True,
    )
    (built,) = out.glob("phonebank-*.whl")
    return built


def test_wheel_carries_the_data_folders(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    assert "phonebank/_data/web/templates/login.html" in names
    assert "phonebank/_data/web/static/app.css" in names
    assert "phonebank/_data/asterisk-config/manager.conf.j2" in names
    assert "phonebank/_data/asterisk-config/extensions.conf.j2" in names
    assert any(n.startswith("phonebank/_data/agi-scripts/") for n in names)
    assert any(n.startswith("phonebank/db/migrations/versions/") for n in names)


def test_installed_package_finds_its_folders_from_any_directory(
    wheel: Path, tmp_path: Path
) -> None:
    site = tmp_path / "site"
    zipfile.ZipFile(wheel).extractall(site)
    probe = (
        "import json, phonebank, phonebank.resources as r;"
        "print(json.dumps({'pkg': phonebank.__file__,"
        " 'dirs': [str(r.resource_dir(n)) for n in ('web', 'asterisk-config', 'agi-scripts')]}))"
    )
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    result = subprocess.run(
        [sys.executable, "-c", probe],
        cwd=elsewhere,
        env={"PYTHONPATH": str(site), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        check=True,
    )
    found = json.loads(result.stdout)
    assert found["pkg"].startswith(str(site))
    for folder in found["dirs"]:
        assert folder.startswith(str(site / "phonebank" / "_data"))
        assert any(Path(folder).iterdir())
