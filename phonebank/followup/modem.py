"""The GSM modem adapter: AT commands over a serial port (pyserial), blocking.

One `GsmModem` owns one port. Calls block for at most their timeout; an
asyncio caller runs them in a thread (`asyncio.to_thread`), one at a time.
Unsolicited codes (+CMTI, +CDS) that arrive while a command runs are kept in
`pending` for `poll()`.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

import serial

from phonebank.followup import at
from phonebank.followup.errors import ModemError, ModemTimeout, PduError, SendUncertain
from phonebank.followup.pdu import Deliver, StatusReport, Submit, decode_incoming

CTRL_Z = b"\x1a"
ESC = b"\x1b"
# A send waits for the network: minutes on a bad signal, per 27.005 implementations.
SEND_TIMEOUT_S = 60.0
COMMAND_TIMEOUT_S = 5.0
# Deliver status reports as +CDS, announce stored messages as +CMTI (27.005 §3.4.1).
CNMI = "AT+CNMI=2,1,0,1,0"

REGISTRATION = {
    0: "not registered, not searching",
    1: "registered, home network",
    2: "searching",
    3: "registration denied",
    4: "unknown",
    5: "registered, roaming",
}


class SerialPort(Protocol):
    def write(self, data: bytes) -> int | None: ...
    def read(self, size: int = 1) -> bytes: ...
    def close(self) -> None: ...
    @property
    def in_waiting(self) -> int: ...


@dataclass(frozen=True)
class ModemStatus:
    manufacturer: str
    model: str
    sim: str  # READY, SIM PIN, ...
    registration: int
    signal: int  # 0-31, 99 unknown (27.007 +CSQ)

    @property
    def registered(self) -> bool:
        return self.registration in (1, 5)

    @property
    def signal_dbm(self) -> int | None:
        return None if self.signal == 99 else -113 + 2 * self.signal


@dataclass(frozen=True)
class Stored:
    """A message in the modem's storage: its index, and what it decoded to."""

    index: int
    message: Deliver | StatusReport | None
    error: str = ""  # why `message` is None (a PDU the decoder refused)


