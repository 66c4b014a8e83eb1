"""SMS PDUs (3GPP TS 23.040): SMS-SUBMIT out, SMS-DELIVER and SMS-STATUS-REPORT in.

Pure functions over bytes. `build_submits` turns a text and a destination into
the TPDUs to hand to `AT+CMGS`, one per part, each preceded by an empty SMSC
address (octet 00: the SIM's service centre is used).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone

from phonebank.followup.errors import EncodingError, PduError
from phonebank.followup.gsm import (
    Alphabet,
    decode_gsm7,
    decode_ucs2,
    pack_septets,
    split_text,
    unpack_septets,
)

# First octet of an SMS-SUBMIT.
MTI_SUBMIT = 0x01
VPF_RELATIVE = 0x10
SRR = 0x20  # status report requested
UDHI = 0x40  # user data starts with a header
TOA_INTERNATIONAL = 0x91
TOA_UNKNOWN = 0x81
TON_ALPHANUMERIC = 0x50
IE_CONCAT_8 = 0x00
IE_CONCAT_16 = 0x08
DCS_GSM7 = 0x00
DCS_UCS2 = 0x08

_E164 = re.compile(r"^\+[1-9][0-9]{5,14}$")


def encode_semi_octets(digits: str) -> bytes:
    """Digits swapped in pairs, padded with F (23.040 §9.1.2.3)."""
    if len(digits) % 2:
        digits += "F"
    return bytes.fromhex("".join(digits[i + 1] + digits[i] for i in range(0, len(digits), 2)))


def decode_semi_octets(data: bytes) -> str:
    text = data.hex().upper()
    swapped = "".join(text[i + 1] + text[i] for i in range(0, len(text), 2))
    return swapped.rstrip("F")


def encode_address(e164: str) -> bytes:
    """A destination address: digit count, type of number (international), digits."""
    if not _E164.match(e164):
        raise EncodingError(f"destination {e164!r} is not an E.164 number (+ and 6-15 digits)")
    digits = e164[1:]
    return bytes([len(digits), TOA_INTERNATIONAL]) + encode_semi_octets(digits)


def validity_octet(minutes: int) -> int:
    """Relative validity period (23.040 §9.2.3.12.1), rounded down to a step it can say."""
    if minutes <= 12 * 60:
        return max(0, min(143, minutes // 5 - 1))
    if minutes <= 24 * 60:
        return 143 + (minutes - 12 * 60) // 30
    if minutes <= 30 * 24 * 60:
        return max(168, 166 + minutes // (24 * 60))
    return min(255, 192 + minutes // (7 * 24 * 60))


@dataclass(frozen=True)
class Submit:
    """One TPDU to send, as `AT+CMGS=<tpdu_length>` wants it."""

    pdu: bytes  # SMSC octet (00) + TPDU
    tpdu_length: int
    part: int
    parts: int

    @property
    def hex(self) -> str:
        return self.pdu.hex().upper()


def build_submits(
    destination: str,
    text: str,
    *,
    reference: int = 0,
    status_report: bool = True,
    validity_minutes: int = 24 * 60,
) -> list[Submit]:
    """The SMS-SUBMIT PDUs for `text` to `destination` (E.164), one per part.

    `reference` (0-255) ties the parts of one concatenated message together.
    """
    parts = split_text(text)
    total = len(parts)
    address = encode_address(destination)
    out: list[Submit] = []
    for number, part in enumerate(parts, start=1):
        first = MTI_SUBMIT | VPF_RELATIVE | (SRR if status_report else 0)
        header = b""
        if total > 1:
            first |= UDHI
            header = bytes([5, IE_CONCAT_8, 3, reference & 0xFF, total, number])
        if part.alphabet is Alphabet.GSM7:
            dcs = DCS_GSM7
            # The header is padded to a septet boundary; UDL counts septets, header included.
            header_septets = (len(header) * 8 + 6) // 7
            fill = header_septets * 7 - len(header) * 8
            body = pack_septets(part.septets, fill)
            # pack_septets starts at bit `fill` of the first body octet: the header's own
            # octets come before, so the fill bits sit right after the header.
            user_data = header + body
            udl = header_septets + len(part.septets)
        else:
            dcs = DCS_UCS2
            user_data = header + part.octets
            udl = len(user_data)
        tpdu = (
            bytes([first, 0x00])  # TP-MR 0: the modem assigns the reference
            + address
            + bytes([0x00, dcs, validity_octet(validity_minutes), udl])
            + user_data
        )
        out.append(Submit(b"\x00" + tpdu, len(tpdu), number, total))
    return out


@dataclass(frozen=True)
class Concat:
    reference: int
    total: int
    sequence: int


@dataclass(frozen=True)
class Deliver:
    """An incoming SMS (one part; see `Concat` to join parts)."""

    sender: str
    text: str
    timestamp: datetime
    concat: Concat | None = None
    smsc: str = ""


@dataclass(frozen=True)
class StatusReport:
    """The network's delivery report for the message with reference `reference`."""

    reference: int
    recipient: str
    status: int
    submitted_at: datetime
    done_at: datetime

    @property
    def delivered(self) -> bool:
        return self.status < 0x20  # 0x00-0x1F: transaction completed (23.040 §9.2.3.15)

    @property
    def final(self) -> bool:
        return not 0x20 <= self.status < 0x40  # 0x2x: the SC is still trying


