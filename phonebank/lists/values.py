"""Cell values → contact fields: dates, support levels, tags, names. Pure."""

from __future__ import annotations

import re
from datetime import date, datetime

from phonebank.db.enums import SupportLevel
from phonebank.lists.headers import fold

_DATE_FORMATS = ("%d/%m/%Y", "%d-%m-%Y", "%d.%m.%Y", "%Y-%m-%d", "%Y/%m/%d", "%d/%m/%y")

_SUPPORT: dict[str, SupportLevel] = {}
for _level, _words in {
    SupportLevel.STRONG_SUPPORTER: (
        "strong supporter",
        "supporter",
        "soutien",
        "soutien fort",
        "militant",
        "adherent",
        "favorable",
        "tres favorable",
        "pour",
        "1",
    ),
    SupportLevel.LEAN_SUPPORTER: (
        "lean supporter",
        "sympathisant",
        "plutot favorable",
        "plutot pour",
        "2",
    ),
    SupportLevel.UNDECIDED: ("undecided", "indecis", "hesitant", "ne sait pas", "nsp", "3"),
    SupportLevel.LEAN_OPPOSED: ("lean opposed", "plutot defavorable", "plutot contre", "4"),
    SupportLevel.OPPOSED: (
        "opposed",
        "oppose",
        "opposant",
        "hostile",
        "defavorable",
        "contre",
        "5",
    ),
    SupportLevel.UNKNOWN: ("unknown", "inconnu", "", "0", "non renseigne"),
}.items():
    for _word in _words:
        _SUPPORT[_word] = _level
_SUPPORT.update({level.value.replace("_", " "): level for level in SupportLevel})

_TAG_SPLIT = re.compile(r"[,;|]")


_DMY = re.compile(r"^(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})$")
_YMD = re.compile(r"^(\d{4})-(\d{2})-(\d{2})")
# Birth dates repeat (a century holds 36,500 days): the two shapes above, parsed once
# each. Bounded, so a long import's memory stays flat; strptime's shapes are not kept
# (a 2-digit year depends on today).
_SEEN_DATES_MAX = 1 << 16
_seen_dates: dict[str, date | None] = {}


def parse_date(text: str) -> date | None:
    """A birth date as French and ISO lists write it; None if it is not one."""
    text = text.strip()
    if not text:
        return None
    if text in _seen_dates:
        return _seen_dates[text]
    # The two common shapes without strptime (20 µs each on a million rows).
    for pattern, order in ((_DMY, (3, 2, 1)), (_YMD, (1, 2, 3))):
        match = pattern.match(text)
        if match is not None:
            try:
                found: date | None = date(*(int(match.group(i)) for i in order))
            except ValueError:
                found = None
            if len(_seen_dates) >= _SEEN_DATES_MAX:
                _seen_dates.clear()
            _seen_dates[text] = found
            return found
    if "T" in text or (len(text) > 10 and text[4] == "-"):
        text = text[:10]
    for fmt in _DATE_FORMATS:
        try:
            parsed = datetime.strptime(text, fmt).date()
        except ValueError:
            continue
        if fmt.endswith("%y") and parsed.year > date.today().year:
            parsed = parsed.replace(year=parsed.year - 100)
        return parsed
    return None


def parse_support(text: str) -> SupportLevel | None:
    """A support level from FR/EN words or a 1 (strong) .. 5 (opposed) scale."""
    if text in _seen_support:
        return _seen_support[text]
    level = _SUPPORT.get(fold(text))
    if len(_seen_support) >= _SEEN_SUPPORT_MAX:
        _seen_support.clear()
    _seen_support[text] = level
    return level


# A column of support levels holds a handful of spellings: each is folded once.
_SEEN_SUPPORT_MAX = 4096
_seen_support: dict[str, SupportLevel | None] = {}


def parse_tags(text: str) -> list[str]:
    return [t.strip() for t in _TAG_SPLIT.split(text) if t.strip()]


def name_key(last_name: str, first_name: str) -> str:
    """Names compared without case, accents, hyphens or extra spaces."""
    return f"{_fold_name(last_name)}|{_fold_name(first_name)}"


def identity_key(name: str, born: date | None) -> str | None:
    """A name_key and a birth date: enough to say two rows are one person (None without
    a name or a date)."""
    return None if born is None or name == "|" else f"{name}|{born.isoformat()}"


# Names repeat (a list of a million people holds a few thousand first names): each is
# folded once. Bounded, so a long import's memory stays flat.
_FOLDED_MAX = 1 << 16
_folded: dict[str, str] = {}


def _fold_name(text: str) -> str:
    found = _folded.get(text)
    if found is None:
        if len(_folded) >= _FOLDED_MAX:
            _folded.clear()
        found = _folded[text] = fold(text)
    return found
