"""Benchmark of /exit's cost in the store, and of what other persons wait meanwhile.

For each number of stored sessions (1,000, 10,000 and 100,000; the real store on a real file):
  1. other persons' turns (load, then save with one more kept message) run all along, PERSONS of
     them, each every THINK seconds on average: first alone, for their latency without /exit;
  2. then one /exit (store.delete of a stored session: the row zeroed, the -wal checkpointed into
     the file and truncated) every EXIT_GAP seconds: its latency p50 / p99 and the -wal's size
     before it, and the turns' p99 and longest stall meanwhile;
  3. then the background rebuild that removes the deleted rows' stale copies (store.rebuild():
     VACUUM and a truncating checkpoint), with the turns still running: its duration, and the
     turns' longest stall during it.

Targets (issue 13, at 100,000 sessions): /exit under 50 ms p99, no turn of another person
stalled over 20 ms. It prints figures and a "met" or "below target" line for each, and measures
without judging, like the other benchmarks: it exits 0 unless it breaks. Run from the project root:

    .venv/bin/python tests/bench/bench_exit.py            # 1,000 / 10,000 / 100,000, about 1 min
    .venv/bin/python tests/bench/bench_exit.py --quick    # 1,000 / 5,000, a few seconds
    .venv/bin/python tests/bench/bench_exit.py --json exit.json
"""

from __future__ import annotations

import argparse
import asyncio
import json
import platform
import random
import sqlite3
import statistics
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from bot.store.sqlite import SQLiteStore
from tests.bench.bench_store import KEYS, NOW, SEED, fill, percentile, sizes
from tests.bench.report import table, verdict_lines

SIZES = (1_000, 10_000, 100_000)
QUICK_SIZES = (1_000, 5_000)
PERSONS = 20  # other persons taking turns all along
THINK = 0.05  # seconds between one person's turns: 400 turns/s offered in all
EXITS = 100
QUICK_EXITS = 20
EXIT_GAP = 0.05
ALONE = 1.0  # seconds of turns without /exit, for the baseline
EXIT_P99_LIMIT_MS = 50.0
STALL_LIMIT_MS = 20.0


@dataclass
class Turns:
    """The other persons' turn latencies, in seconds, by phase."""

    phase: str = "alone"
    samples: dict[str, list[float]] = field(default_factory=dict)

    def add(self, phase: str, seconds: float) -> None:
        self.samples.setdefault(phase, []).append(seconds)

    def p99_ms(self, phase: str) -> float:
        return percentile(self.samples.get(phase, [0.0]), 0.99) * 1000

    def max_ms(self, phase: str) -> float:
        return max(self.samples.get(phase, [0.0])) * 1000


@dataclass
class Figures:
    sessions: int
    fill_seconds: float
    file_mib: float
    exit_p50_ms: float
    exit_p99_ms: float
    exit_max_ms: float
    wal_before_exit_kib: float  # median
    turns_alone_p99_ms: float
    turns_alone_max_ms: float
    turns_during_exits: int
    turns_during_exits_p99_ms: float
    turns_during_exits_max_ms: float
    rebuild_seconds: float
    rebuild_ok: bool
    turns_during_rebuild_max_ms: float


async def person(store: SQLiteStore, chat_id: int, turns: Turns, stop: asyncio.Event) -> None:
    """One person's turns until `stop`: load the session, save it with one more message."""
    key = KEYS.pseudonym("telegram", str(chat_id))
    message = 3_000_000 + chat_id * 10_000
    pace = random.Random(chat_id)  # persons out of step, as people are
    while not stop.is_set():
        await asyncio.sleep(pace.uniform(0, 2 * THINK))
        began = time.perf_counter()
        stored = await store.load(key)
        assert stored is not None
        message += 1
        await store.save(stored.with_messages(str(message), now=NOW))
        # the phase it ends in: a turn the rebuild held counts for the rebuild
        turns.add(turns.phase, time.perf_counter() - began)


