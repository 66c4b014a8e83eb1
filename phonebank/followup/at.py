"""The AT command responses of a modem (3GPP TS 27.007 / 27.005), without a port.

`parse(buffer)` takes the bytes read so far and returns the complete frames
in them plus the bytes it could not use yet (an unfinished line, or a `+CDS:`
header whose PDU line has not arrived). The serial port lives in `modem.py`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

EOL = b"\r\n"
PROMPT = b"> "

# Lines that end a command. Error codes follow `+CMS ERROR:` / `+CME ERROR:`.
_FINAL_OK = {"OK"}
_FINAL_ERRORS = {"ERROR", "NO CARRIER", "NO DIALTONE", "BUSY", "NO ANSWER", "COMMAND NOT SUPPORT"}
_ERROR_PREFIXES = ("+CMS ERROR:", "+CME ERROR:")
# Unsolicited result codes this driver listens to. `+CDS:` and `+CMT:` carry a PDU
# on the next line. `+CREG: <stat>` with one value is unsolicited; with two it answers AT+CREG?.
_URC_PREFIXES = ("+CMTI:", "+CDSI:", "+CDS:", "+CMT:", "RING", "+CBM:", "^RSSI:", "^BOOT:")
_TWO_LINE_URCS = ("+CDS:", "+CMT:", "+CBM:")
_CREG_URC = re.compile(r"^\+CREG: *\d+$")


@dataclass(frozen=True)
class Line:
    """An information line answering the current command."""

    text: str


@dataclass(frozen=True)
class Final:
    """The end of a command: OK, or an error with its code (None for a bare ERROR)."""

    text: str
    ok: bool
    error_code: int | None = None


@dataclass(frozen=True)
class Urc:
    """An unsolicited result code: `name` (e.g. "+CMTI"), its arguments, a PDU if any."""

    name: str
    args: tuple[str, ...]
    pdu: str = ""


@dataclass(frozen=True)
class Prompt:
    """The `> ` that invites the PDU after AT+CMGS."""


Frame = Line | Final | Urc | Prompt


def split_args(text: str) -> tuple[str, ...]:
    """`"SM",3` → ("SM", "3"): commas outside quotes split, quotes are dropped."""
    args: list[str] = []
    current: list[str] = []
    quoted = False
    for char in text:
        if char == '"':
            quoted = not quoted
        elif char == "," and not quoted:
            args.append("".join(current).strip())
            current = []
        else:
            current.append(char)
    if current or args:
        args.append("".join(current).strip())
    return tuple(args)


def _classify(text: str) -> Final | Urc | Line:
    if text in _FINAL_OK:
        return Final(text, ok=True)
    if text in _FINAL_ERRORS:
        return Final(text, ok=False)
    for prefix in _ERROR_PREFIXES:
        if text.startswith(prefix):
            detail = text[len(prefix) :].strip()
            code = int(detail) if detail.isdigit() else None
            return Final(text, ok=False, error_code=code)
    if _CREG_URC.match(text):
        return Urc("+CREG", split_args(text.partition(":")[2]))
    for prefix in _URC_PREFIXES:
        if text.startswith(prefix):
            name = prefix.rstrip(":")
            return Urc(name, split_args(text[len(prefix) :]) if prefix.endswith(":") else ())
    return Line(text)


def parse(buffer: bytes) -> tuple[list[Frame], bytes]:
    """Complete frames in `buffer`, and the bytes left for the next read."""
    frames: list[Frame] = []
    pos = 0
    while pos < len(buffer):
        # Blank lines (the CR LF around every response) carry nothing.
        if buffer.startswith(EOL, pos) or buffer[pos : pos + 1] in (b"\r", b"\n"):
            if buffer[pos : pos + 1] == b"\r" and pos + 1 == len(buffer):
                break  # a lone CR may be the start of CR LF
            pos += 2 if buffer.startswith(EOL, pos) else 1
            continue
        if buffer.startswith(PROMPT, pos):
            frames.append(Prompt())
            pos += len(PROMPT)
            continue
        end = buffer.find(b"\r", pos)
        newline = buffer.find(b"\n", pos)
        if end < 0 or (0 <= newline < end):
            end = newline
        if end < 0:
            break
        text = buffer[pos:end].decode("latin-1").strip()
        frame = _classify(text)
        after = end + 1
        if isinstance(frame, Urc) and text.startswith(_TWO_LINE_URCS):
            pdu_line, after = _next_line(buffer, after)
            if pdu_line is None:
                break  # wait for the PDU line
            frame = Urc(frame.name, frame.args, pdu_line)
        frames.append(frame)
        pos = after
    return frames, buffer[pos:]


def _next_line(buffer: bytes, pos: int) -> tuple[str | None, int]:
    """The next non-empty line after `pos`, if complete, and the position after it."""
    while pos < len(buffer) and buffer[pos : pos + 1] in (b"\r", b"\n"):
        pos += 1
    end = buffer.find(b"\r", pos)
    if end < 0:
        end = buffer.find(b"\n", pos)
    if end < 0:
        return None, pos
    return buffer[pos:end].decode("latin-1").strip(), end + 1
