"""A flood limit per person, the same for every channel: kept in memory only."""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import dataclass

# Buckets a gate holds before it first looks for idle ones to forget.
SWEEP_FLOOR = 1000


@dataclass(slots=True)
class _Bucket:
    tokens: float
    updated: float
    warned: bool = False


class FloodGate:
    """A token bucket per person: `burst` updates at once, then `per_minute` on average.

    Kept in memory only, and bounded: a bucket that has filled up again holds nothing worth
    keeping and is forgotten when the gate makes room for new ones (each time it has doubled,
    so that a flood of new keys costs a constant time per key), and never more than `most` are
    kept (then the oldest tenth goes: whoever they were gets a full bucket, as a new key would)."""

    def __init__(self, burst: int, per_minute: int, *, most: int = 100_000) -> None:
        self.burst = burst
        self.rate = per_minute / 60
        self.most = most
        self._buckets: dict[Hashable, _Bucket] = {}
        self._sweep_at = min(SWEEP_FLOOR, most)

    def admit(self, person: Hashable, now: float) -> bool | None:
        """True: go ahead. False: refused, and the person should be told (first refusal of this
        flood). None: refused, and they were told already."""
        bucket = self._buckets.get(person)
        if bucket is None:
            if len(self._buckets) >= self._sweep_at:
                self._make_room(now)
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

    def _make_room(self, now: float) -> None:
        self.forget_idle(now)
        if len(self._buckets) >= self.most:  # a flood of new keys, none idle yet
            # a tenth of room at once, so that the next sweep is a tenth of `most` keys away
            oldest = list(self._buckets)[: len(self._buckets) - self.most * 9 // 10]
            for person in oldest:
                del self._buckets[person]
        self._sweep_at = min(max(SWEEP_FLOOR, 2 * len(self._buckets)), self.most)

    def __len__(self) -> int:
        return len(self._buckets)
