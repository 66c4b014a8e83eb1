"""Locate the data folders that ship beside the package.

In a source checkout (or an editable install) `web/`, `asterisk-config/` and
`agi-scripts/` sit next to the `phonebank/` package; a wheel carries them inside
the package as `phonebank/_data/...` (see `pyproject.toml`). Callers never guess:
they ask here, so the service works from any working directory.
"""

from __future__ import annotations

from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent
_NAMES = ("web", "asterisk-config", "agi-scripts")


class ResourceMissingError(RuntimeError):
    """A data folder the package needs is not installed."""


def resource_dir(name: str) -> Path:
    """Return the folder `name` ('web', 'asterisk-config' or 'agi-scripts')."""
    if name not in _NAMES:
        raise ValueError(f"unknown resource folder {name!r}; expected one of {_NAMES}")
    for candidate in (_PACKAGE / "_data" / name, _PACKAGE.parent / name):
        if candidate.is_dir():
            return candidate
    raise ResourceMissingError(
        f"the {name!r} folder was not found inside {_PACKAGE} nor beside it; "
        "reinstall phonebank (pip install .) from a complete checkout"
    )
