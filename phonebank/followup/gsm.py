"""The GSM 03.38 alphabet, septet packing, UCS-2 and splitting text into SMS parts.

Pure functions. A text goes out in the GSM 7-bit default alphabet (with its
extension table, reached through the escape septet 0x1B) when every character
is in it, otherwise in UCS-2 (UTF-16 code units, so that a character outside
the Basic Multilingual Plane still travels, as phones expect).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from phonebank.followup.errors import EncodingError

ESCAPE = 0x1B

# 3GPP TS 23.038 §6.2.1, indexed by septet value; 0x1B is the escape to the extension table.
BASIC = (
    "@£$¥èéùìòÇ\nØø\rÅå"
    "Δ_ΦΓΛΩΠΨΣΘΞ\x1bÆæßÉ"
    " !\"#¤%&'()*+,-./"
    "0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNO"
    "PQRSTUVWXYZÄÖÑÜ§"
    "¿abcdefghijklmno"
    "pqrstuvwxyzäöñüà"
)
EXTENSION = {
    0x0A: "\f",
    0x14: "^",
    0x28: "{",
    0x29: "}",
    0x2F: "\\",
    0x3C: "[",
    0x3D: "~",
    0x3E: "]",
    0x40: "|",
    0x65: "€",
}
_BASIC_INDEX = {char: index for index, char in enumerate(BASIC) if index != ESCAPE}
_EXTENSION_INDEX = {char: index for index, char in EXTENSION.items()}

# Characters per part: a single message, or one part of a concatenated one
# (the 6-octet concatenation header takes 7 septets or 6 octets).
GSM_SINGLE, GSM_PART = 160, 153
UCS2_SINGLE, UCS2_PART = 70, 67
MAX_PARTS = 255


class Alphabet(StrEnum):
    GSM7 = "gsm7"
    UCS2 = "ucs2"


def gsm_septets_of(char: str) -> tuple[int, ...] | None:
    """The septets of one character (two for the extension table), or None."""
    if char in _BASIC_INDEX:
        return (_BASIC_INDEX[char],)
    if char in _EXTENSION_INDEX:
        return (ESCAPE, _EXTENSION_INDEX[char])
    return None


def fits_gsm7(text: str) -> bool:
    return all(gsm_septets_of(char) is not None for char in text)


def choose_alphabet(text: str) -> Alphabet:
    return Alphabet.GSM7 if fits_gsm7(text) else Alphabet.UCS2


def encode_gsm7(text: str) -> list[int]:
    """Septet values of `text`; raises EncodingError naming the first foreign character."""
    out: list[int] = []
    for position, char in enumerate(text):
        septets = gsm_septets_of(char)
        if septets is None:
            raise EncodingError(
                f"character {char!r} (U+{ord(char):04X}) at position {position} "
                "is not in the GSM 7-bit alphabet"
            )
        out.extend(septets)
    return out


def decode_gsm7(septets: list[int] | tuple[int, ...]) -> str:
    """Text of septet values; an unknown escape gives the basic character (23.038)."""
    chars: list[str] = []
    escaped = False
    for value in septets:
        if escaped:
            chars.append(EXTENSION.get(value, BASIC[value] if value != ESCAPE else " "))
            escaped = False
        elif value == ESCAPE:
            escaped = True
        else:
            chars.append(BASIC[value])
    # A trailing lone escape is a spec violation; show it as a space rather than drop data.
    if escaped:
        chars.append(" ")
    return "".join(chars)


def pack_septets(septets: list[int] | tuple[int, ...], fill_bits: int = 0) -> bytes:
    """Pack septets LSB first; `fill_bits` zero bits first (to align after a header)."""
    value = 0
    shift = fill_bits
    for septet in septets:
        value |= (septet & 0x7F) << shift
        shift += 7
    length = (shift + 7) // 8
    return value.to_bytes(length, "little") if length else b""


def unpack_septets(data: bytes, count: int, fill_bits: int = 0) -> list[int]:
    """`count` septets from packed `data`, skipping `fill_bits` leading bits."""
    value = int.from_bytes(data, "little")
    if fill_bits + count * 7 > len(data) * 8:
        raise EncodingError(f"{count} septets need more than the {len(data)} octets given")
    return [(value >> (fill_bits + 7 * index)) & 0x7F for index in range(count)]


def encode_ucs2(text: str) -> bytes:
    return text.encode("utf-16-be", "surrogatepass")


def decode_ucs2(data: bytes) -> str:
    return data.decode("utf-16-be", "surrogatepass")


@dataclass(frozen=True)
class Part:
    """One SMS worth of user data: septet values (GSM7) or UTF-16 octets (UCS-2)."""

    alphabet: Alphabet
    septets: tuple[int, ...] = ()
    octets: bytes = b""

    @property
    def text(self) -> str:
        if self.alphabet is Alphabet.GSM7:
            return decode_gsm7(self.septets)
        return decode_ucs2(self.octets)

    @property
    def units(self) -> int:
        """Septets (GSM7) or UTF-16 code units (UCS-2)."""
        return len(self.septets) if self.alphabet is Alphabet.GSM7 else len(self.octets) // 2


def _group_sizes(sizes: list[int], limit: int) -> list[int]:
    """How many characters go in each part, given each character's size in units."""
    counts: list[int] = [0]
    used = 0
    for size in sizes:
        if used + size > limit:
            counts.append(0)
            used = 0
        counts[-1] += 1
        used += size
    return counts


def split_text(text: str) -> list[Part]:
    """The parts `text` goes out in: 160/70 alone, else 153/67 each.

    An escape sequence (GSM7) or a surrogate pair (UCS-2) is never split.
    """
    alphabet = choose_alphabet(text)
    if alphabet is Alphabet.GSM7:
        sizes = [len(gsm_septets_of(char) or ()) for char in text]
        single, each = GSM_SINGLE, GSM_PART
    else:
        sizes = [len(encode_ucs2(char)) // 2 for char in text]
        single, each = UCS2_SINGLE, UCS2_PART
    counts = [len(text)] if sum(sizes) <= single else _group_sizes(sizes, each)
    if len(counts) > MAX_PARTS:
        raise EncodingError(
            f"text of {len(text)} characters needs {len(counts)} SMS parts (at most {MAX_PARTS})"
        )
    parts: list[Part] = []
    start = 0
    for count in counts:
        chars = text[start : start + count]
        start += count
        if alphabet is Alphabet.GSM7:
            parts.append(Part(alphabet, septets=tuple(encode_gsm7(chars))))
        else:
            parts.append(Part(alphabet, octets=encode_ucs2(chars)))
    return parts
