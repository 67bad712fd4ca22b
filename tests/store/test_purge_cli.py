"""`wegweiser purge --all-expired`: what has expired goes now, from a real file."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bot.store.sqlite import SQLiteStore
from tests.conftest import wegweiser
from tests.store.test_sqlite import file_bytes, session_for, traces


def test_purge_deletes_expired_sessions_and_leaves_the_others(tmp_path: Path) -> None:
    database = tmp_path / "w.sqlite3"
    now = datetime.now(UTC)
    expired = session_for(1, expires=now - timedelta(minutes=1))
    kept = session_for(2, expires=now + timedelta(hours=1))

    async def fill() -> None:
        store = await SQLiteStore.open(database)
        try:
            await store.save(expired)
            await store.save(kept)
        finally:
            await store.close()

    asyncio.run(fill())

    run = wegweiser("purge", "--all-expired", "--database", database)

    assert run.returncode == 0, run.stderr
    assert "1 expired session(s) deleted" in run.stdout
    data = file_bytes(database)
    assert not traces(data, expired.key) and not traces(data, expired.address)
    assert kept.key in data


def test_purge_needs_its_flag_and_an_existing_database(tmp_path: Path) -> None:
    without_flag = wegweiser("purge", "--database", tmp_path / "w.sqlite3")
    missing = wegweiser("purge", "--all-expired", "--database", tmp_path / "w.sqlite3")

    assert without_flag.returncode == 2 and "--all-expired" in without_flag.stderr
    assert missing.returncode == 2 and "no database at" in missing.stderr
    assert not (tmp_path / "w.sqlite3").exists()
