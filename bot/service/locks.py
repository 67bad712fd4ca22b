"""One lock per person, so that one person's turns never interleave, whichever channel or side
(a counsellor's message, a job) starts them."""

from __future__ import annotations

import asyncio
import weakref


class PersonLocks:
    def __init__(self) -> None:
        self._locks: weakref.WeakValueDictionary[bytes, asyncio.Lock] = (
            weakref.WeakValueDictionary()
        )

    def of(self, key: bytes) -> asyncio.Lock:
        lock = self._locks.get(key)
        if lock is None:
            lock = asyncio.Lock()
            self._locks[key] = lock
        return lock
