"""One lock per person, so that one person's turns never interleave, whichever channel or side
(a counsellor's message, a job) starts them; and one per case, so that what happens to a case
is decided on the case as it is, not on a copy read before something else changed it."""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import Hashable
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)


class Locks(Generic[K]):
    """A lock per key, made on demand and gone once nobody holds or awaits it."""

    def __init__(self) -> None:
        self._locks: weakref.WeakValueDictionary[K, asyncio.Lock] = weakref.WeakValueDictionary()

    def of(self, key: K) -> asyncio.Lock:
        lock = self._locks.get(key)
        if lock is None:
            lock = asyncio.Lock()
            self._locks[key] = lock
        return lock


class PersonLocks(Locks[bytes]):
    """By the person's pseudonym."""
