"""The flood gate's memory: a flood of new keys (cookies, client addresses) keeps it bounded."""

from __future__ import annotations

from bot.service import FloodGate
from bot.service.flood import SWEEP_FLOOR


def test_idle_buckets_go_when_new_keys_need_room_without_anyone_calling_forget() -> None:
    gate = FloodGate(burst=15, per_minute=30)  # full again after 30 s
    for key in range(50_000):  # one new key every 10 ms, for 500 s
        assert gate.admit(key, now=key / 100) is True

    # at most the keys of the last 30 s (3,000), and what piled up since the last sweep
    assert len(gate) <= 2 * 3_000 + SWEEP_FLOOR


def test_never_more_than_most_even_when_no_bucket_is_idle() -> None:
    gate = FloodGate(burst=15, per_minute=30, most=5_000)
    for key in range(40_000):  # all at once: none is idle
        gate.admit(key, now=0.0)

    assert len(gate) <= 5_000
    assert gate.admit(39_999, now=0.0) is True  # the newest keep their buckets
    # whoever was forgotten starts with a full bucket, as a new key would
    assert gate.admit(0, now=0.0) is True


def test_a_flood_of_new_keys_costs_a_constant_number_of_looks_per_key() -> None:
    """Sweeps are amortised: not a scan of every bucket for every new key. Counted, not timed:
    the buckets each sweep looks at, per new key, stay the same for four times the keys."""

    class Counting(FloodGate):
        looked = 0

        def forget_idle(self, now: float) -> None:
            Counting.looked += len(self)
            super().forget_idle(now)

    def looks_per_key(keys: int) -> float:
        Counting.looked = 0
        gate = Counting(burst=15, per_minute=30, most=20_000)
        for key in range(keys):
            gate.admit(key, now=0.0)
        return Counting.looked / keys

    small, large = looks_per_key(40_000), looks_per_key(160_000)
    assert large <= 12 and small <= 12, (small, large)  # a tenth of `most` between sweeps


def test_a_person_in_a_flood_keeps_their_bucket_while_keys_come_and_go() -> None:
    gate = FloodGate(burst=2, per_minute=60)
    gate.admit("flooder", now=0.0)
    gate.admit("flooder", now=0.0)
    assert gate.admit("flooder", now=0.0) is False
    for key in range(5 * SWEEP_FLOOR):
        gate.admit(key, now=0.5)
    assert gate.admit("flooder", now=0.5) is None  # still refused, still told once
