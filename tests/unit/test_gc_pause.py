"""Pausing the garbage collector while bulk data is built (``spyglass.gc_pause``).

What it proves:

* inside either pause no collection runs, and the collector is enabled again after it only
  if it was before;
* what ``gc_paused_for_keeps`` saw made sits in the oldest generation afterwards, unscanned
  (not in the youngest, where the next collection would scan it);
* when the application has frozen objects, ``gc_paused_for_keeps`` only pauses: they stay
  frozen, and what the block made stays young;
* ``heap_frozen`` keeps what was alive when it began out of the collector's sight inside the
  block and returns it to the oldest generation after it (on an exception too), unless
  something else froze the heap already; cyclic garbage made inside is still collected.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest

from spyglass.gc_pause import gc_paused, gc_paused_for_keeps, heap_frozen


def _in_generation(value: object, generation: int) -> bool:
    return any(o is value for o in gc.get_objects(generation=generation))


def test_pauses_restore_the_collector_as_they_found_it() -> None:
    assert gc.isenabled()
    for pause in (gc_paused, gc_paused_for_keeps):
        with pause():
            assert not gc.isenabled()
        assert gc.isenabled()
        gc.disable()
        try:
            with pause():
                assert not gc.isenabled()
            assert not gc.isenabled()
        finally:
            gc.enable()


def test_what_the_block_made_joins_the_oldest_generation() -> None:
    gc.collect()
    with gc_paused_for_keeps():
        kept = [{"n": [i]} for i in range(1000)]
    assert _in_generation(kept, 2) and _in_generation(kept[-1], 2)
    assert not _in_generation(kept, 0)
    with gc_paused():  # the plain pause leaves it young
        young = [{"n": [i]} for i in range(10)]
    assert _in_generation(young, 0)


def test_objects_the_application_froze_stay_frozen() -> None:
    gc.collect()
    frozen_before = [{"n": [1]}]
    gc.freeze()
    try:
        count = gc.get_freeze_count()
        assert count > 0 and not _in_generation(frozen_before, 2)
        with gc_paused_for_keeps():
            made = [{"n": [2]}]
        assert 0 < gc.get_freeze_count() <= count  # not unfrozen, nothing added
        assert not _in_generation(frozen_before, 2)
        assert _in_generation(made, 0)
    finally:
        gc.unfreeze()


@pytest.fixture
def unfrozen() -> Iterator[None]:
    gc.unfreeze()
    yield
    gc.unfreeze()


def test_the_heap_is_frozen_inside_and_unfrozen_after(unfrozen: None) -> None:
    alive_before = [[] for _ in range(100)]
    with heap_frozen():
        assert gc.get_freeze_count() >= len(alive_before)
    assert gc.get_freeze_count() == 0


def test_the_heap_is_unfrozen_when_the_block_raises(unfrozen: None) -> None:
    with pytest.raises(RuntimeError), heap_frozen():
        raise RuntimeError("row failed")
    assert gc.get_freeze_count() == 0


def test_a_heap_someone_else_froze_stays_frozen(unfrozen: None) -> None:
    gc.freeze()
    frozen = gc.get_freeze_count()
    with heap_frozen():
        pass
    assert gc.get_freeze_count() == frozen > 0


def test_cyclic_garbage_made_during_the_block_is_still_collected(unfrozen: None) -> None:
    class Node:
        pass

    with heap_frozen():
        node = Node()
        node.self = node  # type: ignore[attr-defined]
        del node
        assert gc.collect() > 0
