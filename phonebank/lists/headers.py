"""Which column of a list holds what: French and English header synonyms.

Headers are compared after folding: accents removed, lower case, punctuation
and spaces collapsed ("Téléphone  portable" → "telephone portable"). A column
whose header is not recognised is kept as a custom field under its own header.
`--map COLUMN=FIELD` overrides the guess.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from phonebank.lists.errors import ListFileError

PHONE = "phone"
IGNORE = "ignore"
CUSTOM_PREFIX = "custom:"

# Contact fields a column can fill (besides "phone", "custom:NAME" and "ignore").
FIELDS = (
    "last_name",
    "first_name",
    "birth_name",
    "birth_date",
    "address_line1",
    "address_line2",
    "address_line3",
    "postal_code",
    "city",
    "country",
    "precinct",
    "support_level",
    "email",
    "tags",
    "external_id",
)

_SYNONYMS: dict[str, tuple[str, ...]] = {
    "last_name": (
        "nom",
        "nom d usage",
        "nom usage",
        "nom d epouse",
        "nom marital",
        "last name",
        "lastname",
        "surname",
        "family name",
    ),
    "birth_name": ("nom de naissance", "nom naissance", "nom de jeune fille", "birth name"),
    "first_name": ("prenom", "prenoms", "first name", "firstname", "given name", "forename"),
    "birth_date": (
        "date de naissance",
        "date naissance",
        "naissance",
        "ne le",
        "ne e le",
        "ddn",
        "birth date",
        "birthdate",
        "date of birth",
        "dob",
    ),
    "address_line1": ("adresse", "adresse 1", "adresse1", "address", "address 1", "address1"),
    "address_line2": ("adresse 2", "adresse2", "complement d adresse", "address 2", "address2"),
    "address_line3": ("adresse 3", "adresse3", "lieu dit", "address 3", "address3"),
    "postal_code": ("cp", "code postal", "codepostal", "zip", "zip code", "zipcode", "postcode"),
    "city": ("ville", "commune", "localite", "city", "town", "libelle commune"),
    "country": ("pays", "country"),
    "precinct": (
        "bureau",
        "bureau de vote",
        "bv",
        "code bureau",
        "n bureau",
        "precinct",
        "polling station",
        "ward",
    ),
    "support_level": (
        "statut",
        "soutien",
        "niveau de soutien",
        "support",
        "support level",
        "status",
    ),
    "email": ("e mail", "email", "mail", "courriel", "adresse mail", "adresse e mail"),
    "tags": ("tags", "etiquettes", "etiquette", "labels", "groupes"),
    "external_id": ("id", "identifiant", "external id", "numero electeur", "n electeur", "ref"),
}

# A header with one of these words is a phone column ("Tél. domicile", "Portable 2").
_PHONE_WORDS = frozenset(
    {"tel", "telephone", "tels", "fixe", "portable", "mobile", "phone", "gsm", "cell", "cellular"}
)

_LOOKUP: dict[str, str] = {
    synonym: field for field, synonyms in _SYNONYMS.items() for synonym in synonyms
}
_NON_ALNUM = re.compile(r"[^a-z0-9]+")


def _fold_slow(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text)
    bare = "".join(ch for ch in decomposed if not unicodedata.combining(ch)).lower()
    return _NON_ALNUM.sub(" ", bare).strip()


def _latin_table() -> dict[int, str]:
    """Each accented Latin letter (and each combining mark) → what _fold_slow keeps of it,
    where that is ASCII. Folding is then a str.translate, character by character: the same
    as decomposing the whole text, since only combining marks are ever reordered, and
    they are all dropped (tests/unit/test_lists_headers.py checks it)."""
    table: dict[int, str] = {}
    for code in range(0x80, 0x2000):
        kept = "".join(
            ch for ch in unicodedata.normalize("NFKD", chr(code)) if not unicodedata.combining(ch)
        )
        if kept.isascii():
            table[code] = kept
    return table


_LATIN = _latin_table()


def fold(text: str) -> str:
    """Text with accents, case and punctuation ignored ("Téléphone  PORTABLE" →
    "telephone portable"). Names are folded too, once per row of a list: the common case
    (Latin letters) goes through a translation table, the rest through Unicode's
    decomposition."""
    if not text.isascii():
        mapped = text.translate(_LATIN)
        if not mapped.isascii():
            return _fold_slow(text)
        text = mapped
    return _NON_ALNUM.sub(" ", text.lower()).strip()


def guess_field(header: str) -> str:
    """The field a header means, or "custom:<header>" when not recognised."""
    folded = fold(header)
    if folded in _LOOKUP:
        return _LOOKUP[folded]
    tokens = folded.split()
    if tokens and any(t in _PHONE_WORDS or t.rstrip("0123456789") in _PHONE_WORDS for t in tokens):
        return PHONE
    return CUSTOM_PREFIX + header.strip()


def _valid_target(target: str) -> bool:
    return (
        target in FIELDS
        or target in (PHONE, IGNORE)
        or (target.startswith(CUSTOM_PREFIX) and len(target) > len(CUSTOM_PREFIX))
    )


def parse_overrides(items: Iterable[str]) -> dict[str, str]:
    """`COLUMN=FIELD` pairs from the command line → {folded column: field}."""
    out: dict[str, str] = {}
    for item in items:
        column, sep, target = item.partition("=")
        column, target = column.strip(), target.strip()
        if not sep or not column or not target:
            raise ListFileError(f"--map {item!r}: expected COLUMN=FIELD")
        if not _valid_target(target):
            known = ", ".join((*FIELDS, PHONE, IGNORE, "custom:NAME"))
            raise ListFileError(f"--map {item!r}: unknown field {target!r} (known: {known})")
        out[fold(column)] = target
    return out


@dataclass(frozen=True)
class ColumnMap:
    """Column header → field, for one file."""

    fields: dict[str, str]

    @property
    def phone_columns(self) -> list[str]:
        return [h for h, f in self.fields.items() if f == PHONE]


def map_headers(
    headers: Sequence[str], overrides: Mapping[str, str] | None = None, source: str = ""
) -> ColumnMap:
    """Map each header; the first column claiming a single-valued field wins it."""
    overrides = dict(overrides or {})
    taken: set[str] = set()
    fields: dict[str, str] = {}
    known = {fold(h) for h in headers}
    missing = [c for c in overrides if c not in known]
    if missing:
        raise ListFileError(
            f"{source}: --map names column(s) not in the header: {', '.join(missing)}"
        )
    for header in headers:
        target = overrides.get(fold(header)) or guess_field(header)
        if target in FIELDS and target in taken:
            # A second "Nom" column: keep it, as a custom field, rather than lose it.
            target = CUSTOM_PREFIX + header.strip()
        taken.add(target)
        fields[header] = target
    return ColumnMap(fields)
