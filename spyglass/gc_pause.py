"""Pausing Python's cyclic garbage collector while bulk data is built.

Parsing or building a page of records creates hundreds of thousands of small dicts and
lists; each few hundred allocations trigger a collection that scans the growing heap,
which makes bulk decoding 3-5 times slower. Those containers hold no reference cycles, so
collecting during the build finds nothing: pausing it is safe, and it resumes (when it was
on before) as soon as the block ends.
"""

from __future__ import annotations

import contextlib
import gc
from collections.abc import Iterator


@contextlib.contextmanager
def gc_paused() -> Iterator[None]:
    """No cyclic garbage collection inside the block."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


@contextlib.contextmanager
def gc_paused_for_keeps() -> Iterator[None]:
    """:func:`gc_paused` for data the caller keeps (a DataFrame of a dataset's records):
    the containers made inside the block join the oldest generation when it ends, without
    being scanned. Resuming a plain pause would scan all of them at the next allocation
    and again as they age (~1-3 µs per record, as much as decoding them); the oldest
    generation is scanned only in full collections, on their usual schedule. Other
    threads' objects made meanwhile age the same way; nothing is lost, cycles among them
    are found by the next full collection. When something in the process has frozen
    objects (``gc.freeze()``), only the pause is applied, so theirs stay frozen."""
    was_enabled = gc.isenabled()
    gc.disable()
    promote = gc.get_freeze_count() == 0
    try:
        yield
    finally:
        if promote:
            gc.freeze()  # every tracked object to the permanent generation, unscanned
            gc.unfreeze()  # and back into the oldest one
        if was_enabled:
            gc.enable()


@contextlib.contextmanager
def heap_frozen() -> Iterator[None]:
    """Inside the block, collections skip the objects that existed when it began.

    For work that runs many tasks at once on one interpreter (an evaluation's rows): each
    collection of the oldest generation stops every task while it scans the whole heap (the
    ``openai`` package's models, pandas, the app's own objects: 0.1-0.3 s at a time). Frozen
    (``gc.freeze()``) as the block starts, what exists then is out of the collector's sight,
    so collections scan only what the block makes; it returns to the oldest generation when
    the block ends, where the next full collection finds any cycles among it as before.
    When something in the process has frozen objects of its own, the heap is left as it is,
    so theirs stay frozen.
    """
    if gc.get_freeze_count() > 0:
        yield
        return
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()
