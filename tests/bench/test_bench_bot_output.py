"""The benchmark's printed verdict (tests/bench/bench_bot.py): a figure below the target reads as
"below target" with the reason, never as "FAIL" in a CI log that passed."""

from __future__ import annotations

from tests.bench.bench_bot import CAPPED, OWN_COST, TARGET, verdict


def test_a_ratio_below_the_target_says_below_target_and_why() -> None:
    for why in (CAPPED, OWN_COST):
        said = verdict(0.17, why)

        assert said == f"0.17 (target >= {TARGET}: below target; {why})"
        assert "FAIL" not in said.upper()


def test_a_ratio_at_the_target_says_met() -> None:
    assert verdict(TARGET, CAPPED) == f"{TARGET:.2f} (target >= {TARGET}: met)"
