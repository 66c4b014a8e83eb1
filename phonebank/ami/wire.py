"""The AMI text format, without a socket: bytes in, messages out (and back).

The live client lets panoramisk read the socket; this module serves recorded
transcripts (tests/fixtures/ami) and test doubles, so that both read the wire
format exactly as Asterisk writes it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

EOL = b"\r\n"
END = b"\r\n\r\n"

Message = dict[str, str | list[str]]


def _add(message: Message, key: str, value: str) -> None:
    present = message.get(key)
    if present is None:
        message[key] = value
    elif isinstance(present, list):
        present.append(value)
    else:
        message[key] = [present, value]


def split_messages(buffer: bytes) -> tuple[list[Message], bytes]:
    """Complete messages in `buffer`, and the bytes of the unfinished one.

    Lines without `: ` (the `Asterisk Call Manager/x.y` banner) are skipped;
    repeated headers become a list, in order.
    """
    messages: list[Message] = []
    *blocks, rest = buffer.split(END)
    for block in blocks:
        message: Message = {}
        for line in block.decode("utf-8", "replace").split("\r\n"):
            key, sep, value = line.partition(": ")
            if sep and key:
                _add(message, key, value)
        if message:
            messages.append(message)
    return messages, rest


def format_message(headers: Mapping[str, str | Sequence[str]] | Iterable[tuple[str, str]]) -> bytes:
    """One message as Asterisk sends it (repeated headers from lists or pairs)."""
    pairs: list[tuple[str, str]] = []
    items = headers.items() if isinstance(headers, Mapping) else headers
    for key, value in items:
        if isinstance(value, str):
            pairs.append((key, value))
        else:
            pairs.extend((key, item) for item in value)
    return b"".join(f"{key}: {value}".encode() + EOL for key, value in pairs) + EOL
