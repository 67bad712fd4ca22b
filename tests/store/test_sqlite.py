"""The session store against real SQLite files: round trips, expiry, what the bytes on disk
contain, schema versions, and the kept messages /exit deletes."""

from __future__ import annotations

import asyncio
import json
import logging
import sqlite3
import stat
from collections.abc import AsyncIterator
from contextlib import closing
from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest

import bot.store.sqlite as sqlite_store
from bot.dialogue import Session
from bot.handover.case import Case, CaseState
from bot.stats import Counted, CountRow, Event
from bot.store import (
    KeptMessage,
    SecretKeys,
    StoredSession,
    StoreError,
    log_tag,
)
from bot.store.base import MAX_KEPT_MESSAGES
from bot.store.sqlite import SQLiteStore

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
KEYS = SecretKeys("the tests' deployment secret, 40 chars.")
CHAT_ID = 7391846250


def session_for(chat_id: int, *, expires: datetime = NOW + timedelta(days=1)) -> StoredSession:
    key = KEYS.pseudonym("telegram", str(chat_id))
    return StoredSession(
        key=key,
        address=KEYS.seal_address("telegram", str(chat_id), key),
        dialogue=Session(node="health_counselling", history=("start", "topics"), language="ro"),
        created=NOW - timedelta(hours=1),
        last_active=NOW,
        expires=expires,
    )


def file_bytes(database: Path) -> bytes:
    """Everything SQLite keeps for the database: the file, its -wal and its -shm."""
    return b"".join(
        path.read_bytes()
        for path in (database, Path(f"{database}-wal"), Path(f"{database}-shm"))
        if path.exists()
    )


def traces(data: bytes, value: bytes) -> bool:
    """Whether `value`, or a 16-byte piece of its start or end, is in `data`."""
    return any(piece in data for piece in (value, value[:16], value[-16:]))


@pytest.fixture
def database(tmp_path: Path) -> Path:
    return tmp_path / "sessions.sqlite3"


@pytest.fixture
async def store(database: Path) -> AsyncIterator[SQLiteStore]:
    store = await SQLiteStore.open(database)
    yield store
    await store.close()


# --- round trips -----------------------------------------------------------------------------


async def test_saved_session_loads_with_every_field(store):
    saved = replace(
        session_for(CHAT_ID),
        dialogue=Session(
            node="leaving_job_centre",
            history=("start", "topics", "leaving", "leaving_money"),
            language="bg",
            case="K7Q2",
            channel="web",
        ),
        screen="4711",
        messages=(KeptMessage("17", NOW - timedelta(hours=3)), KeptMessage("18", NOW)),
    )
    await store.save(saved)
    assert await store.load(saved.key) == saved


async def test_session_with_nothing_chosen_yet_loads_as_saved(store):
    saved = replace(session_for(CHAT_ID), dialogue=Session())
    await store.save(saved)
    assert await store.load(saved.key) == saved


async def test_unknown_key_loads_as_none(store):
    assert await store.load(KEYS.pseudonym("telegram", str(CHAT_ID))) is None


async def test_saving_again_replaces_the_session(store):
    first = session_for(CHAT_ID)
    await store.save(first)
    second = replace(first, dialogue=Session(node="privacy", history=("start",)), screen="9")
    await store.save(second)
    assert await store.load(first.key) == second
    assert await store.count() == 1


async def test_times_come_back_as_aware_utc_whole_seconds(store):
    berlin = timezone(timedelta(hours=1))
    moment = datetime(2026, 3, 1, 13, 0, 5, 999_999, tzinfo=berlin)
    await store.save(replace(session_for(CHAT_ID), last_active=moment))
    loaded = await store.load(KEYS.pseudonym("telegram", str(CHAT_ID)))
    assert loaded is not None
    assert loaded.last_active == datetime(2026, 3, 1, 12, 0, 5, tzinfo=UTC)
    assert loaded.last_active.tzinfo is UTC


async def test_naive_time_is_refused(store):
    with pytest.raises(ValueError, match="aware"):
        await store.save(replace(session_for(CHAT_ID), expires=datetime(2026, 3, 2)))


async def test_delete_forgets_the_session_and_tells_whether_there_was_one(store):
    await store.save(session_for(CHAT_ID))
    await store.save(session_for(CHAT_ID + 1))
    assert await store.delete(KEYS.pseudonym("telegram", str(CHAT_ID))) is True
    assert await store.load(KEYS.pseudonym("telegram", str(CHAT_ID))) is None
    assert await store.delete(KEYS.pseudonym("telegram", str(CHAT_ID))) is False
    assert await store.load(KEYS.pseudonym("telegram", str(CHAT_ID + 1))) is not None


async def test_purge_removes_exactly_the_expired_sessions_and_counts_them(store):
    expired = [session_for(1, expires=NOW - timedelta(days=1)), session_for(2, expires=NOW)]
    alive = [session_for(3, expires=NOW + timedelta(seconds=1)), session_for(4)]
    for session in expired + alive:
        await store.save(session)

    assert await store.purge(NOW) == 2

    assert [await store.load(session.key) for session in expired] == [None, None]
    assert [await store.load(session.key) for session in alive] == alive
    assert await store.count() == 2
    assert await store.purge(NOW) == 0


