"""Interpreter settings for the length of a bulk import, put back afterwards.

Two of CPython's defaults cost an import of a million rows a third of its time:

- The cyclic garbage collector walks every young object each few hundred allocations,
  and the whole heap now and then; an import allocates a dozen objects a row and makes
  no reference cycles (reference counting frees all of it), so the walks find nothing.
  It is paused while an import runs (measured: 14 µs of a row's 55).
- A thread waiting for the interpreter lock gets it when the running thread has held it
  for the switch interval (5 ms). The thread that sends rows to PostgreSQL needs the
  lock for a moment between blocks; with the parsing thread busy, each block waited up
  to 5 ms and the server sat idle meanwhile. 0.2 ms while an import runs.

Both settings are process-wide: imports running at once count themselves, and the last
one to end puts back what the first one found.
"""

from __future__ import annotations

import gc
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager

SWITCH_INTERVAL_S = 0.0002

_lock = threading.Lock()
_running = 0
_saved: tuple[bool, float] = (True, 0.005)


@contextmanager
def bulk_work() -> Iterator[None]:
    global _running, _saved
    with _lock:
        if _running == 0:
            _saved = (gc.isenabled(), sys.getswitchinterval())
            gc.disable()
            sys.setswitchinterval(min(SWITCH_INTERVAL_S, _saved[1]))
        _running += 1
    try:
        yield
    finally:
        with _lock:
            _running -= 1
            if _running == 0:
                enabled, interval = _saved
                sys.setswitchinterval(interval)
                if enabled:
                    gc.enable()