async def measure(count: int, exits: int, folder: Path) -> Figures:
    database = folder / f"exit-{count}.sqlite3"
    store = await SQLiteStore.open(database)
    try:
        fill_seconds = await fill(store, count)
        await store.rebuild()  # the one after opening, not counted
        chooser = random.Random(SEED)
        chosen = chooser.sample(range(count), PERSONS + exits)
        talking, leaving = chosen[:PERSONS], chosen[PERSONS:]
        turns, stop = Turns(), asyncio.Event()
        persons = [asyncio.create_task(person(store, c, turns, stop)) for c in talking]

        await asyncio.sleep(ALONE)
        turns.phase = "exits"
        latencies, wal_before = [], []
        for chat_id in leaving:
            wal_before.append(sizes(database)[1])
            began = time.perf_counter()
            assert await store.delete(KEYS.pseudonym("telegram", str(chat_id)))
            latencies.append(time.perf_counter() - began)
            await asyncio.sleep(EXIT_GAP)

        turns.phase = "rebuild"
        began = time.perf_counter()
        rebuilt = await store.rebuild()
        rebuild_seconds = time.perf_counter() - began
        turns.phase = "after"
        await asyncio.sleep(THINK * 2)  # a turn held by the rebuild ends and counts
        stop.set()
        await asyncio.gather(*persons)
        file_bytes = sizes(database)[0]
    finally:
        await store.close()
    return Figures(
        sessions=count,
        fill_seconds=fill_seconds,
        file_mib=file_bytes / 2**20,
        exit_p50_ms=percentile(latencies, 0.50) * 1000,
        exit_p99_ms=percentile(latencies, 0.99) * 1000,
        exit_max_ms=max(latencies) * 1000,
        wal_before_exit_kib=statistics.median(wal_before) / 1024,
        turns_alone_p99_ms=turns.p99_ms("alone"),
        turns_alone_max_ms=turns.max_ms("alone"),
        turns_during_exits=len(turns.samples.get("exits", [])),
        turns_during_exits_p99_ms=turns.p99_ms("exits"),
        turns_during_exits_max_ms=turns.max_ms("exits"),
        rebuild_seconds=rebuild_seconds,
        rebuild_ok=rebuilt,
        turns_during_rebuild_max_ms=max(turns.max_ms("rebuild"), turns.max_ms("after")),
    )


def verdicts(largest: Figures) -> list[tuple[str, bool]]:
    """The issue's targets at the largest size measured, each with its figure."""
    at = f"at {largest.sessions:,} sessions"
    return [
        (
            f"/exit p99 {largest.exit_p99_ms:.1f} ms {at} (target < {EXIT_P99_LIMIT_MS:.0f} ms)",
            largest.exit_p99_ms < EXIT_P99_LIMIT_MS,
        ),
        (
            f"longest stall of another person's turn during /exits "
            f"{largest.turns_during_exits_max_ms:.1f} ms {at} (target < {STALL_LIMIT_MS:.0f} ms)",
            largest.turns_during_exits_max_ms < STALL_LIMIT_MS,
        ),
    ]


def report(all_figures: list[Figures]) -> None:
    print(
        table(
            [
                "sessions",
                "/exit p50",
                "p99",
                "max",
                "-wal before",
                "turns alone p99 / max",
                "turns during /exits p99 / max",
                "rebuild",
                "turns during rebuild max",
            ],
            [
                [
                    f"{f.sessions:,}",
                    f"{f.exit_p50_ms:.1f} ms",
                    f"{f.exit_p99_ms:.1f} ms",
                    f"{f.exit_max_ms:.1f} ms",
                    f"{f.wal_before_exit_kib:,.0f} KiB",
                    f"{f.turns_alone_p99_ms:.1f} / {f.turns_alone_max_ms:.1f} ms",
                    f"{f.turns_during_exits_p99_ms:.1f} / {f.turns_during_exits_max_ms:.1f} ms",
                    f"{f.rebuild_seconds * 1000:,.0f} ms" + ("" if f.rebuild_ok else " (failed)"),
                    f"{f.turns_during_rebuild_max_ms:,.0f} ms",
                ]
                for f in all_figures
            ],
        )
    )
    print(
        f"\n{PERSONS} other persons, a turn each every {THINK * 1000:.0f} ms on average (load + "
        "save); "
        f"one /exit every {EXIT_GAP * 1000:.0f} ms"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--quick", action="store_true", help="1,000 and 5,000 sessions (CI)")
    parser.add_argument("--json", type=Path, metavar="PATH", help="also write figures as JSON")
    args = parser.parse_args(argv)
    counts, exits = (QUICK_SIZES, QUICK_EXITS) if args.quick else (SIZES, EXITS)

    print(f"Python {platform.python_version()}, SQLite {sqlite3.sqlite_version}")
    print(f"{platform.platform()}, {platform.machine()}")
    print()
    with tempfile.TemporaryDirectory(prefix="wegweiser-bench-exit-") as folder:
        all_figures = [asyncio.run(measure(count, exits, Path(folder))) for count in counts]
    report(all_figures)
    checks = verdicts(all_figures[-1])
    print()
    print("\n".join(verdict_lines(checks)))
    if args.json is not None:
        figures = {
            "python": platform.python_version(),
            "sqlite": sqlite3.sqlite_version,
            "sizes": [asdict(f) for f in all_figures],
            "targets": [{"what": what, "met": met} for what, met in checks],
        }
        args.json.write_text(json.dumps(figures, indent=2) + "\n", encoding="utf-8")
        print(f"figures written to {args.json}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