def test_expired_means_what_purge_deletes():
    session = session_for(CHAT_ID, expires=NOW)
    assert session.expired(NOW)
    assert not session.expired(NOW - timedelta(seconds=1))


async def test_session_survives_close_and_reopen(database):
    saved = replace(session_for(CHAT_ID), messages=(KeptMessage("5", NOW),), screen="5")
    store = await SQLiteStore.open(database)
    await store.save(saved)
    await store.remember_media("ab" * 32, "file-id-1")
    await store.close()

    reopened = await SQLiteStore.open(database)
    try:
        loaded = await reopened.load(saved.key)
        assert loaded == saved
        assert loaded is not None
        assert KEYS.open_address(loaded.address, loaded.key) == ("telegram", str(CHAT_ID))
        assert await reopened.media_file_id("ab" * 32) == "file-id-1"
    finally:
        await reopened.close()


async def test_media_file_id_is_remembered_by_digest(store):
    digest = "0f" * 32
    assert await store.media_file_id(digest) is None
    await store.remember_media(digest, "AgACAgIAAxkBAAIB")
    await store.remember_media(digest, "AgACAgIAAxkBAAIC")
    assert await store.media_file_id(digest) == "AgACAgIAAxkBAAIC"
    assert await store.media_file_id("1e" * 32) is None


# --- what the files contain --------------------------------------------------------------------


async def test_files_never_contain_the_chat_id(store, database):
    session = session_for(CHAT_ID)
    for minute in range(20):  # several versions of the row, in the -wal
        await store.save(replace(session, screen=str(minute)).with_messages(str(minute), now=NOW))
    for other in range(1, 200):
        await store.save(session_for(other))
    written = [file_bytes(database)]
    await store.close()
    written.append(file_bytes(database))

    for data in written:
        assert str(CHAT_ID).encode() not in data
        assert CHAT_ID.to_bytes(8, "little") not in data
        assert CHAT_ID.to_bytes(8, "big") not in data
        assert traces(data, session.key)  # the search itself finds what is there


async def ongoing_conversations(store, count: int) -> list[StoredSession]:
    """`count` sessions saved, then saved again a little longer (more kept messages), as in a
    busy hour: rows grow and SQLite splits and rebalances pages. Every other one is expired."""
    past, future = NOW - timedelta(hours=1), NOW + timedelta(days=1)
    sessions = [
        session_for(chat_id, expires=past if chat_id % 2 else future) for chat_id in range(count)
    ]
    for turn in range(2):
        for index, session in enumerate(sessions):
            sessions[index] = session.with_messages(*refs(turn * 4, turn * 4 + 4), now=NOW)
            await store.save(sessions[index])
    return sessions


def checkpoint(database: Path) -> None:
    """Move everything from the -wal into the file, through a second connection."""
    connection = sqlite3.connect(database)
    try:
        connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        connection.close()


def with_stale_copies(database: Path, sessions: list[StoredSession]) -> list[StoredSession]:
    """The sessions whose sealed address is in the file more than once: a live row plus a stale
    copy SQLite left in the unused gap of a rebalanced page, which secure_delete never zeroes."""
    checkpoint(database)
    data = database.read_bytes()
    return [session for session in sessions if data.count(session.address) > 1]


def raw_files(database: Path) -> tuple[bytes, bytes]:
    """The file's and the -wal's bytes, read without a connection (one would checkpoint)."""
    wal = Path(f"{database}-wal")
    return database.read_bytes(), wal.read_bytes() if wal.exists() else b""


def row_pieces(session: StoredSession) -> list[bytes]:
    """What a session's row holds that is its own: pseudonym, sealed address, history."""
    return [session.key, session.address, session.dialogue.history[-1].encode()]


def distinct(chat_id: int) -> StoredSession:
    """A session with a screen in its history nobody else visited."""
    session = session_for(chat_id)
    history = ("start", f"n{chat_id:05d}_visited_by_{chat_id:05d}")
    return replace(session, dialogue=replace(session.dialogue, history=history))


async def test_a_deleted_row_is_gone_from_the_file_and_the_wal_when_delete_returns(store, database):
    sessions = [distinct(chat_id) for chat_id in range(300)]
    for turn in range(3):  # each in several frames of the -wal, and in the file
        for session in sessions:
            await store.save(session.with_messages(str(turn), now=NOW))
    checkpoint(database)
    gone = sessions[150]
    await store.save(gone.with_messages("3", now=NOW))  # and once more in the -wal only
    file, wal = raw_files(database)
    assert all(piece in file and piece in wal for piece in row_pieces(gone)), "proves nothing"

    assert await store.delete(gone.key)

    for data in raw_files(database):
        assert [piece for piece in row_pieces(gone) if traces(data, piece)] == []
    assert all(piece in database.read_bytes() for piece in row_pieces(sessions[151]))


