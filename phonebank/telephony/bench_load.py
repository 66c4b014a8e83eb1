"""The AMI load run of `phonebank bench telephony`: events per second and processing lag.

A generator in a child process (so that it does not share our event loop) logs in
to Asterisk and sends `UserEvent` actions at a fixed rate, shaped like the
dialplan's own (`PhonebankAmd` for attempts nobody placed, keypad codes): Asterisk
turns each into an event for every AMI session. Lag = the moment the event was
handled here minus its `Timestamp` (Asterisk's clock, the same machine's).

Measured one after the other, against the same generator:
- baseline: panoramisk's plain `Manager` with one event callback that does nothing
  but note the time — the floor any panoramisk-based consumer stands on;
- ours: `AmiClient` → subscription → `AmiTelephony`'s consumer, which parses,
  reads the signal and updates the call book for every event.
"""

from __future__ import annotations

import asyncio
import contextlib
import sys
import time
from dataclasses import dataclass, field
from typing import Any

from panoramisk import Manager

from phonebank.ami.events import AmiEvent
from phonebank.asterisk.sandbox import SandboxInfo
from phonebank.telephony.adapter import TELEPHONY_EVENTS, AmiTelephony
from phonebank.telephony.bench import Progress, client_for, percentile
from phonebank.telephony.originate import CallSettings

MARK = "bench-load"


@dataclass
class Lags:
    values: list[float] = field(default_factory=list)  # ms
    first: float = 0.0
    last: float = 0.0

    def note(self, stamp: str) -> None:
        now = time.time()
        if not self.values:
            self.first = now
        self.last = now
        self.values.append((now - float(stamp)) * 1000)

    def figures(self) -> dict[str, Any]:
        span = self.last - self.first
        return {
            "events": len(self.values),
            "events_per_s": round(len(self.values) / span) if span > 0 else 0,
            "lag_ms": {
                "p50": round(percentile(self.values, 50), 1),
                "p99": round(percentile(self.values, 99), 1),
                "max": round(max(self.values, default=0.0), 1),
            },
        }


class _Timed(AmiTelephony):
    """The adapter, noting when each generated event has been handled."""

    lags: Lags

    def _on_event(self, event: AmiEvent) -> None:
        super()._on_event(event)
        if event.fields.get("bench") == MARK:
            self.lags.note(event.fields.get("timestamp", "0"))


async def generate(
    host: str, port: int, username: str, secret: str, rate: int, seconds: float
) -> None:
    """The child process: raw AMI, UserEvent actions at `rate` per second, replies discarded."""
    reader, writer = await asyncio.open_connection(host, port)
    await reader.readline()
    writer.write(f"Action: Login\r\nUsername: {username}\r\nSecret: {secret}\r\n\r\n".encode())

    async def drain() -> None:
        # Asterisk drops a session that stops reading: read everything, keep nothing.
        while await reader.read(1 << 16):
            pass

    sink = asyncio.create_task(drain())
    await asyncio.sleep(0.2)
    step = 0.01
    per_step = rate * step
    sent, owed, start = 0, 0.0, time.monotonic()
    while time.monotonic() - start < seconds:
        owed += per_step
        batch = []
        while owed >= 1:
            owed -= 1
            sent += 1
            if sent % 4:
                body = f"UserEvent: PhonebankAmd\r\nAttempt: load-{sent}\r\nStatus: HUMAN\r\n"
            else:
                body = f"UserEvent: PhonebankStationKey\r\nStation: 99{sent % 50}\r\nKey: 3\r\n"
            batch.append(f"Action: UserEvent\r\n{body}Bench: {MARK}\r\n\r\n")
        writer.write("".join(batch).encode())
        await writer.drain()
        await asyncio.sleep(max(0.0, start + (sent / rate) - time.monotonic()))
    await asyncio.sleep(0.5)
    writer.write(b"Action: Logoff\r\n\r\n")
    await writer.drain()
    sink.cancel()
    writer.close()


async def _run_generator(info: SandboxInfo, rate: int, seconds: float) -> None:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "phonebank.telephony.bench_load",
        info.ami_host,
        str(info.ami_port),
        info.ami_username,
        str(rate),
        str(seconds),
        stdin=asyncio.subprocess.PIPE,
    )
    # The secret goes through a pipe, not the command line (`ps` shows arguments).
    await process.communicate(info.ami_secret.encode() + b"\n")
    if process.returncode != 0:
        raise RuntimeError(f"the AMI load generator failed (exit {process.returncode})")


async def _baseline(info: SandboxInfo, rate: int, seconds: float) -> dict[str, Any]:
    lags = Lags()

    def on_event(_manager: object, message: Any) -> None:
        if message.get("Bench") == MARK:
            lags.note(message.get("Timestamp", "0"))

    manager = Manager(
        host=info.ami_host,
        port=info.ami_port,
        username=info.ami_username,
        secret=info.ami_secret,
        ping_delay=3600,
    )
    manager.register_event("UserEvent", on_event)
    await manager.connect()
    await manager.authenticated_future
    try:
        await _run_generator(info, rate, seconds)
        await asyncio.sleep(0.5)
    finally:
        manager.close()
    return lags.figures()


async def _ours(info: SandboxInfo, rate: int, seconds: float) -> dict[str, Any]:
    client = client_for(info, event_names=TELEPHONY_EVENTS)
    await client.connect()
    telephony = _Timed(client, CallSettings(caller_id="0199000000"))
    telephony.lags = Lags()
    telephony.set_listener(lambda _event: None)
    await telephony.start()
    try:
        await _run_generator(info, rate, seconds)
        await asyncio.sleep(0.5)
        dropped = telephony.dropped_events
    finally:
        await telephony.close()
        await client.close()
    return {**telephony.lags.figures(), "dropped": dropped}


async def run_load(
    info: SandboxInfo, *, rate: int, seconds: float, progress: Progress
) -> dict[str, Any]:
    progress(f"AMI load: {rate} events/s for {seconds:.0f} s, panoramisk alone")
    baseline = await _baseline(info, rate, seconds)
    progress(f"AMI load: {rate} events/s for {seconds:.0f} s, AmiClient + AmiTelephony")
    ours = await _ours(info, rate, seconds)
    return {"rate": rate, "seconds": seconds, "baseline_panoramisk": baseline, "phonebank": ours}


def main() -> None:
    host, port, username, rate, seconds = sys.argv[1:6]
    secret = sys.stdin.readline().strip()
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(generate(host, int(port), username, secret, int(rate), float(seconds)))


if __name__ == "__main__":
    main()
