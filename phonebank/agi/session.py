"""One AGI conversation: pyst2's `AGI` made safe for threads and sockets.

pyst2 0.5.1's constructor installs a SIGHUP handler (allowed only in the main
thread, so a threaded FastAGI server fails with ValueError) and writes argv and
the whole AGI environment — caller ids are personal data — to stderr. We keep
its command methods and replace the constructor. We also teach it the line
`HANGUP` that Asterisk writes on a FastAGI socket when the channel hangs up
(pyst2 cannot parse it), and treat end-of-stream as a hangup.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Coroutine, Mapping
from dataclasses import dataclass, field
from typing import Any, TextIO, TypeVar
from urllib.parse import parse_qsl, urlsplit

from asterisk.agi import AGI, AGIHangup

T = TypeVar("T")

SCRIPT_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")


class _Discard:
    """Where pyst2's debug lines go (they would leak caller ids into logs)."""

    def write(self, _text: str) -> int:
        return 0

    def flush(self) -> None:
        return None


class AgiInput:
    """Lines from Asterisk, minus `HANGUP` notices (remembered); EOF raises AGIHangup."""

    def __init__(self, stream: TextIO) -> None:
        self._stream = stream
        self.hung_up = False

    def readline(self) -> str:
        while True:
            line = self._stream.readline()
            if line == "":
                raise AGIHangup("Asterisk closed the AGI connection")
            if line.strip() == "HANGUP":
                self.hung_up = True
                continue
            return line


class PhonebankAGI(AGI):  # type: ignore[misc]
    """pyst2's AGI over any text streams, without signal handlers or stderr chatter."""

    def __init__(self, stdin: TextIO, stdout: TextIO) -> None:
        # AGI.__init__ is skipped on purpose (see the module docstring); these are its fields.
        self._input = AgiInput(stdin)
        self.stdin = self._input
        self.stdout = stdout
        self.stderr = _Discard()
        self._got_sighup = False
        self.env: dict[str, str] = {}
        self._get_agi_env()

    def test_hangup(self) -> None:
        if self._input.hung_up:
            self._got_sighup = True
        super().test_hangup()


@dataclass(frozen=True)
class AgiRequest:
    """What a handler gets: the conversation, the script asked for and its arguments."""

    agi: PhonebankAGI
    script: str
    args: tuple[str, ...] = ()
    # Query string of `agi://host:port/script?key=value`.
    params: Mapping[str, str] = field(default_factory=dict)
    loop: asyncio.AbstractEventLoop | None = None

    @property
    def env(self) -> Mapping[str, str]:
        return self.agi.env

    @property
    def channel(self) -> str:
        return self.env.get("agi_channel", "")

    @property
    def uniqueid(self) -> str:
        return self.env.get("agi_uniqueid", "")

    def set_variable(self, name: str, value: str) -> None:
        self.agi.set_variable(name, value)

    def get_variable(self, name: str) -> str:
        return str(self.agi.get_variable(name))

    def call_async(self, coroutine: Coroutine[Any, Any, T], within: float = 5.0) -> T:
        """Run `coroutine` on the service's event loop and wait for it (FastAGI only)."""
        if self.loop is None:
            coroutine.close()
            raise RuntimeError(
                f"AGI script {self.script!r} runs outside the service; "
                "it has no event loop to call into"
            )
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(within)


def _args(env: Mapping[str, str]) -> list[str]:
    args: list[str] = []
    while (value := env.get(f"agi_arg_{len(args) + 1}")) is not None:
        args.append(value)
    return args


def fastagi_request(agi: PhonebankAGI, loop: asyncio.AbstractEventLoop | None) -> AgiRequest:
    """`agi://host:port/<script>?k=v` with AGI(...) arguments as `args`."""
    env: Mapping[str, str] = agi.env
    url = urlsplit(env.get("agi_request", ""))
    script = url.path.strip("/") or env.get("agi_network_script", "").split("?")[0]
    return AgiRequest(
        agi=agi, script=script, args=tuple(_args(env)), params=dict(parse_qsl(url.query)), loop=loop
    )


def process_request(agi: PhonebankAGI) -> AgiRequest:
    """`AGI(phonebank-agi,<script>,args...)`: the first argument names the script."""
    args = _args(agi.env)
    return AgiRequest(agi=agi, script=args[0] if args else "", args=tuple(args[1:]))