async def test_a_forgotten_person_and_return_code_are_gone_from_the_files_at_once(store, database):
    person = KEYS.pseudonym("telegram", str(CHAT_ID))
    digest = KEYS.return_code_digest("amber-otter-lemon-42")
    await store.save_case(a_case(person=person))
    await store.save_return_code(digest, "K7Q2", NOW + timedelta(days=1))
    checkpoint(database)
    await store.save_case(a_case(person=person, alias="in the -wal too"))

    await store.forget_person(person)
    await store.forget_return_codes("K7Q2")

    for data in raw_files(database):
        assert not traces(data, person) and not traces(data, digest)


async def test_a_purged_row_is_gone_from_the_files_at_once_its_stale_copies_after_the_rebuild(
    store, database
):
    # 3000: with the schema of version 4, 2000 sessions leave no stale copy of an expired one
    sessions = await ongoing_conversations(store, 3000)
    purged, kept = sessions[1::2], sessions[0::2]
    stale = with_stale_copies(database, purged)
    assert stale, "no stale copies: the test proves nothing"

    assert await store.purge(NOW) == len(purged)

    file, wal = raw_files(database)
    assert wal == b""
    assert all(file.count(s.address) <= 1 for s in stale)  # only the stale copy is left
    assert [s for s in stale if traces(file, s.address)], "the rebuild proves nothing"

    assert await store.rebuild()

    data = file_bytes(database)
    assert [s.key.hex() for s in purged if traces(data, s.key) or traces(data, s.address)] == []
    assert all(session.key in data and session.address in data for session in kept)
    assert Path(f"{database}-wal").stat().st_size == 0


async def test_a_deleted_session_leaves_no_stale_copy_after_the_rebuild(store, database):
    sessions = await ongoing_conversations(store, 2000)
    stale = with_stale_copies(database, sessions)
    assert stale, "no stale copies: the test proves nothing"
    deleted = stale + [session for session in sessions[::100] if session not in stale]

    for session in deleted:
        assert await store.delete(session.key)
    assert await store.rebuild()

    data = file_bytes(database)
    assert [s.key.hex() for s in deleted if traces(data, s.key) or traces(data, s.address)] == []
    assert sessions[1].key in data
    assert Path(f"{database}-wal").stat().st_size == 0


async def test_the_rebuild_runs_only_after_a_deletion(store, database):
    assert await store.rebuild()  # the one after opening: a deletion may have come before
    sessions = await ongoing_conversations(store, 2000)
    stale = with_stale_copies(database, sessions)
    assert stale, "no stale copies: the test proves nothing"

    assert await store.rebuild()

    assert with_stale_copies(database, sessions) == stale  # nothing deleted, nothing rebuilt
    assert await store.delete(sessions[0].key)
    assert await store.rebuild()
    assert with_stale_copies(database, sessions) == []


async def test_a_rebuild_a_reader_blocks_is_tried_again_at_the_next_run_and_logged_once(
    database, monkeypatch, caplog
):
    monkeypatch.setattr(sqlite_store, "BUSY_TIMEOUT_MS", 50)
    store = await SQLiteStore.open(database)
    try:
        sessions = [session_for(chat_id) for chat_id in range(50)]
        for session in sessions:
            await store.save(session)
        reader = sqlite3.connect(database, isolation_level=None)
        reader.execute("BEGIN")
        reader.execute("SELECT count(*) FROM sessions").fetchone()  # holds an old snapshot
        with caplog.at_level(logging.WARNING, logger="bot.store.sqlite"):
            assert await store.delete(sessions[7].key)
            assert "the next rebuild tries again" in caplog.text
            assert traces(file_bytes(database), sessions[7].address)  # the reader's snapshot
            caplog.clear()
            assert not await store.rebuild()
            assert not await store.rebuild()
        assert [r.getMessage().count("could not be rebuilt") for r in caplog.records] == [1]
        reader.execute("COMMIT")
        reader.close()

        assert await store.rebuild()

        assert not traces(file_bytes(database), sessions[7].address)
        assert Path(f"{database}-wal").stat().st_size == 0
    finally:
        await store.close()


async def test_the_purge_and_the_rebuild_give_the_space_back(store, database):
    checkpoint(database)
    empty = database.stat().st_size  # the schema's own pages
    for chat_id in range(2000):
        await store.save(session_for(chat_id, expires=NOW))
    checkpoint(database)
    full = database.stat().st_size

    await store.purge(NOW)
    await store.rebuild()

    assert database.stat().st_size - empty < (full - empty) / 10


# --- the file itself ---------------------------------------------------------------------------


async def test_new_files_are_readable_by_their_owner_only(store, database):
    await store.save(session_for(CHAT_ID))
    for path in (database, Path(f"{database}-wal")):
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path


async def test_file_readable_by_others_is_reported(database, caplog):
    database.touch(mode=0o644)
    database.chmod(0o644)
    with caplog.at_level(logging.WARNING, logger="bot.store.sqlite"):
        store = await SQLiteStore.open(database)
        await store.close()
    assert "chmod 600" in caplog.text
    assert str(database) in caplog.text


