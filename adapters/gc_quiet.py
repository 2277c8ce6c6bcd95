"""Folding a long history without the cyclic garbage collector's full passes.

A fold keeps a large, long-lived state in memory (every deal, customer and document a read model
holds) and allocates a few objects per event. The collector's automatic passes keep walking that whole
state — measured: a third of an audit rebuild's time — and find nothing, since folds make no
reference cycles (a full collection after rebuilding every read model over 200,000 events finds 0,
and a test keeps it so). So, while a catch-up runs, automatic collection is off and nothing is
collected; the collector is restored after. Even the young generations are left alone between batches:
collecting them walks every object the batch left alive (the state it grew, the next batch read ahead)
once more on its way to the old generation, only to find nothing; measured over 204,239 events, 5-7%
of the rebuild's CPU.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def quiet_gc() -> Iterator[None]:
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()
