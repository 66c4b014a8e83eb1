"""Reading submitted forms (pure): each reader returns the value or records an error
message under the field's name, so the page can show it beside that field."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date

from phonebank.admin import messages as m

Errors = dict[str, str]


class Form:
    """The text fields of one submission and the errors found while reading them."""

    def __init__(self, values: Mapping[str, str]) -> None:
        self.values = dict(values)
        self.errors: Errors = {}

    def fail(self, name: str, message: str) -> None:
        self.errors.setdefault(name, message)

    def raw(self, name: str) -> str:
        return self.values.get(name, "").strip()

    def text(self, name: str, *, required: bool = False, max_length: int = 255) -> str:
        value = self.raw(name)
        if required and not value:
            self.fail(name, m.REQUIRED)
        elif len(value) > max_length:
            self.fail(name, m.TOO_LONG)
        return value

    def checkbox(self, name: str) -> bool:
        return self.raw(name) in ("on", "1", "true", "yes")

    def choice(self, name: str, allowed: Iterable[str], default: str | None = None) -> str:
        value = self.raw(name) or (default or "")
        if value not in set(allowed):
            self.fail(name, m.UNKNOWN_CHOICE if value else m.REQUIRED)
        return value

    def integer(self, name: str, *, low: int, high: int, required: bool = False) -> int | None:
        value = self.raw(name)
        if not value:
            if required:
                self.fail(name, m.REQUIRED)
            return None
        try:
            number = int(value)
        except ValueError:
            self.fail(name, m.NOT_A_WHOLE_NUMBER)
            return None
        if not low <= number <= high:
            self.fail(name, m.OUT_OF_RANGE)
            return None
        return number

    def number(self, name: str, *, low: float, high: float, required: bool = False) -> float | None:
        value = self.raw(name).replace(",", ".")  # French decimal comma
        if not value:
            if required:
                self.fail(name, m.REQUIRED)
            return None
        try:
            number = float(value)
        except ValueError:
            self.fail(name, m.NOT_A_NUMBER)
            return None
        if not low <= number <= high:
            self.fail(name, m.OUT_OF_RANGE)
            return None
        return number

    def day(self, name: str) -> date | None:
        value = self.raw(name)
        if not value:
            return None
        try:
            return date.fromisoformat(value)
        except ValueError:
            self.fail(name, m.NOT_A_DATE)
            return None

    @property
    def ok(self) -> bool:
        return not self.errors