async def test_fresh_file_gets_the_latest_schema_version(store, database):
    connection = sqlite3.connect(database)
    try:
        assert connection.execute("PRAGMA user_version").fetchone() == (
            sqlite_store.SCHEMA_VERSION,
        )
        assert connection.execute("PRAGMA journal_mode").fetchone() == ("wal",)
    finally:
        connection.close()


async def test_older_file_is_migrated_in_order_keeping_its_sessions(database, monkeypatch):
    session = session_for(CHAT_ID)
    store = await SQLiteStore.open(database)
    await store.save(session)
    await store.close()
    added = ("CREATE TABLE later (id INTEGER PRIMARY KEY)", "INSERT INTO later VALUES (42)")
    monkeypatch.setattr(sqlite_store, "MIGRATIONS", (*sqlite_store.MIGRATIONS, added))
    monkeypatch.setattr(sqlite_store, "SCHEMA_VERSION", sqlite_store.SCHEMA_VERSION + 1)

    store = await SQLiteStore.open(database)
    try:
        assert await store.load(session.key) == session
    finally:
        await store.close()
    connection = sqlite3.connect(database)
    try:
        assert connection.execute("SELECT id FROM later").fetchall() == [(42,)]
        assert connection.execute("PRAGMA user_version").fetchone() == (
            sqlite_store.SCHEMA_VERSION,
        )
    finally:
        connection.close()


def save_as_before_channels(database: Path, saved: StoredSession) -> None:
    """A session row as the code before sessions knew their channel wrote it (no `channel`), in
    a file of a schema that has the columns below."""
    dialogue = saved.dialogue
    with closing(sqlite3.connect(database)) as connection, connection:
        connection.execute(
            "INSERT INTO sessions (key, address, node, history, language, handover, disappear, "
            "screen, messages, created, last_active, expires) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, '[]', ?, ?, ?)",
            (
                saved.key,
                saved.address,
                dialogue.node,
                json.dumps(list(dialogue.history)),
                dialogue.language,
                dialogue.case,
                dialogue.disappear,
                saved.screen,
                *(int(t.timestamp()) for t in (saved.created, saved.last_active, saved.expires)),
            ),
        )


async def test_a_session_saved_before_sessions_knew_their_channel_loads_without_one(
    database, monkeypatch
):
    """The texts worded for a channel came with a column for it: a session of the schema before
    loads as it was, with no channel, and so gets the default texts."""
    (at,) = [
        index
        for index, migration in enumerate(sqlite_store.MIGRATIONS)
        if "ALTER TABLE sessions ADD COLUMN channel TEXT" in migration
    ]
    migrations = sqlite_store.MIGRATIONS
    monkeypatch.setattr(sqlite_store, "MIGRATIONS", migrations[:at])
    monkeypatch.setattr(sqlite_store, "SCHEMA_VERSION", at)
    await (await SQLiteStore.open(database)).close()  # the schema as it was
    saved = session_for(CHAT_ID)
    save_as_before_channels(database, saved)
    monkeypatch.setattr(sqlite_store, "MIGRATIONS", migrations)
    monkeypatch.setattr(sqlite_store, "SCHEMA_VERSION", len(migrations))

    store = await SQLiteStore.open(database)
    try:
        loaded = await store.load(saved.key)
        assert loaded == saved
        assert loaded is not None and loaded.dialogue.channel is None
        await store.save(replace(saved, dialogue=replace(saved.dialogue, channel="telegram")))
        reloaded = await store.load(saved.key)
        assert reloaded is not None and reloaded.dialogue.channel == "telegram"
    finally:
        await store.close()


async def test_failing_migration_leaves_no_half_schema(database, monkeypatch):
    broken = ("CREATE TABLE half (id INTEGER)", "THIS IS NOT SQL")
    monkeypatch.setattr(sqlite_store, "MIGRATIONS", (*sqlite_store.MIGRATIONS, broken))
    monkeypatch.setattr(sqlite_store, "SCHEMA_VERSION", sqlite_store.SCHEMA_VERSION + 1)

    with pytest.raises(StoreError) as refused:
        await SQLiteStore.open(database)

    assert str(database) in str(refused.value)

    connection = sqlite3.connect(database)
    try:
        assert connection.execute("PRAGMA user_version").fetchone() == (0,)
        assert connection.execute("SELECT name FROM sqlite_schema").fetchall() == []
    finally:
        connection.close()


async def test_file_with_a_newer_schema_is_refused_and_left_unchanged(database):
    connection = sqlite3.connect(database)
    connection.executescript("CREATE TABLE sessions (key BLOB); PRAGMA user_version = 99;")
    connection.close()
    before = database.read_bytes()

    with pytest.raises(StoreError) as refused:
        await SQLiteStore.open(database)

    message = str(refused.value)
    assert str(database) in message
    assert "99" in message
    assert str(sqlite_store.SCHEMA_VERSION) in message
    assert database.read_bytes() == before
    assert not Path(f"{database}-wal").exists()


