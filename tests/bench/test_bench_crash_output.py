"""The crash harness's counting (tests/bench/bench_crash.py): lost and doubled copies, and the
deployment it runs the bot with."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from bot.config import EXAMPLE_DEPLOYMENT, load_deployment
from tests.bench.bench_crash import raised_limits, relayed


def test_a_message_without_a_copy_is_lost_and_one_with_two_is_doubled() -> None:
    arrived = Counter({"c1-0": 1, "c1-1": 2})
    counted = relayed(["c1-0", "c1-1", "c1-2", "c1-3"], arrived, told={"c1-3"})

    assert (counted.sent, counted.delivered, counted.lost, counted.doubled) == (4, 2, 2, 1)
    assert counted.lost_sender_told == 1
    assert relayed(["p1-0"], Counter(), None).lost_sender_told is None


def test_the_bot_runs_with_the_example_deployment_and_a_gate_the_bench_never_reaches(
    tmp_path: Path,
) -> None:
    config = tmp_path / "config.yaml"
    config.write_text(raised_limits(EXAMPLE_DEPLOYMENT.read_text("utf-8")), "utf-8")

    raised = load_deployment(config)
    example = load_deployment(EXAMPLE_DEPLOYMENT)
    assert (raised.limits.burst, raised.limits.per_minute) == (1000000, 1000000)
    assert raised.model_copy(update={"limits": example.limits}) == example
