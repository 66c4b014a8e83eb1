"""Domain errors of the volunteer screen, each with a stable code.

The web layer maps a code to an HTTP status and a translated message; the
domain knows nothing of HTTP.
"""

from __future__ import annotations


class VolunteerError(Exception):
    """A refused action; `code` is stable (tests, translations, the page's script)."""

    def __init__(self, code: str, detail: str = "") -> None:
        super().__init__(f"{code}: {detail}" if detail else code)
        self.code = code
        self.detail = detail


# Codes and the HTTP status each maps to.
STATUS = {
    "station_unknown": 404,
    "station_taken": 409,
    "not_paired": 409,
    "not_your_call": 404,
    "unknown_contact": 404,
    "unknown_disposition": 422,
    "bad_answer": 422,
    "bad_callback": 422,
    "callback_required": 422,
    "bad_request": 400,
    "no_offer": 409,
}
