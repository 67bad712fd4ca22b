"""A flood limit per person, the same for every channel: kept in memory only."""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import dataclass


@dataclass(slots=True)
class _Bucket:
    tokens: float
    updated: float
    warned: bool = False


class FloodGate:
    """A token bucket per person: `burst` updates at once, then `per_minute` on average.

    Kept in memory only, and forgotten as soon as a person's bucket is full again."""

    def __init__(self, burst: int, per_minute: int) -> None:
        self.burst = burst
        self.rate = per_minute / 60
        self._buckets: dict[Hashable, _Bucket] = {}

    def admit(self, person: Hashable, now: float) -> bool | None:
        """True: go ahead. False: refused, and the person should be told (first refusal of this
        flood). None: refused, and they were told already."""
        bucket = self._buckets.get(person)
        if bucket is None:
            bucket = self._buckets[person] = _Bucket(self.burst, now)
        bucket.tokens = min(self.burst, bucket.tokens + (now - bucket.updated) * self.rate)
        bucket.updated = now
        if bucket.tokens >= 1:
            bucket.tokens -= 1
            bucket.warned = False
            return True
        if bucket.warned:
            return None
        bucket.warned = True
        return False

    def forget_idle(self, now: float) -> None:
        """Drop the buckets that have filled up again; they hold nothing worth keeping."""
        full_after = self.burst / self.rate
        for person in [p for p, b in self._buckets.items() if now - b.updated >= full_after]:
            del self._buckets[person]

    def __len__(self) -> int:
        return len(self._buckets)