class GsmModem:
    def __init__(
        self,
        port: SerialPort,
        *,
        name: str = "modem",
        clock: Callable[[], float] = time.monotonic,
        send_timeout: float = SEND_TIMEOUT_S,
    ) -> None:
        self.port = port
        self.send_timeout = send_timeout
        self.name = name
        self.pending: list[at.Urc] = []
        self._buffer = b""
        self._frames: list[at.Frame] = []
        self._clock = clock

    @classmethod
    def open(
        cls, device: str, baudrate: int = 115200, send_timeout: float = SEND_TIMEOUT_S
    ) -> GsmModem:
        try:
            port = serial.Serial(device, baudrate, timeout=0.05, write_timeout=5)
        except (serial.SerialException, OSError) as exc:
            raise ModemError(f"cannot open modem {device}: {exc}") from None
        return cls(port, name=device, send_timeout=send_timeout)

    def close(self) -> None:
        self.port.close()

    def __enter__(self) -> GsmModem:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- reading -----------------------------------------------------------------

    def _next_frame(self, deadline: float, what: str) -> at.Frame:
        while not self._frames:
            if self._clock() > deadline:
                raise ModemTimeout(f"{self.name}: no answer to {what} in time", command=what)
            chunk = self.port.read(max(1, self.port.in_waiting))
            if chunk:
                frames, self._buffer = at.parse(self._buffer + chunk)
                self._frames.extend(frames)
        return self._frames.pop(0)

    def _write(self, data: bytes, what: str) -> None:
        try:
            self.port.write(data)
        except (serial.SerialException, OSError) as exc:
            raise ModemError(f"{self.name}: writing {what} failed: {exc}", command=what) from None

    def command(self, command: str, timeout: float = COMMAND_TIMEOUT_S) -> list[str]:
        """Send one AT command; its information lines, or ModemError with the modem's code."""
        self._write(command.encode("ascii") + b"\r", command)
        return self._collect(command, self._clock() + timeout)

    def _collect(self, command: str, deadline: float) -> list[str]:
        lines: list[str] = []
        while True:
            frame = self._next_frame(deadline, command)
            if isinstance(frame, at.Urc):
                self.pending.append(frame)
            elif isinstance(frame, at.Line):
                if frame.text != command:  # an echo before ATE0 took effect
                    lines.append(frame.text)
            elif isinstance(frame, at.Final):
                if frame.ok:
                    return lines
                raise ModemError(
                    f"{self.name}: {command} failed: {frame.text}"
                    + (f" ({_describe(frame.error_code)})" if frame.error_code is not None else ""),
                    command=command,
                    error_code=frame.error_code,
                )

    # -- operations --------------------------------------------------------------

    def initialise(self, pin: str = "") -> ModemStatus:
        """Echo off, numeric errors, PDU mode, SIM unlocked, notifications on."""
        for _ in range(3):  # the first AT may meet a modem still waking up
            try:
                self.command("AT", timeout=1.0)
                break
            except ModemTimeout:
                continue
        else:
            raise ModemTimeout(
                f"{self.name}: the modem does not answer AT (wrong port or baud rate?)"
            )
        self.command("ATE0")
        self.command("AT+CMEE=1")
        sim = self.sim_state()
        if sim == "SIM PIN":
            if not pin:
                raise ModemError(
                    f"{self.name}: the SIM asks for a PIN; set [sms] pin in the configuration"
                )
            self.command(f'AT+CPIN="{pin}"')
            sim = self.sim_state()
        if sim != "READY":
            raise ModemError(f"{self.name}: SIM not ready ({sim})")
        self.command("AT+CMGF=0")
        self.command(CNMI)
        return self.status()

    def sim_state(self) -> str:
        for line in self.command("AT+CPIN?"):
            if line.startswith("+CPIN:"):
                return line.partition(":")[2].strip()
        raise ModemError(f"{self.name}: AT+CPIN? gave no +CPIN line", command="AT+CPIN?")

    def status(self) -> ModemStatus:
        manufacturer = " ".join(self.command("AT+CGMI"))
        model = " ".join(self.command("AT+CGMM"))
        sim = self.sim_state()
        registration = _int_after("+CREG:", self.command("AT+CREG?"), 1)
        signal = _int_after("+CSQ:", self.command("AT+CSQ"), 0)
        return ModemStatus(manufacturer, model, sim, registration, signal)

    def send(self, submit: Submit) -> int:
        """Send one part; the message reference (TP-MR) the network gave it."""
        what = f"AT+CMGS={submit.tpdu_length}"
        self._write(what.encode("ascii") + b"\r", what)
        deadline = self._clock() + COMMAND_TIMEOUT_S
        while True:
            try:
                frame = self._next_frame(deadline, what)
            except ModemTimeout:
                self._write(ESC, "ESC")  # leave the prompt; nothing was sent
                raise
            if isinstance(frame, at.Prompt):
                break
            if isinstance(frame, at.Urc):
                self.pending.append(frame)
            elif isinstance(frame, at.Final):
                raise ModemError(
                    f"{self.name}: {what} refused: {frame.text}",
                    command=what,
                    error_code=frame.error_code,
                )
        self._write(submit.hex.encode("ascii") + CTRL_Z, "the PDU")
        try:
            lines = self._collect("AT+CMGS", self._clock() + self.send_timeout)
        except ModemTimeout:
            raise SendUncertain(
                f"{self.name}: no answer after the PDU was sent; it may have gone out",
                command=what,
            ) from None
        for line in lines:
            if line.startswith("+CMGS:"):
                return int(at.split_args(line.partition(":")[2])[0])
        raise ModemError(f"{self.name}: the modem said OK without a +CMGS reference", command=what)

    def list_messages(self) -> list[Stored]:
        """Every message in storage (AT+CMGL=4), decoded."""
        lines = self.command("AT+CMGL=4", timeout=20.0)
        out: list[Stored] = []
        for header, pdu in zip(lines[::2], lines[1::2], strict=False):
            args = at.split_args(header.partition(":")[2])
            out.append(_decode(int(args[0]), pdu))
        return out

    def read(self, index: int) -> Stored:
        lines = self.command(f"AT+CMGR={index}")
        if len(lines) < 2:
            raise ModemError(f"{self.name}: AT+CMGR={index} returned no PDU", command="AT+CMGR")
        return _decode(index, lines[1])

    def delete(self, index: int) -> None:
        self.command(f"AT+CMGD={index}")

    def poll(self, timeout: float) -> list[at.Urc]:
        """Unsolicited codes received so far or within `timeout` seconds."""
        deadline = self._clock() + timeout
        while not self.pending and not self._frames and self._clock() < deadline:
            chunk = self.port.read(max(1, self.port.in_waiting))
            if chunk:
                frames, self._buffer = at.parse(self._buffer + chunk)
                self._frames.extend(frames)
        for frame in self._frames:
            if isinstance(frame, at.Urc):
                self.pending.append(frame)
        self._frames.clear()
        urcs, self.pending = self.pending, []
        return urcs


def _decode(index: int, pdu: str) -> Stored:
    try:
        return Stored(index, decode_incoming(pdu))
    except PduError as exc:
        return Stored(index, None, str(exc))


def _int_after(prefix: str, lines: list[str], position: int) -> int:
    for line in lines:
        if line.startswith(prefix):
            args = at.split_args(line.partition(":")[2])
            if len(args) > position and args[position].isdigit():
                return int(args[position])
    raise ModemError(f"no usable {prefix} line in {lines!r}")


_CMS_CODES = {
    16: "incorrect SIM PIN",
    300: "ME failure",
    302: "operation not allowed",
    304: "invalid PDU mode parameter",
    310: "SIM not inserted",
    311: "SIM PIN required",
    321: "invalid memory index",
    322: "SIM memory full",
    330: "SMSC address unknown",
    331: "no network service",
    332: "network timeout",
    500: "unknown error",
}
_PERMANENT = re.compile(r"^(16|302|304|310|311)$")


def _describe(code: int | None) -> str:
    return _CMS_CODES.get(code or 0, f"error {code}")


def is_permanent(error: ModemError) -> bool:
    """True when retrying cannot help (bad PDU, no SIM): the message fails at once."""
    return error.error_code is not None and bool(_PERMANENT.match(str(error.error_code)))