async def test_file_that_is_not_sqlite_is_refused_naming_it(tmp_path):
    path = tmp_path / "notes.txt"
    path.write_text("these are not sessions\n" * 100)
    with pytest.raises(StoreError, match="not a SQLite database") as refused:
        await SQLiteStore.open(path)
    assert str(path) in str(refused.value)
    assert path.read_text() == "these are not sessions\n" * 100


async def test_missing_directory_is_refused_naming_it(tmp_path):
    path = tmp_path / "no such folder" / "sessions.sqlite3"
    with pytest.raises(StoreError, match="does not exist") as refused:
        await SQLiteStore.open(path)
    assert str(path) in str(refused.value)
    assert not path.parent.exists()


async def test_directory_in_place_of_the_file_is_refused_naming_it(tmp_path):
    with pytest.raises(StoreError) as refused:
        await SQLiteStore.open(tmp_path)
    assert str(tmp_path) in str(refused.value)


@pytest.mark.parametrize(
    ("column", "value"),
    [
        ("history", "[not json"),
        ("history", '["start", 7]'),
        ("messages", '{"17": 1}'),
        ("messages", "[[17]]"),
        ("node", b"\xff"),
        ("expires", "tomorrow"),
    ],
)
async def test_corrupt_row_loads_as_none_and_logs_only_the_tag(database, caplog, column, value):
    session = session_for(CHAT_ID)
    store = await SQLiteStore.open(database)
    await store.save(session)
    await store.save(session_for(CHAT_ID + 1))
    await store.close()
    connection = sqlite3.connect(database)
    connection.execute(f"UPDATE sessions SET {column} = ? WHERE key = ?", (value, session.key))
    connection.commit()
    connection.close()

    store = await SQLiteStore.open(database)
    try:
        with caplog.at_level(logging.WARNING, logger="bot.store.sqlite"):
            assert await store.load(session.key) is None
        assert await store.load(KEYS.pseudonym("telegram", str(CHAT_ID + 1))) is not None
    finally:
        await store.close()
    assert log_tag(session.address) in caplog.text
    assert session.key.hex() not in caplog.text
    assert str(value) not in caplog.text


# --- kept messages -----------------------------------------------------------------------------


# Telegram's window for deleting messages in a private chat, as the service passes it.
WINDOW = timedelta(hours=48)


def refs(start: int, stop: int) -> list[str]:
    return [str(number) for number in range(start, stop)]


def test_with_messages_keeps_new_ids_as_sent_now():
    session = session_for(CHAT_ID).with_messages("3", "4", now=NOW)
    assert session.messages == (KeptMessage("3", NOW), KeptMessage("4", NOW))
    assert session.with_messages("5", now=NOW).deletable(NOW) == ("3", "4", "5")


def test_with_messages_drops_messages_too_old_for_the_channel_to_delete():
    old = session_for(CHAT_ID).with_messages("1", now=NOW - WINDOW)
    old = old.with_messages("2", now=NOW - WINDOW + timedelta(seconds=1))
    kept = old.with_messages("3", now=NOW, keep_for=WINDOW).messages
    assert [m.message_id for m in kept] == ["2", "3"]
    assert len(old.with_messages("3", now=NOW).messages) == 3  # a channel that deletes any age


def test_with_messages_keeps_only_the_newest_thousand():
    session = session_for(CHAT_ID).with_messages(*refs(1, 601), now=NOW - timedelta(hours=1))
    session = session.with_messages(*refs(601, 1201), now=NOW)
    ids = [message.message_id for message in session.messages]
    assert len(ids) == MAX_KEPT_MESSAGES
    assert ids[0] == "201"
    assert ids[-1] == "1200"


def test_with_messages_ignores_an_id_it_already_keeps():
    session = session_for(CHAT_ID).with_messages("7", now=NOW - timedelta(hours=2))
    assert session.with_messages("7", "7", "8", now=NOW).messages == (
        KeptMessage("7", NOW - timedelta(hours=2)),
        KeptMessage("8", NOW),
    )


def test_deletable_lists_messages_the_channel_may_still_delete_oldest_first():
    session = replace(
        session_for(CHAT_ID),
        messages=(
            KeptMessage("30", NOW - timedelta(minutes=5)),
            KeptMessage("10", NOW - timedelta(hours=47)),
            KeptMessage("5", NOW - timedelta(hours=48)),
            KeptMessage("20", NOW - timedelta(hours=1)),
        ),
    )
    assert session.deletable(NOW, WINDOW) == ("10", "20", "30")
    assert session.deletable(NOW + timedelta(hours=2), WINDOW) == ("20", "30")
    assert session.deletable(NOW) == ("5", "10", "20", "30")


# -- the anonymous counters ----------------------------------------------------------------------

DAY = NOW.date()


