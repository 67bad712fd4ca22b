"""Counsellors in the store: their chosen alias by a keyed digest of their account id, never the
id or their account's name; a file of the schema before keeps the chosen aliases of its cases
and loses the ids and first names (the end-to-end side is
tests/channels/telegram/test_counsellor_identity.py)."""

from __future__ import annotations

import sqlite3
from contextlib import closing
from pathlib import Path

import pytest

import bot.store.sqlite as sqlite_store
from bot.store.sqlite import SQLiteStore
from tests.fake_bot_api import Person
from tests.store.test_sqlite import KEYS, file_bytes

# A counsellor with an id and a first name that are easy to find in the file's bytes.
DOROTHEA = Person(user_id=987654321987, first_name="Dorothea", language_code="de")


def varint(number: int) -> bytes:
    """SQLite's varint of a small positive number, as a rowid is kept in a b-tree."""
    groups = []
    while number:
        groups.insert(0, number & 0x7F)
        number >>= 7
    return bytes([*(0x80 | group for group in groups[:-1]), groups[-1]])


# The id as text, as an integer in a row, and as a rowid (the old table's primary key).
ID_BYTES = (
    str(DOROTHEA.user_id).encode(),
    DOROTHEA.user_id.to_bytes(6, "big"),
    varint(DOROTHEA.user_id),
)


def aliases_migration() -> int:
    """The index of the migration that keys aliases by digest (another may come before it)."""
    return next(
        i
        for i, migration in enumerate(sqlite_store.MIGRATIONS)
        if "DROP TABLE aliases" in migration
    )


async def test_a_file_of_the_schema_before_keeps_chosen_aliases_and_loses_ids_and_names(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    database = tmp_path / "before.sqlite3"
    migrations, version = sqlite_store.MIGRATIONS, aliases_migration()
    monkeypatch.setattr(sqlite_store, "MIGRATIONS", migrations[:version])
    monkeypatch.setattr(sqlite_store, "SCHEMA_VERSION", version)
    store = await SQLiteStore.open(database)  # the schema as it was
    await store.close()
    with closing(sqlite3.connect(database)) as connection, connection:
        # its cases, with their two kinds of alias, as rows of that schema
        for code, alias in (("AAAA", "Mara"), ("BBBB", DOROTHEA.first_name)):
            connection.execute(
                "INSERT INTO cases (code, person, team, chat_id, thread_id, language, area, "
                "path, state, alias, opened, told_nobody, expires) "
                "VALUES (?, NULL, 'team', -100, 2, 'ro', '', '[]', 'claimed', ?, 0, 0, 4000000000)",
                (code, alias),
            )
        connection.execute("INSERT INTO aliases VALUES (?, ?)", (DOROTHEA.user_id + 1, "Mara"))
        connection.execute("INSERT INTO aliases VALUES (?, ?)", (DOROTHEA.user_id, "Dori"))
    assert all(needle in file_bytes(database) for needle in (b"Dorothea", ID_BYTES[2]))
    monkeypatch.setattr(sqlite_store, "MIGRATIONS", migrations)
    monkeypatch.setattr(sqlite_store, "SCHEMA_VERSION", len(migrations))

    store = await SQLiteStore.open(database)
    try:
        assert (await store.case("AAAA")).alias == "Mara"  # type: ignore[union-attr]
        assert (await store.case("BBBB")).alias is None  # type: ignore[union-attr]
        digest = KEYS.counsellor_digest(str(DOROTHEA.user_id))
        assert await store.alias(digest) is None  # chosen again with /alias
        await store.set_alias(digest, "Dori")
        assert await store.alias(digest) == "Dori"
    finally:
        await store.close()
    stored = file_bytes(database)
    for needle in (b"Dorothea", *ID_BYTES):
        assert needle not in stored, f"the migrated file still holds {needle!r}"
