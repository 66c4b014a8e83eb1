"""Process AGI: `AGI(phonebank-agi,<script>,args...)` on a system Asterisk.

Asterisk starts the script with the AGI conversation on stdin/stdout, so
nothing but AGI may be written to stdout: logs go to stderr (Asterisk shows
them at verbose level). Starting a Python process costs a few hundred
milliseconds, so nothing latency-critical (connecting a voter) runs here; use
FastAGI for that.
"""

from __future__ import annotations

import logging
import signal
import sys
from typing import TextIO

from phonebank.agi.registry import AgiRegistry, default_registry
from phonebank.agi.session import PhonebankAGI, process_request


def main(
    stdin: TextIO | None = None, stdout: TextIO | None = None, registry: AgiRegistry | None = None
) -> int:
    """Serve one AGI request on stdin/stdout; the exit code is 0 unless it failed."""
    logging.basicConfig(
        stream=sys.stderr, level=logging.WARNING, format="phonebank-agi: %(levelname)s %(message)s"
    )
    agi = PhonebankAGI(stdin or sys.stdin, stdout or sys.stdout)
    if stdin is None:
        # Asterisk sends SIGHUP when the channel hangs up; the default action would kill us
        # mid-write. pyst2 notes it and raises AGIHangup at the next command instead.
        signal.signal(signal.SIGHUP, agi._handle_sighup)
    status = (registry or default_registry()).serve(process_request(agi))
    return 0 if status in {"OK", "HANGUP"} else 1
