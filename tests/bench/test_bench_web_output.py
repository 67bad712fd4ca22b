"""The web benchmark's verdicts (tests/bench/bench_web.py): a missed target reads FAIL and fails
the full run, never the quick one CI runs on a shared machine."""

from __future__ import annotations

from tests.bench.bench_bot import Load
from tests.bench.bench_web import (
    FIRST_SCREEN_LIMIT,
    Target,
    Transfer,
    exit_code,
    verdict_lines,
    verdicts,
)


def target(*, p99_ms: float, rss_mb: float, answered: float = 200.0) -> Target:
    load = Load(1000, 6, 6000, 0, 30.0, 200.0, 4.0, p99_ms, p99_ms, True)
    return Target(1000, 5.0, 30.0, 200.0, load, answered, 0, rss_mb, rss_mb, 6000, 1000, 0.6, 0.2)


SMALL = [Transfer("/", 200, 700, 2000), Transfer("/a/chat.js", 200, 700, 4000)]


def test_every_target_met_reads_met_and_exits_0() -> None:
    checks = verdicts(SMALL, target(p99_ms=20, rss_mb=120))

    assert all(line.startswith("met: ") for line in verdict_lines(checks))
    assert exit_code(checks, quick=False) == 0


def test_a_missed_target_reads_fail_and_fails_the_full_run_only() -> None:
    checks = verdicts(SMALL, target(p99_ms=221, rss_mb=184))
    lines = verdict_lines(checks)

    assert [line.split(":")[0] for line in lines] == ["met", "met", "FAIL", "FAIL"]
    assert "p99 221.0 ms" in lines[2] and "184.0 MB" in lines[3]
    assert exit_code(checks, quick=False) == 1
    assert exit_code(checks, quick=True) == 0


def test_a_first_screen_at_the_limit_or_a_rate_below_it_is_missed() -> None:
    heavy = [Transfer("/", 200, 0, FIRST_SCREEN_LIMIT)]
    checks = verdicts(heavy, target(p99_ms=20, rss_mb=120, answered=190))

    assert [met for _, met in checks] == [False, False, True, True]