async def test_counts_add_up_per_day_event_language_and_area(store):
    ro_health = Counted(Event.AREA_OPENED, "ro", "health")
    await store.add_counts(DAY, [ro_health, ro_health, Counted(Event.EXIT_USED, "ro")])
    await store.add_counts(DAY, [ro_health])
    await store.add_counts(DAY + timedelta(days=1), [Counted(Event.EXIT_USED, "bg")])

    assert await store.counts(DAY, DAY) == [
        CountRow(DAY, "area_opened", "ro", "health", 3),
        CountRow(DAY, "exit_used", "ro", "", 1),
    ]
    assert len(await store.counts(DAY, DAY + timedelta(days=1))) == 3


async def test_counts_added_by_many_turns_at_once_are_all_kept(store):
    """Each turn counts on the one shared connection; none may meet another's transaction."""
    counted = [Counted(Event.AREA_OPENED, "ro", "health"), Counted(Event.EXIT_USED, "ro")]

    await asyncio.gather(*(store.add_counts(DAY, counted) for _ in range(50)))

    assert await store.counts(DAY, DAY) == [
        CountRow(DAY, "area_opened", "ro", "health", 50),
        CountRow(DAY, "exit_used", "ro", "", 50),
    ]


async def test_the_counters_table_has_no_column_that_could_name_a_person(store, database):
    await store.add_counts(DAY, [Counted(Event.CONVERSATION_STARTED, "ro")])
    connection = sqlite3.connect(database)
    try:
        columns = [row[1] for row in connection.execute("PRAGMA table_info(counters)")]
    finally:
        connection.close()
    # a day, never a time; no key, address, session or node
    assert columns == ["day", "event", "language", "area", "count"]


async def test_counters_outlive_the_sessions_and_hold_none_of_them(store, database):
    session = session_for(CHAT_ID)
    await store.save(session)
    await store.add_counts(DAY, [Counted(Event.CONVERSATION_STARTED, "ro")])
    await store.delete(session.key)

    assert await store.counts(DAY, DAY) == [CountRow(DAY, "conversation_started", "ro", "", 1)]
    assert not traces(file_bytes(database), session.key)


async def test_a_version_1_file_gets_the_counters_and_keeps_its_sessions(database):
    session = session_for(CHAT_ID)
    connection = sqlite3.connect(database)
    for statement in sqlite_store.MIGRATIONS[0]:
        connection.execute(statement)
    connection.execute("PRAGMA user_version = 1")
    connection.commit()
    connection.close()
    store = await SQLiteStore.open(database)
    try:
        await store.save(session)
        await store.add_counts(DAY, [Counted(Event.EXIT_USED, "de")])
        assert await store.load(session.key) == session
        assert await store.counts(DAY, DAY) == [CountRow(DAY, "exit_used", "de", "", 1)]
    finally:
        await store.close()


async def test_a_health_check_during_turns_rolls_back_none_of_their_writes(store):
    """The check's BEGIN ... ROLLBACK runs on the connection the turns write on: no save may
    fall between the two and be rolled back with the check (81 of 200 were, with /healthz
    polled during a load)."""
    sessions = [session_for(CHAT_ID + number) for number in range(200)]

    async def save(session: StoredSession, number: int) -> None:
        await asyncio.sleep(number * 0.0002)
        await store.save(session)

    async def check(number: int) -> bool:
        await asyncio.sleep(number * 0.002)
        return await store.writable()

    checks = await asyncio.gather(
        *(check(number) for number in range(20)),
        *(save(session, number) for number, session in enumerate(sessions)),
    )

    assert sum([await store.load(session.key) is None for session in sessions]) == 0
    assert checks[:20] == [True] * 20


async def test_a_locked_database_is_not_writable_and_then_is_again(store, database):
    assert await store.writable()
    other = sqlite3.connect(database, isolation_level=None)
    try:
        other.execute("BEGIN EXCLUSIVE")
        assert not await store.writable()
        other.execute("ROLLBACK")
    finally:
        other.close()
    assert await store.writable()
    # the store's own writes still wait for a lock as long as before
    await store.save(session_for(CHAT_ID))


# -- cases ---------------------------------------------------------------------------------------


def a_case(code: str = "K7Q2", **changes: object) -> Case:
    case = Case(
        code=code,
        person=KEYS.pseudonym("telegram", str(CHAT_ID)),
        team="Beratung",
        group="-1009876543210",
        place="2",
        language="ro",
        area="health",
        path=("main.menu", "health.start"),
        opened=NOW,
        expires=NOW + timedelta(days=14),
    )
    return replace(case, **changes)  # type: ignore[arg-type]


async def test_a_case_round_trips_and_is_found_by_topic_and_person(store):
    case = a_case(state=CaseState.CLAIMED, alias="Mara", claimed=NOW, card="3")
    await store.save_case(case)

    assert await store.case("K7Q2") == case
    assert await store.case_in_place(case.group, "2") == case
    assert await store.case_of_person(KEYS.pseudonym("telegram", str(CHAT_ID))) == case
    assert await store.case_codes() == {"K7Q2"}


