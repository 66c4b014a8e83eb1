"""The configuration reference stays complete: every setting in the code is documented."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

from phonebank.config import Config

DOC = Path(__file__).resolve().parents[2] / "docs" / "configuration.md"


def _documented() -> set[str]:
    found: set[str] = set()
    section = ""
    for line in DOC.read_text(encoding="utf-8").splitlines():
        heading = re.match(r"## `\[(\w+)\]`", line)
        if heading:
            section = heading.group(1)
        row = re.match(r"\| `(\w+)` \|", line)
        if row and section:
            found.add(f"{section}.{row.group(1)}")
    return found


def test_every_setting_is_in_the_configuration_reference() -> None:
    config = Config()
    settings = {
        f"{section.name}.{key.name}"
        for section in dataclasses.fields(config)
        for key in dataclasses.fields(getattr(config, section.name))
    }
    documented = _documented()
    assert settings - documented == set(), "add these to docs/configuration.md"
    assert documented - settings == set(), "docs/configuration.md names settings that do not exist"
