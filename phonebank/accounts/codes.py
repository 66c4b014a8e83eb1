"""Daily access codes: a supervisor hands one out, volunteers log in with it and their name.

Pure rules (the clock passed in). A code is 8 characters from an alphabet without
look-alikes (no 0/O, 1/I/L), shown as `K7QF-2M9P`: about 10^12 codes, against a login
limit of a few tries per address, so guessing one during its day is hopeless.
"""

from __future__ import annotations

import hashlib
import re
import secrets
import unicodedata
from dataclasses import dataclass
from datetime import datetime, timedelta

ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
CODE_LENGTH = 8
MAX_VALIDITY = timedelta(days=7)
NAME_MAX = 64


def generate_code() -> str:
    return "".join(secrets.choice(ALPHABET) for _ in range(CODE_LENGTH))


def normalize_code(typed: str) -> str:
    """What a person typed (`k7qf 2m9p`, `K7QF-2M9P`) → the stored form `K7QF2M9P`."""
    return re.sub(r"[\s\-_.]", "", typed).upper()


def format_code(code: str) -> str:
    return f"{code[:4]}-{code[4:]}" if len(code) == CODE_LENGTH else code


@dataclass(frozen=True)
class CodeWindow:
    valid_from: datetime
    valid_until: datetime
    revoked_at: datetime | None


def code_usable(window: CodeWindow, now: datetime) -> bool:
    if window.revoked_at is not None and window.revoked_at <= now:
        return False
    return window.valid_from <= now < window.valid_until


def validity(now: datetime, hours: float) -> tuple[datetime, datetime]:
    """The period of a new code: from now, for `hours` (at most a week)."""
    length = timedelta(hours=hours)
    if length <= timedelta(0) or length > MAX_VALIDITY:
        raise ValueError(f"a code is valid between a few minutes and {MAX_VALIDITY.days} days")
    return now, now + length


def clean_volunteer_name(typed: str) -> str:
    """The name a volunteer types beside the code, tidied; ValueError when unusable."""
    name = " ".join(unicodedata.normalize("NFC", typed).split())
    if not name:
        raise ValueError("empty name")
    if len(name) > NAME_MAX:
        raise ValueError("name too long")
    if any(unicodedata.category(ch).startswith("C") for ch in name):
        raise ValueError("control characters in name")
    return name


def guest_username(code_id: int, name: str) -> str:
    """One account per (code, name): the same volunteer coming back finds their calls.

    The readable part drops what is not ASCII, so a short hash of the whole name keeps
    "李雷" and "王芳" (or "Élodie" and "Elodie") apart.
    """
    folded = unicodedata.normalize("NFKD", name.casefold())
    slug = re.sub(r"[^a-z0-9]+", "-", folded.encode("ascii", "ignore").decode()).strip("-")
    digest = hashlib.sha256(name.casefold().encode()).hexdigest()[:8]
    return f"code{code_id}-{slug[:40] or 'guest'}-{digest}"
