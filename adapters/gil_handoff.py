"""Handing the interpreter lock over promptly while a fold runs next to its reader and writer threads.

A catch-up reads the next batch and writes the last one on threads of their own while the fold runs
on this one. Each time one of those threads gets an answer from the database it needs the interpreter
lock back, and CPython takes it from a thread that keeps running only after the switch interval
(5 ms by default). A batch's write makes several round trips and waited that long after each one —
measured: the customer-360 rebuild, once its fold was faster than its writes, spent a quarter of its
time waiting for them, and the writes took twice as long as alone. So while a catch-up runs, the
interval is 1 ms; it is restored when the last catch-up running ends.
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager

SWITCH_INTERVAL = 0.001


class _Handoff:
    """The interval to restore, and how many catch-ups run (in threads of their own) with the short one."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.running = 0
        self.restore = sys.getswitchinterval()


_HANDOFF = _Handoff()


@contextmanager
def prompt_handoff() -> Iterator[None]:
    with _HANDOFF.lock:
        if _HANDOFF.running == 0:
            _HANDOFF.restore = sys.getswitchinterval()
            sys.setswitchinterval(min(_HANDOFF.restore, SWITCH_INTERVAL))
        _HANDOFF.running += 1
    try:
        yield
    finally:
        with _HANDOFF.lock:
            _HANDOFF.running -= 1
            if _HANDOFF.running == 0:
                sys.setswitchinterval(_HANDOFF.restore)
