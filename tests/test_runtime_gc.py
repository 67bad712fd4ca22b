"""The running process keeps what it built at start from the garbage collector (bot/runtime.py):
a full collection over the flows, catalogs and search index stalled every turn in flight
(tests/bench/bench_web.py's p99)."""

from __future__ import annotations

import gc
import weakref
from collections.abc import Iterator

import pytest

from bot.runtime import _settled


class Node:
    def __init__(self) -> None:
        self.other: Node | None = None


@pytest.fixture
def unfrozen() -> Iterator[None]:
    yield
    gc.unfreeze()  # the rest of the test run collects as usual


def test_settling_freezes_what_lives_and_collects_what_is_garbage_first(unfrozen: None) -> None:
    kept = [Node() for _ in range(100)]
    garbage = Node()
    garbage.other = Node()
    garbage.other.other = garbage  # a cycle: only the collector frees it
    gone = weakref.ref(garbage)
    del garbage
    gc.unfreeze()

    _settled()

    assert gone() is None
    assert gc.get_freeze_count() >= len(kept)
