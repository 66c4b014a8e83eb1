"""The channel and bridge snapshots on AMI events, and tolerant header access.

Pure helpers of `phonebank.ami.events`: nothing here raises on odd input.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

# Put on every originated channel; Asterisk reports it back in `ChanVariable`
# headers once manager.conf lists it in `channelvars`.
ATTEMPT_VARIABLE = "PHONEBANK_ATTEMPT"

HeaderValue = str | Sequence[str]


class Headers:
    """Case-insensitive view of one message's headers, keeping repeated values."""

    def __init__(self, message: Mapping[str, HeaderValue]) -> None:
        self._values: dict[str, list[str]] = {}
        for key, value in message.items():
            values = [value] if isinstance(value, str) else [str(item) for item in value]
            self._values.setdefault(str(key).strip().lower(), []).extend(values)

    def get(self, key: str) -> str:
        values = self._values.get(key)
        return values[0].strip() if values else ""

    def all(self, key: str) -> list[str]:
        return self._values.get(key, [])

    def has(self, key: str) -> bool:
        return key in self._values

    def names(self) -> Iterable[str]:
        return self._values.keys()

    def flat(self) -> dict[str, str]:
        return {key: "\n".join(values) for key, values in self._values.items()}


def to_int(text: str) -> int | None:
    try:
        return int(text.strip())
    except ValueError:
        return None


def channel_variables(headers: Headers, prefix: str) -> dict[str, str]:
    """`ChanVariable: NAME=value` lines (also the pre-Asterisk-12 `ChanVariable(chan):`)."""
    base = f"{prefix}chanvariable"
    lines: list[str] = []
    for key in headers.names():
        if key == base or key.startswith(base + "("):
            lines.extend(headers.all(key))
    variables: dict[str, str] = {}
    for line in lines:
        name, sep, value = line.partition("=")
        if sep and name.strip():
            variables[name.strip()] = value
    return variables


@dataclass(frozen=True, kw_only=True)
class Channel:
    """The channel snapshot Asterisk puts on channel events."""

    name: str = ""
    uniqueid: str = ""
    linkedid: str = ""
    state: int | None = None
    state_desc: str = ""
    caller_id_num: str = ""
    caller_id_name: str = ""
    connected_line_num: str = ""
    connected_line_name: str = ""
    context: str = ""
    exten: str = ""
    priority: int | None = None
    variables: Mapping[str, str] = field(default_factory=dict)

    @property
    def attempt_id(self) -> str | None:
        return self.variables.get(ATTEMPT_VARIABLE) or None


def channel_snapshot(headers: Headers, prefix: str = "") -> Channel | None:
    name = headers.get(f"{prefix}channel")
    uniqueid = headers.get(f"{prefix}uniqueid")
    variables = channel_variables(headers, prefix)
    if not name and not uniqueid and not variables:
        return None
    return Channel(
        name=name,
        uniqueid=uniqueid,
        linkedid=headers.get(f"{prefix}linkedid"),
        state=to_int(headers.get(f"{prefix}channelstate")),
        state_desc=headers.get(f"{prefix}channelstatedesc"),
        caller_id_num=headers.get(f"{prefix}calleridnum"),
        caller_id_name=headers.get(f"{prefix}calleridname"),
        connected_line_num=headers.get(f"{prefix}connectedlinenum"),
        connected_line_name=headers.get(f"{prefix}connectedlinename"),
        context=headers.get(f"{prefix}context"),
        exten=headers.get(f"{prefix}exten"),
        priority=to_int(headers.get(f"{prefix}priority")),
        variables=variables,
    )


@dataclass(frozen=True, kw_only=True)
class Bridge:
    uniqueid: str = ""
    type: str = ""
    technology: str = ""
    creator: str = ""
    name: str = ""
    num_channels: int | None = None


def bridge_snapshot(headers: Headers) -> Bridge:
    return Bridge(
        uniqueid=headers.get("bridgeuniqueid"),
        type=headers.get("bridgetype"),
        technology=headers.get("bridgetechnology"),
        creator=headers.get("bridgecreator"),
        name=headers.get("bridgename"),
        num_channels=to_int(headers.get("bridgenumchannels")),
    )


# A channel event whose headers name no channel (malformed) still gets a Channel.
NO_CHANNEL = Channel()