async def test_unclaimed_cases_older_than_the_limit_are_listed_once(store):
    await store.save_case(a_case("AAAA", opened=NOW - timedelta(minutes=30)))
    await store.save_case(a_case("BBBB", opened=NOW))
    await store.save_case(a_case("CCCC", opened=NOW - timedelta(minutes=30), told_nobody=True))

    waiting = await store.waiting_cases(opened_before=NOW - timedelta(minutes=15))

    assert [case.code for case in waiting] == ["AAAA"]


async def test_forgetting_a_person_leaves_no_trace_of_their_pseudonym(store, database):
    await store.save_case(a_case())
    await store.forget_person(KEYS.pseudonym("telegram", str(CHAT_ID)))

    assert (await store.case("K7Q2")).person is None
    assert not traces(file_bytes(database), KEYS.pseudonym("telegram", str(CHAT_ID)))


async def test_relayed_ids_and_return_codes_go_when_the_case_expires(store, database):
    await store.save_case(a_case(expires=NOW + timedelta(minutes=1)))
    await store.remember_relay("K7Q2", 17, 4711, from_person=True)
    await store.remember_relay("K7Q2", 18, 4712, from_person=False)
    assert await store.staff_copies("K7Q2") == ["4711"]
    digest = KEYS.return_code_digest("amber-otter-lemon-42")
    await store.save_return_code(digest, "K7Q2", NOW + timedelta(minutes=1))
    assert (await store.staff_copy("K7Q2", 17), await store.person_copy("K7Q2", "4711")) == (
        "4711",
        "17",
    )
    assert await store.case_of_return_code(digest, NOW) == "K7Q2"

    await store.purge(NOW + timedelta(minutes=2))

    assert await store.case("K7Q2") is None
    assert await store.staff_copy("K7Q2", 17) is None
    assert await store.case_of_return_code(digest, NOW) is None
    assert not traces(file_bytes(database), digest)
    assert b"amber-otter" not in file_bytes(database)  # the code itself was never stored


async def test_a_relay_begun_stays_begun_until_it_is_remembered_or_ended(store):
    await store.save_case(a_case())
    assert not await store.relay_begun("K7Q2", "17", from_person=True)

    await store.begin_relay("K7Q2", "17", from_person=True)
    await store.begin_relay("K7Q2", "17", from_person=True)  # a retry notes it again
    assert await store.relay_begun("K7Q2", "17", from_person=True)  # cut off here: in doubt
    assert not await store.relay_begun("K7Q2", "17", from_person=False)  # the other side's 17
    await store.remember_relay("K7Q2", "17", "4711", from_person=True)
    assert not await store.relay_begun("K7Q2", "17", from_person=True)  # remembered: settled
    await store.begin_relay("K7Q2", "18", from_person=False)
    await store.end_relay("K7Q2", "18", from_person=False)
    assert not await store.relay_begun("K7Q2", "18", from_person=False)


async def test_relays_begun_go_when_their_case_expires(store, database):
    await store.save_case(a_case(expires=NOW + timedelta(minutes=1)))
    await store.begin_relay("K7Q2", "17", from_person=True)

    await store.purge(NOW + timedelta(minutes=2))

    with closing(sqlite3.connect(database)) as connection:
        assert connection.execute("SELECT count(*) FROM relays_begun").fetchone() == (0,)


# -- handled updates -----------------------------------------------------------------------------


def before_handled_updates() -> tuple[tuple[str, ...], ...]:
    """The migrations of the code before the handled updates' table was added."""
    mine = next(
        index
        for index, migration in enumerate(sqlite_store.MIGRATIONS)
        if any("CREATE TABLE handled_updates" in statement for statement in migration)
    )
    return sqlite_store.MIGRATIONS[:mine]


async def test_a_file_of_the_previous_schema_gets_the_handled_updates_and_keeps_its_sessions(
    database, monkeypatch
):
    session = session_for(CHAT_ID)
    with monkeypatch.context() as previous:
        older = before_handled_updates()
        previous.setattr(sqlite_store, "MIGRATIONS", older)
        previous.setattr(sqlite_store, "SCHEMA_VERSION", len(older))
        await (await SQLiteStore.open(database)).close()
        save_as_before_channels(database, session)

    store = await SQLiteStore.open(database)
    try:
        assert await store.load(session.key) == session
        assert not await store.was_handled("telegram", 17)
        await store.mark_handled("telegram", 17, NOW)
        assert await store.was_handled("telegram", 17)
        assert not await store.was_handled("web", 17)
    finally:
        await store.close()
    connection = sqlite3.connect(database)
    try:
        assert connection.execute("PRAGMA user_version").fetchone() == (
            sqlite_store.SCHEMA_VERSION,
        )
        columns = [row[1] for row in connection.execute("PRAGMA table_info(handled_updates)")]
        assert columns == ["channel", "update_id", "hour"]  # ids and an hour, nothing of whose
    finally:
        connection.close()


async def test_a_handled_update_is_forgotten_a_day_after_telegram_would_deliver_it_again(store):
    await store.mark_handled("telegram", 5, NOW)
    await store.mark_handled("telegram", 5, NOW + timedelta(minutes=5))  # again: no error

    await store.purge(NOW + timedelta(hours=24))
    assert await store.was_handled("telegram", 5)
    await store.purge(NOW + timedelta(hours=27))
    assert not await store.was_handled("telegram", 5)


