"""Errors of the hardware package; each names what is wrong and where."""

from __future__ import annotations


class HardwareError(Exception):
    """A problem with the station inventory or the DAHDI tools' output."""


class ParseError(HardwareError):
    """Output of dahdi_scan or dahdi_hardware that does not read as expected."""

    def __init__(self, source: str, line: int, message: str) -> None:
        super().__init__(f"{source}, line {line}: {message}")
        self.source = source
        self.line = line
