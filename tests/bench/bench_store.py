"""Benchmark of the SQLite session store, through its public API only.

Measures, for N realistic sessions (a node id of about 20 characters, a history of 3 nodes, a
language, a screen and 10 kept messages):
  1. the time to save N sessions, in batches of concurrent save() calls (each its own
     transaction), and the size of the file and its -wal afterwards;
  2. load() latency for random keys (p50, p99) and the process's resident memory (psutil) after
     loading and holding 1,000 random sessions;
  3. delete() latency with N sessions kept, without other traffic (bench_exit.py measures /exit
     under concurrent turns, and the file's rebuild);
  4. the time to purge N expired sessions in one purge() call and rebuild the file, and the size
     afterwards.

It prints figures and asserts nothing about timing; it is not a test. Run from the project root:

    .venv/bin/python tests/bench/bench_store.py                  # 100,000 sessions, about 15 s
    .venv/bin/python tests/bench/bench_store.py --quick          # 5,000 sessions, about 1 s
    .venv/bin/python tests/bench/bench_store.py --sessions 20000 --json store.json
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
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import psutil

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from bot.dialogue import Session
from bot.store import SecretKeys, StoredSession
from bot.store.sqlite import SQLiteStore

SEED = 20261125
BATCH = 500  # save() calls in flight at once
LOADS = 2000  # timed loads of random keys
HELD = 1000  # sessions loaded and held for the memory figure
DELETES = 5  # timed deletions
NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
KEYS = SecretKeys("the benchmark's deployment secret, not a real one")


def realistic(chat_id: int) -> StoredSession:
    key = KEYS.pseudonym("telegram", str(chat_id))
    session = StoredSession(
        key=key,
        address=KEYS.seal_address("telegram", str(chat_id), key),
        dialogue=Session(
            node=f"health_counsel_{chat_id % 10_000:05d}",
            history=("start", "topics_overview", "health_and_safety"),
            language="ro",
        ),
        created=NOW - timedelta(minutes=30),
        last_active=NOW,
        expires=NOW + timedelta(days=1),
        screen=1_000_000 + chat_id,
    )
    return session.with_messages(*range(2_000_000, 2_000_010), now=NOW)


def sizes(database: Path) -> tuple[int, int]:
    """The file's and its -wal's size in bytes."""
    wal = Path(f"{database}-wal")
    return database.stat().st_size, wal.stat().st_size if wal.exists() else 0


def percentile(samples: list[float], share: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


async def fill(store: SQLiteStore, count: int) -> float:
    """Save `count` realistic sessions in batches of concurrent saves; the seconds it took."""
    saving = 0.0
    for first in range(0, count, BATCH):
        batch = [realistic(chat_id) for chat_id in range(first, min(first + BATCH, count))]
        began = time.perf_counter()
        await asyncio.gather(*(store.save(session) for session in batch))
        saving += time.perf_counter() - began
    assert await store.count() == count
    return saving


async def measure(count: int, folder: Path) -> dict[str, Any]:
    process = psutil.Process()
    rss_start = process.memory_info().rss
    database = folder / "sessions.sqlite3"
    store = await SQLiteStore.open(database)
    try:
        # 1. save
        saving = await fill(store, count)
        saved_bytes, saved_wal = sizes(database)

        # 2. load latency and memory
        chooser = random.Random(SEED)
        latencies = []
        for _ in range(LOADS):
            key = KEYS.pseudonym("telegram", str(chooser.randrange(count)))
            began = time.perf_counter()
            loaded = await store.load(key)
            latencies.append(time.perf_counter() - began)
            assert loaded is not None
        held = [
            await store.load(KEYS.pseudonym("telegram", str(chooser.randrange(count))))
            for _ in range(HELD)
        ]
        assert all(held)
        rss_held = process.memory_info().rss

        # 3. delete (a truncating checkpoint) with the store full
        deletions = []
        for chat_id in chooser.sample(range(count), DELETES):
            began = time.perf_counter()
            assert await store.delete(KEYS.pseudonym("telegram", str(chat_id)))
            deletions.append(time.perf_counter() - began)

        # 4. purge everything
        began = time.perf_counter()
        purged = await store.purge(NOW + timedelta(days=2))
        assert await store.rebuild()
        purging = time.perf_counter() - began
        assert purged == count - DELETES
        purged_bytes, purged_wal = sizes(database)
    finally:
        await store.close()

    return {
        "sessions": count,
        "save_seconds": saving,
        "saves_per_second": count / saving,
        "file_bytes_with_sessions": saved_bytes,
        "wal_bytes_with_sessions": saved_wal,
        "file_bytes_per_session": saved_bytes / count,
        "load_p50_ms": percentile(latencies, 0.50) * 1000,
        "load_p99_ms": percentile(latencies, 0.99) * 1000,
        "rss_start_mib": rss_start / 2**20,
        "rss_after_loading_1000_mib": rss_held / 2**20,
        "delete_median_ms": statistics.median(deletions) * 1000,
        "delete_max_ms": max(deletions) * 1000,
        "purge_seconds": purging,
        "purged": purged,
        "file_bytes_after_purge": purged_bytes,
        "wal_bytes_after_purge": purged_wal,
    }


def report(figures: dict[str, Any]) -> None:
    mib = 2**20
    print(f"sessions                        {figures['sessions']:>12,}")
    print(
        f"save (batches of {BATCH})          {figures['save_seconds']:>12.2f} s"
        f"   ({figures['saves_per_second']:,.0f} saves/s)"
    )
    print(
        f"file with the sessions          {figures['file_bytes_with_sessions'] / mib:>12.1f} MiB"
        f"   ({figures['file_bytes_per_session']:.0f} bytes/session)"
    )
    print(f"-wal with the sessions          {figures['wal_bytes_with_sessions'] / mib:>12.1f} MiB")
    print(f"load p50                        {figures['load_p50_ms']:>12.3f} ms")
    print(f"load p99                        {figures['load_p99_ms']:>12.3f} ms")
    print(f"RSS at start                    {figures['rss_start_mib']:>12.1f} MiB")
    print(f"RSS after loading {HELD:,} sessions {figures['rss_after_loading_1000_mib']:>11.1f} MiB")
    print(
        f"delete median / max             {figures['delete_median_ms']:>12.1f} ms"
        f" / {figures['delete_max_ms']:.1f} ms"
    )
    print(f"purge + rebuild, {figures['purged']:,} expired {figures['purge_seconds']:>9.2f} s")
    print(
        f"file / -wal after the purge     {figures['file_bytes_after_purge'] / 1024:>12.1f} KiB"
        f" / {figures['wal_bytes_after_purge'] / 1024:.1f} KiB"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--quick", action="store_true", help="5,000 sessions (CI smoke)")
    parser.add_argument("--sessions", type=int, default=100_000, metavar="N")
    parser.add_argument("--json", type=Path, metavar="PATH", help="also write figures as JSON")
    args = parser.parse_args(argv)
    count = 5000 if args.quick else args.sessions

    print(f"Python {platform.python_version()}, SQLite {sqlite3.sqlite_version}")
    print(f"{platform.platform()}, {platform.machine()}")
    print()
    with tempfile.TemporaryDirectory(prefix="wegweiser-bench-store-") as folder:
        figures = asyncio.run(measure(count, Path(folder)))
    report(figures)
    if args.json is not None:
        figures |= {"python": platform.python_version(), "sqlite": sqlite3.sqlite_version}
        args.json.write_text(json.dumps(figures, indent=2) + "\n", encoding="utf-8")
        print(f"figures written to {args.json}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
