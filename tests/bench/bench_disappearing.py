"""Benchmark of disappearing mode: one run of the job (ConversationService.delete_due) with many
persons due at once, on a real SQLite store that also keeps many sessions that are not due.

The person channel is a stand-in that takes `--latency` seconds per deleteMessages call (a Bot
API round trip) and counts the calls; everything else is the real service and store. Measures:
  1. the store's query for the sessions due now (indexed by next_due), alone;
  2. the whole run: persons due, deletion calls, seconds; with `--at-once 1` the persons are
     handled one by one, as the job did before issue 13 (1,000 due then took 51 s).

It prints figures and asserts nothing about timing; it is not a test. Run from the project root:

    .venv/bin/python tests/bench/bench_disappearing.py            # 1,000 due of 20,000 stored
    .venv/bin/python tests/bench/bench_disappearing.py --quick    # 200 due of 2,000 stored
    .venv/bin/python tests/bench/bench_disappearing.py --at-once 1
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from collections.abc import Collection, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

import bot.service.conversation as conversation
from bot.config import load_deployment
from bot.dialogue import Session
from bot.metrics import Metrics
from bot.service import (
    ConversationService,
    EngineHolder,
    SessionPolicy,
    Statistics,
)
from bot.service.ports import Capabilities
from bot.store import KeptMessage, SecretKeys, StoredSession
from bot.store.sqlite import SQLiteStore
from tests.conftest import MINIMAL_DEPLOYMENT, MINIMAL_FLOW, engine_for

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
KEYS = SecretKeys("the benchmark's deployment secret, not a real one")
DISAPPEAR = 300  # five minutes
MESSAGES = 10  # kept per session


class SlowChannel:
    """A person channel whose deletions take `latency` seconds each."""

    name = "telegram"
    capabilities = Capabilities(edit_in_place=True, toasts=True)

    def __init__(self, latency: float) -> None:
        self.latency = latency
        self.calls = 0
        self.deleted = 0

    async def delete(self, address: str, refs: Sequence[str], keep: Collection[str] = ()) -> None:
        self.calls += 1
        self.deleted += len(refs)
        await asyncio.sleep(self.latency)


class FixedClock:
    def now(self) -> datetime:
        return NOW


def session(chat_id: int, *, due: bool) -> StoredSession:
    key = KEYS.pseudonym("telegram", str(chat_id))
    # a due session's messages are 6 to 15 minutes old, the others' 0 to 4
    ages = range(360, 360 + 60 * MESSAGES, 60) if due else range(0, 24 * MESSAGES, 24)
    return StoredSession(
        key=key,
        address=KEYS.seal_address("telegram", str(chat_id), key),
        dialogue=Session(node="health", history=("start",), language="ro", disappear=DISAPPEAR),
        created=NOW - timedelta(hours=1),
        last_active=NOW,
        expires=NOW + timedelta(days=1),
        messages=tuple(
            KeptMessage(str(n), NOW - timedelta(seconds=age)) for n, age in enumerate(ages)
        ),
    )


async def measure(due: int, stored: int, latency: float, at_once: int) -> None:
    with tempfile.TemporaryDirectory(prefix="wegweiser-bench-") as folder:
        store = await SQLiteStore.open(Path(folder) / "bench.sqlite3")
        try:
            sessions = [session(n, due=n < due) for n in range(stored)]
            for start in range(0, stored, 500):
                await asyncio.gather(*(store.save(s) for s in sessions[start : start + 500]))
            began = time.perf_counter()
            found = await store.due(NOW, conversation.DUE_PAGE)
            query = time.perf_counter() - began

            channel = SlowChannel(latency)
            service = ConversationService(
                EngineHolder(engine_for(MINIMAL_FLOW, load_deployment(MINIMAL_DEPLOYMENT))),
                store,
                KEYS,
                {channel.name: channel},
                SessionPolicy(idle=timedelta(days=1), case_idle=timedelta(days=1)),
                Statistics(store, Metrics()),
                FixedClock(),
            )
            conversation.DUE_AT_ONCE = at_once
            began = time.perf_counter()
            await service.delete_due()
            took = time.perf_counter() - began
            left = await store.due(NOW, stored)
        finally:
            await store.close()
    print(f"sessions stored        {stored:>8,}")
    print(f"persons due            {due:>8,}")
    print(f"due query (first page) {query * 1000:>8.1f} ms  ({len(found)} sessions)")
    print(f"persons at once        {at_once:>8}")
    print(f"Bot API latency        {latency * 1000:>8.0f} ms per deleteMessages")
    print(f"deleteMessages calls   {channel.calls:>8,}  ({channel.deleted:,} messages)")
    print(f"one run of the job     {took:>8.2f} s")
    print(f"still due afterwards   {len(left):>8}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--due", type=int, default=1000, help="persons due")
    parser.add_argument("--stored", type=int, default=20_000, help="sessions kept in all")
    parser.add_argument("--latency", type=float, default=0.05, help="seconds per deletion")
    parser.add_argument("--at-once", type=int, default=conversation.DUE_AT_ONCE)
    parser.add_argument("--quick", action="store_true", help="200 due of 2,000 stored")
    arguments = parser.parse_args()
    if arguments.quick:
        arguments.due, arguments.stored = 200, 2000
    stored = max(arguments.stored, arguments.due)
    asyncio.run(measure(arguments.due, stored, arguments.latency, arguments.at_once))


if __name__ == "__main__":
    main()