# --- disappearing mode by due time -------------------------------------------------------------

# Made by the store at schema version 4 (before next_due): CHAT_ID in disappearing mode (60 s)
# with messages sent 120 s and 10 s before NOW, CHAT_ID + 1 in the mode without messages, and
# CHAT_ID + 2 not in the mode with a message 500 s old.
SCHEMA_4 = Path(__file__).parent / "fixtures" / "schema4.sqlite3"


async def test_a_version_4_file_gets_next_due_for_its_disappearing_sessions(database):
    database.write_bytes(SCHEMA_4.read_bytes())
    database.chmod(0o600)
    store = await SQLiteStore.open(database)
    try:
        due = await store.due(NOW, 10)
        assert [session.key for session in due] == [session_for(CHAT_ID).key]
        assert due[0].next_due == NOW - timedelta(seconds=60)
        assert await store.due(NOW - timedelta(seconds=61), 10) == []
    finally:
        await store.close()
    connection = sqlite3.connect(database)
    try:
        stored = dict(connection.execute("SELECT key, next_due FROM sessions").fetchall())
        assert stored == {
            session_for(CHAT_ID).key: int((NOW - timedelta(seconds=60)).timestamp()),
            session_for(CHAT_ID + 1).key: None,
            session_for(CHAT_ID + 2).key: None,
        }
        plan = connection.execute(
            "EXPLAIN QUERY PLAN SELECT key FROM sessions WHERE next_due <= 0 ORDER BY next_due"
        ).fetchall()
        assert "sessions_by_next_due" in str(plan)  # an index, not a scan of every session
    finally:
        connection.close()


async def test_due_reads_only_sessions_due_now_the_longest_due_first_and_save_keeps_it(store):
    def disappearing(chat_id: int, seconds: int, *sent_ago: int) -> StoredSession:
        session = session_for(chat_id)
        return replace(
            session,
            dialogue=replace(session.dialogue, disappear=seconds),
            messages=tuple(
                KeptMessage(str(n), NOW - timedelta(seconds=ago)) for n, ago in enumerate(sent_ago)
            ),
        )

    later = disappearing(1, 60, 30)  # due in 30 s
    first = disappearing(2, 60, 600, 10)  # due 540 s ago
    second = disappearing(3, 300, 301)  # due 1 s ago
    empty = disappearing(4, 60)
    not_in_mode = replace(session_for(5), messages=(KeptMessage("9", NOW - timedelta(days=1)),))
    for session in (later, first, second, empty, not_in_mode):
        await store.save(session)

    assert [s.key for s in await store.due(NOW, 10)] == [first.key, second.key]
    assert [s.key for s in await store.due(NOW, 1)] == [first.key]
    # the due message deleted and saved: due again when the next one is
    await store.save(first.without_messages(["0"]))
    assert [s.key for s in await store.due(NOW, 10)] == [second.key]
    assert [s.key for s in await store.due(NOW + timedelta(seconds=50), 10)] == [
        second.key,
        later.key,
        first.key,
    ]


async def test_a_case_of_a_version_4_file_keeps_its_place_as_text(database, monkeypatch):
    """Before channels had names, a case's staff group, topic and card were Telegram numbers."""
    with monkeypatch.context() as previous:
        previous.setattr(sqlite_store, "MIGRATIONS", sqlite_store.MIGRATIONS[:4])
        previous.setattr(sqlite_store, "SCHEMA_VERSION", 4)
        await (await SQLiteStore.open(database)).close()
    connection = sqlite3.connect(database)
    with connection:
        connection.execute(
            "INSERT INTO cases (code, person, team, chat_id, thread_id, language, area, path, "
            "state, card_id, opened, told_nobody, expires) VALUES ('K7Q2', NULL, 'team', "
            "-1009876543210, 42, 'ro', '', '[]', 'waiting', 43, 0, 0, 4000000000)"
        )
    connection.close()

    store = await SQLiteStore.open(database)
    try:
        case = await store.case("K7Q2")
        assert case is not None
        assert (case.group, case.place, case.card) == ("-1009876543210", "42", "43")
        assert await store.case_in_place("-1009876543210", "42") == case
    finally:
        await store.close()


async def test_a_transcript_whose_session_was_never_saved_is_purged_out_of_the_files(
    store: SQLiteStore, database: Path
) -> None:
    """A first turn that failed leaves a transcript without a session: the purge takes it, down
    to its bytes, even when no session expired in the same purge."""
    orphan = b"orphan-session-key-0123456789ab"
    await store.start_transcript(orphan, b"P" * 32, NOW)
    await store.add_entry(orphan, b"sealed-entry-of-a-failed-first-turn")

    await store.purge(NOW + timedelta(hours=2))

    assert await store.transcript_key(orphan) is None
    assert b"sealed-entry-of-a-failed-first-turn" not in file_bytes(database)
