"""The web benchmark's verdicts (tests/bench/bench_web.py): each target reads "met" or "below
target" with its figure."""

from __future__ import annotations

from tests.bench.bench_bot import Load
from tests.bench.bench_web import (
    FIRST_SCREEN_LIMIT,
    Target,
    Transfer,
    verdicts,
)
from tests.bench.report import verdict_lines


def target(*, p99_ms: float, rss_mb: float, answered: float = 200.0) -> Target:
    load = Load(1000, 6, 6000, 0, 30.0, 200.0, 4.0, p99_ms, p99_ms, True)
    return Target(1000, 5.0, 30.0, 200.0, load, answered, 0, rss_mb, rss_mb, 6000, 1000, 0.6, 0.2)


SMALL = [Transfer("/", 200, 700, 2000), Transfer("/a/chat.js", 200, 700, 4000)]


def test_every_target_met_reads_met() -> None:
    checks = verdicts(SMALL, target(p99_ms=20, rss_mb=120))

    assert all(line.startswith("met: ") for line in verdict_lines(checks))


def test_a_missed_target_reads_below_target_with_its_figure() -> None:
    checks = verdicts(SMALL, target(p99_ms=221, rss_mb=184))
    lines = verdict_lines(checks)

    assert [line.split(":")[0] for line in lines] == ["met", "met", "below target", "below target"]
    assert "p99 221.0 ms" in lines[2] and "184.0 MB" in lines[3]


def test_a_first_screen_at_the_limit_or_a_rate_below_it_is_missed() -> None:
    heavy = [Transfer("/", 200, 0, FIRST_SCREEN_LIMIT)]
    checks = verdicts(heavy, target(p99_ms=20, rss_mb=120, answered=190))

    assert [met for _, met in checks] == [False, False, True, True]