@dataclass
class _Reader:
    data: bytes
    pos: int = 0
    where: list[str] = field(default_factory=list)

    def take(self, count: int, what: str) -> bytes:
        if self.pos + count > len(self.data):
            raise PduError(
                f"PDU too short: {what} needs {count} octet(s) at offset {self.pos}, "
                f"{len(self.data) - self.pos} left"
            )
        chunk = self.data[self.pos : self.pos + count]
        self.pos += count
        return chunk

    def octet(self, what: str) -> int:
        return self.take(1, what)[0]


def _read_address(reader: _Reader, what: str) -> str:
    digits = reader.octet(f"{what} length")
    toa = reader.octet(f"{what} type")
    raw = reader.take((digits + 1) // 2, what)
    if toa & 0x70 == TON_ALPHANUMERIC:
        return decode_gsm7(unpack_septets(raw, digits * 4 // 7))
    number = decode_semi_octets(raw)[:digits]
    return "+" + number if toa & 0x70 == 0x10 else number


def _read_timestamp(reader: _Reader, what: str) -> datetime:
    raw = decode_semi_octets(reader.take(7, what)).ljust(14, "0")
    try:
        year, month, day, hour, minute, second = (int(raw[i : i + 2]) for i in range(0, 12, 2))
        tz_byte = int(raw[12:14], 16)
        quarters = (tz_byte & 0x7F) // 16 * 10 + (tz_byte & 0x0F)
        negative = tz_byte & 0x80
        offset = timedelta(minutes=15 * quarters) * (-1 if negative else 1)
        local = datetime(2000 + year, month, day, hour, minute, second, tzinfo=timezone(offset))
    except ValueError as exc:
        raise PduError(f"{what}: bad timestamp {raw!r} at offset {reader.pos - 7}: {exc}") from None
    return local.astimezone(UTC)


def _alphabet_of(dcs: int) -> Alphabet | None:
    """GSM7, UCS2, or None for 8-bit data (23.038 §4)."""
    group = dcs & 0xF0
    if group in (0xC0, 0xD0):
        return Alphabet.GSM7
    if group == 0xE0:
        return Alphabet.UCS2
    if group == 0xF0:
        return None if dcs & 0x04 else Alphabet.GSM7
    coding = (dcs >> 2) & 0x03
    return {0: Alphabet.GSM7, 2: Alphabet.UCS2}.get(coding)


def _read_user_data(reader: _Reader, dcs: int, has_header: bool) -> tuple[str, Concat | None]:
    udl = reader.octet("TP-UDL")
    rest = reader.data[reader.pos :]
    alphabet = _alphabet_of(dcs)
    concat: Concat | None = None
    header_len = 0
    if has_header:
        if not rest:
            raise PduError("TP-UDHI set but the user data is empty")
        header_len = rest[0] + 1
        concat = _read_concat(rest[1:header_len])
    if alphabet is Alphabet.GSM7:
        header_septets = (header_len * 8 + 6) // 7
        fill = header_septets * 7 - header_len * 8
        septets = unpack_septets(rest[header_len:], udl - header_septets, fill)
        return decode_gsm7(septets), concat
    body = rest[header_len:udl]
    if alphabet is Alphabet.UCS2:
        return decode_ucs2(body[: len(body) // 2 * 2]), concat
    return body.decode("latin-1"), concat


def _read_concat(header: bytes) -> Concat | None:
    pos = 0
    while pos + 2 <= len(header):
        iei, length = header[pos], header[pos + 1]
        value = header[pos + 2 : pos + 2 + length]
        if iei == IE_CONCAT_8 and length == 3:
            return Concat(value[0], value[1], value[2])
        if iei == IE_CONCAT_16 and length == 4:
            return Concat(value[0] << 8 | value[1], value[2], value[3])
        pos += 2 + length
    return None


def _read_smsc(reader: _Reader) -> str:
    length = reader.octet("SMSC length")
    if length == 0:
        return ""
    toa = reader.octet("SMSC type")
    digits = decode_semi_octets(reader.take(length - 1, "SMSC address"))
    return "+" + digits if toa & 0x70 == 0x10 else digits


def decode_incoming(pdu_hex: str) -> Deliver | StatusReport:
    """Decode a PDU as the modem lists it (SMSC address first)."""
    try:
        data = bytes.fromhex(pdu_hex.strip())
    except ValueError:
        raise PduError(f"PDU is not hexadecimal: {pdu_hex[:40]!r}") from None
    reader = _Reader(data)
    smsc = _read_smsc(reader)
    first = reader.octet("first octet")
    mti = first & 0x03
    if mti == 0x00:
        sender = _read_address(reader, "TP-OA")
        reader.octet("TP-PID")
        dcs = reader.octet("TP-DCS")
        timestamp = _read_timestamp(reader, "TP-SCTS")
        text, concat = _read_user_data(reader, dcs, bool(first & UDHI))
        return Deliver(sender, text, timestamp, concat, smsc)
    if mti == 0x02:
        reference = reader.octet("TP-MR")
        recipient = _read_address(reader, "TP-RA")
        submitted = _read_timestamp(reader, "TP-SCTS")
        done = _read_timestamp(reader, "TP-DT")
        status = reader.octet("TP-ST")
        return StatusReport(reference, recipient, status, submitted, done)
    raise PduError(f"unexpected message type {mti} (first octet {first:#04x}) in an incoming PDU")
