"""The session store in one SQLite file, through aiosqlite (one connection, its own thread).

A deleted or purged session must leave the files' bytes, not only the tables, in two steps:

- At once, at a cost that does not grow with the store: secure_delete zeroes a deleted row where
  it lies, but in WAL mode that zeroed page is a new frame of the -wal, while the file keeps the
  old page and older frames keep the row too. So every deletion is followed by a checkpoint that
  copies the -wal into the file and truncates it: its cost is the -wal's size (bounded by the
  auto-checkpoint), not the store's.
- Later, in the background: when SQLite rebalances a page it leaves stale copies of moved rows
  in the page's unused gap, which it never zeroes (the tests find deleted pseudonyms there).
  rebuild(), run by the runtime every `sessions.erase_every_minutes` and only after a deletion,
  rebuilds the file from the live rows (VACUUM; it costs about 6 ms per 1,000 sessions kept and
  holds every other statement meanwhile) and truncates the -wal again. A rebuild that cannot run
  (another process reads the file) is tried again at the next run, so stale bytes remain for at
  most one interval plus one rebuild, unless a rebuild keeps failing, which is logged.
"""

from __future__ import annotations

import json
import logging
import math
import os
import sqlite3
from collections import Counter
from collections.abc import Iterable
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import aiosqlite

from bot.dialogue import Session
from bot.handover.case import Case, CaseState
from bot.stats.events import Counted, CountRow
from bot.store.base import (
    HANDLED_KEPT,
    CaseStore,
    KeptMessage,
    SessionStore,
    StoredSession,
    StoreError,
    Transcripts,
    UpdateLog,
)
from bot.store.keys import log_tag

log = logging.getLogger(__name__)

BUSY_TIMEOUT_MS = 5000
# How long a health check waits for the write lock before it calls the database not writable.
HEALTH_TIMEOUT_MS = 500

# The schema, one migration per version (PRAGMA user_version counts the applied ones). A
# migration is a tuple of single statements rather than one script: sqlite3's executescript()
# commits the open transaction first, and all pending migrations must apply in one transaction.
MIGRATIONS: tuple[tuple[str, ...], ...] = (
    (
        """CREATE TABLE sessions (
            key BLOB PRIMARY KEY,
            address BLOB NOT NULL,
            node TEXT,
            history TEXT NOT NULL,  -- JSON list of node ids
            language TEXT,
            handover TEXT,  -- the code of the person's counsellor conversation (case)
            screen INTEGER,
            messages TEXT NOT NULL,  -- compact JSON [[message_id, unix_seconds], ...]
            created INTEGER NOT NULL,
            last_active INTEGER NOT NULL,
            expires INTEGER NOT NULL
        ) WITHOUT ROWID""",
        "CREATE INDEX sessions_by_expiry ON sessions (expires)",
        "CREATE TABLE media (digest TEXT PRIMARY KEY, file_id TEXT NOT NULL) WITHOUT ROWID",
    ),
    (
        # Anonymous statistics: how often an event happened on a day, in a language, in a topic
        # area. No key, no session, no time of day: nothing to link a count to a person.
        """CREATE TABLE counters (
            day TEXT NOT NULL,  -- ISO date, UTC
            event TEXT NOT NULL,
            language TEXT NOT NULL,
            area TEXT NOT NULL,
            count INTEGER NOT NULL,
            PRIMARY KEY (day, event, language, area)
        ) WITHOUT ROWID""",
    ),
    (
        # Counsellor conversations. `person` is the pseudonym of the person's session (NULL once
        # they erased it); a case is deleted when it expires, with its relayed message ids.
        """CREATE TABLE cases (
            code TEXT PRIMARY KEY,
            person BLOB,
            team TEXT NOT NULL,
            chat_id INTEGER NOT NULL,
            thread_id INTEGER NOT NULL,
            language TEXT NOT NULL,
            area TEXT NOT NULL,
            path TEXT NOT NULL,  -- JSON list of node ids
            state TEXT NOT NULL,
            card_id INTEGER,
            alias TEXT,
            opened INTEGER NOT NULL,
            claimed INTEGER,
            replied INTEGER,
            closed INTEGER,
            told_nobody INTEGER NOT NULL,
            expires INTEGER NOT NULL
        ) WITHOUT ROWID""",
        "CREATE INDEX cases_by_person ON cases (person)",
        "CREATE INDEX cases_by_topic ON cases (chat_id, thread_id)",
        "CREATE INDEX cases_by_expiry ON cases (expires)",
        # Which copy is which: the person's message id and the staff group's, for replies and
        # edits. Ids only, never content.
        """CREATE TABLE relayed (
            code TEXT NOT NULL,
            person_message INTEGER NOT NULL,
            staff_message INTEGER NOT NULL,
            from_person INTEGER NOT NULL,  -- 1: the staff message is the bot's copy
            PRIMARY KEY (code, person_message)
        ) WITHOUT ROWID""",
        "CREATE INDEX relayed_by_staff_message ON relayed (code, staff_message)",
        # Return codes, as keyed digests (the code itself is never stored).
        """CREATE TABLE return_codes (
            digest BLOB PRIMARY KEY,
            code TEXT NOT NULL,
            expires INTEGER NOT NULL
        ) WITHOUT ROWID""",
        # The names counsellors chose for themselves (/alias), by their Telegram user id.
        "CREATE TABLE aliases (user_id INTEGER PRIMARY KEY, alias TEXT NOT NULL)",
    ),
    (
        # Disappearing mode: the person's messages are deleted this many seconds after sending.
        "ALTER TABLE sessions ADD COLUMN disappear INTEGER",
        "CREATE INDEX sessions_disappearing ON sessions (disappear) WHERE disappear IS NOT NULL",
    ),
    (
        # A case claimed without an alias kept the counsellor's first name as its alias: only
        # names counsellors chose stay.
        "UPDATE cases SET alias = NULL WHERE alias NOT IN (SELECT alias FROM aliases)",
        # Aliases by a keyed digest of the counsellor's account id, no longer by the id itself.
        # The digest needs the secret key, which a migration does not have: counsellors choose
        # their alias once more (/alias), and the ids go with the old table.
        "DROP TABLE aliases",
        "CREATE TABLE aliases (digest BLOB PRIMARY KEY, alias TEXT NOT NULL) WITHOUT ROWID",
    ),
    (
        # Disappearing mode by due time: when the oldest kept message's time is up (unix
        # seconds; NULL: nothing due), so the job reads only the sessions due now.
        "ALTER TABLE sessions ADD COLUMN next_due INTEGER",
        """UPDATE sessions SET next_due = disappear + (
            SELECT MIN(json_extract(value, '$[1]')) FROM json_each(messages)
        ) WHERE disappear IS NOT NULL""",
        "DROP INDEX sessions_disappearing",
        "CREATE INDEX sessions_by_next_due ON sessions (next_due) WHERE next_due IS NOT NULL",
    ),
    (
        # The updates a channel handled, by the channel's own update id, so that one delivered
        # again is skipped. The hour it was handled, for forgetting it; nothing about whose.
        """CREATE TABLE handled_updates (
            channel TEXT NOT NULL,
            update_id INTEGER NOT NULL,
            hour INTEGER NOT NULL,  -- unix hours
            PRIMARY KEY (channel, update_id)
        ) WITHOUT ROWID""",
        "CREATE INDEX handled_updates_by_hour ON handled_updates (hour)",
    ),
    (
        # A case's place as the staff channel names it, as text (a Telegram group and topic
        # were numbers; the columns keep their numeric affinity, so old rows read the same).
        "ALTER TABLE cases RENAME COLUMN chat_id TO staff_group",
        "ALTER TABLE cases RENAME COLUMN thread_id TO place",
        "ALTER TABLE cases RENAME COLUMN card_id TO card",
    ),
    (
        # A channel's sealed copy of a conversation (the web chat's), by the session's key: the
        # public key entries are sealed to, and the entries, which the store cannot open.
        """CREATE TABLE transcripts (
            session BLOB PRIMARY KEY,
            public BLOB NOT NULL,
            next_ref INTEGER NOT NULL DEFAULT 1,
            created INTEGER NOT NULL
        ) WITHOUT ROWID""",
        """CREATE TABLE transcript_entries (
            session BLOB NOT NULL,
            ref INTEGER NOT NULL,
            sealed BLOB NOT NULL,
            PRIMARY KEY (session, ref)
        ) WITHOUT ROWID""",
    ),
    (
        # The channel a session's person writes through ("telegram", "web"), for the texts
        # worded for it. Sessions saved before have none and get the default texts.
        "ALTER TABLE sessions ADD COLUMN channel TEXT",
    ),
    (
        # Relays under way: noted as the copy is sent and dropped once it is remembered in
        # `relayed`, so that a relay cut off by a crash is neither sent twice nor lost unseen.
        # Message ids only; gone with the case.
        """CREATE TABLE relays_begun (
            code TEXT NOT NULL,
            source TEXT NOT NULL,  -- the message's id on its sender's side
            from_person INTEGER NOT NULL,
            PRIMARY KEY (code, from_person, source)
        ) WITHOUT ROWID""",
    ),
)
# A transcript whose session was never saved (its first turn failed) is purged after this long.
UNSAVED_TRANSCRIPT_SECONDS = 3600
SCHEMA_VERSION = len(MIGRATIONS)

_COLUMNS = (
    "address, node, history, language, handover, disappear, screen, messages, channel, "
    "created, last_active, expires"
)


class SQLiteStore(SessionStore, CaseStore, UpdateLog, Transcripts):
    """Sessions in a SQLite file. Open it with `await SQLiteStore.open(path)` and close it: the
    connection's thread keeps the process alive until then."""

    def __init__(self, connection: aiosqlite.Connection, path: Path) -> None:
        self._connection = connection
        self._path = path
        # A deletion whose stale copies may still be in the file. True at first: a deletion
        # before a restart (or a crash) may not have been followed by its rebuild.
        self._rebuild_pending = True
        self._rebuild_failed = False  # the last rebuild did not complete (logged once)

    @classmethod
    async def open(cls, path: Path) -> SQLiteStore:
        """Open (or create, mode 0600) the store at `path` and bring its schema up to date."""
        path = Path(path)
        _create_private(path)
        try:
            connection = await aiosqlite.connect(path, isolation_level=None)
        except sqlite3.Error as error:
            raise StoreError(f"cannot open the session store {path}: {error}") from error
        try:
            await _prepare(connection, path)
        except sqlite3.Error as error:
            await connection.close()
            raise StoreError(f"cannot open the session store {path}: {error}") from error
        except BaseException:
            await connection.close()
            raise
        return cls(connection, path)

    async def load(self, key: bytes) -> StoredSession | None:
        rows = await self._fetch(f"SELECT {_COLUMNS} FROM sessions WHERE key = ?", (key,))
        if not rows:
            return None
        try:
            return _session_from_row(key, rows[0])
        except (ValueError, TypeError, OverflowError) as error:
            address = rows[0][0]
            log.warning(
                "session %s: unreadable row (%s), treated as no session",
                log_tag(address) if isinstance(address, bytes) else "?",
                type(error).__name__,
            )
            return None

    async def save(self, session: StoredSession) -> None:
        dialogue = session.dialogue
        await self._execute(
            f"REPLACE INTO sessions (key, {_COLUMNS}, next_due) VALUES ({', '.join('?' * 14)})",
            (
                session.key,
                session.address,
                dialogue.node,
                _compact(list(dialogue.history)),
                dialogue.language,
                dialogue.case,
                dialogue.disappear,
                session.screen,
                _compact([[m.message_id, _unix(m.sent)] for m in session.messages]),
                dialogue.channel,
                _unix(session.created),
                _unix(session.last_active),
                _unix(session.expires),
                _unix_or_none(session.next_due),
            ),
        )

    async def delete(self, key: bytes) -> bool:
        deleted = await self._execute("DELETE FROM sessions WHERE key = ?", (key,))
        transcript = await self._forget_transcript(key)
        if deleted or transcript:
            await self._forget()
        return deleted > 0

    async def purge(self, now: datetime) -> int:
        moment = (_unix(now),)
        # a session's transcript goes with it, and one whose session was never saved
        transcripts = await self._execute(
            "DELETE FROM transcripts WHERE session IN (SELECT key FROM sessions WHERE expires <= ?)"
            " OR (created <= ? AND session NOT IN (SELECT key FROM sessions))",
            (_unix(now), _unix(now) - UNSAVED_TRANSCRIPT_SECONDS),
        )
        entries = await self._execute(
            "DELETE FROM transcript_entries WHERE session NOT IN (SELECT session FROM transcripts)"
        )
        deleted = await self._execute("DELETE FROM sessions WHERE expires <= ?", moment)
        cases = await self._execute("DELETE FROM cases WHERE expires <= ?", moment)
        if cases:
            await self._execute("DELETE FROM relayed WHERE code NOT IN (SELECT code FROM cases)")
            await self._execute(
                "DELETE FROM relays_begun WHERE code NOT IN (SELECT code FROM cases)"
            )
        codes = await self._execute("DELETE FROM return_codes WHERE expires <= ?", moment)
        await self._execute(
            "DELETE FROM handled_updates WHERE hour < ?", (_hour(now - HANDLED_KEPT),)
        )
        if deleted or transcripts or entries or cases or codes:
            await self._forget()
        return deleted

    # -- transcripts ----------------------------------------------------------------------------

    async def start_transcript(self, session: bytes, public: bytes, now: datetime) -> bytes:
        await self._execute(
            "INSERT OR IGNORE INTO transcripts (session, public, created) VALUES (?, ?, ?)",
            (session, public, _unix(now)),
        )
        stored = await self.transcript_key(session)
        assert stored is not None
        return stored

    async def transcript_key(self, session: bytes) -> bytes | None:
        rows = await self._fetch("SELECT public FROM transcripts WHERE session = ?", (session,))
        return bytes(rows[0][0]) if rows else None

    async def add_entry(self, session: bytes, sealed: bytes) -> int | None:
        rows = await self._fetch(
            "UPDATE transcripts SET next_ref = next_ref + 1 WHERE session = ? RETURNING next_ref",
            (session,),
        )
        if not rows:
            return None
        ref = int(rows[0][0]) - 1
        await self._execute(
            "INSERT INTO transcript_entries (session, ref, sealed) VALUES (?, ?, ?)",
            (session, ref, sealed),
        )
        return ref

    async def replace_entry(self, session: bytes, ref: int, sealed: bytes) -> bool:
        return (
            await self._execute(
                "UPDATE transcript_entries SET sealed = ? WHERE session = ? AND ref = ?",
                (sealed, session, ref),
            )
            > 0
        )

    async def entries(self, session: bytes) -> list[tuple[int, bytes]]:
        rows = await self._fetch(
            "SELECT ref, sealed FROM transcript_entries WHERE session = ? ORDER BY ref",
            (session,),
        )
        return [(int(ref), bytes(sealed)) for ref, sealed in rows]

    async def drop_entries(self, session: bytes, refs: Iterable[int]) -> None:
        refs = list(refs)
        for start in range(0, len(refs), 500):
            chunk = refs[start : start + 500]
            await self._execute(
                f"DELETE FROM transcript_entries WHERE session = ? AND ref IN "
                f"({', '.join('?' * len(chunk))})",
                (session, *chunk),
            )
        await self._forget()

    async def _forget_transcript(self, session: bytes) -> bool:
        """Delete the session's transcript; whether there was anything to delete."""
        entries = await self._execute(
            "DELETE FROM transcript_entries WHERE session = ?", (session,)
        )
        kept = await self._execute("DELETE FROM transcripts WHERE session = ?", (session,))
        return entries + kept > 0

    # -- handled updates ----------------------------------------------------------------------

    async def was_handled(self, channel: str, update_id: int) -> bool:
        rows = await self._fetch(
            "SELECT 1 FROM handled_updates WHERE channel = ? AND update_id = ?",
            (channel, update_id),
        )
        return bool(rows)

    async def mark_handled(self, channel: str, update_id: int, now: datetime) -> None:
        await self._execute(
            "INSERT OR IGNORE INTO handled_updates (channel, update_id, hour) VALUES (?, ?, ?)",
            (channel, update_id, _hour(now)),
        )

    # -- cases ------------------------------------------------------------------------------

    async def save_case(self, case: Case) -> None:
        await self._execute(
            f"REPLACE INTO cases ({_CASE_COLUMNS}) VALUES ({', '.join('?' * 17)})",
            (
                case.code,
                case.person,
                case.team,
                case.group,
                case.place,
                case.language,
                case.area,
                _compact(list(case.path)),
                case.state.value,
                case.card,
                case.alias,
                _unix(case.opened),
                *(
                    None if t is None else _unix(t)
                    for t in (case.claimed, case.replied, case.closed)
                ),
                int(case.told_nobody),
                _unix(case.expires),
            ),
        )

    async def case(self, code: str) -> Case | None:
        return await self._one_case("code = ?", (code,))

    async def case_in_place(self, group: str, place: str) -> Case | None:
        return await self._one_case("staff_group = ? AND place = ?", (group, place))

    async def case_of_person(self, person: bytes) -> Case | None:
        return await self._one_case("person = ? ORDER BY opened DESC", (person,))

    async def waiting_cases(self, opened_before: datetime) -> list[Case]:
        rows = await self._fetch(
            f"SELECT {_CASE_COLUMNS} FROM cases WHERE state = ? AND told_nobody = 0 "
            "AND opened <= ?",
            (CaseState.WAITING.value, _unix(opened_before)),
        )
        return [_case_from_row(row) for row in rows]

    async def case_codes(self) -> set[str]:
        return {str(code) for (code,) in await self._fetch("SELECT code FROM cases")}

    async def forget_person(self, person: bytes) -> None:
        if await self._execute("UPDATE cases SET person = NULL WHERE person = ?", (person,)):
            await self._forget()

    async def begin_relay(self, code: str, source: str, *, from_person: bool) -> None:
        await self._execute(
            "INSERT OR IGNORE INTO relays_begun (code, source, from_person) VALUES (?, ?, ?)",
            (code, source, int(from_person)),
        )

    async def relay_begun(self, code: str, source: str, *, from_person: bool) -> bool:
        rows = await self._fetch(
            "SELECT 1 FROM relays_begun WHERE code = ? AND source = ? AND from_person = ?",
            (code, source, int(from_person)),
        )
        return bool(rows)

    async def end_relay(self, code: str, source: str, *, from_person: bool) -> None:
        await self._execute(
            "DELETE FROM relays_begun WHERE code = ? AND source = ? AND from_person = ?",
            (code, source, int(from_person)),
        )

    async def remember_relay(
        self, code: str, person_message: str, staff_message: str, *, from_person: bool
    ) -> None:
        await self._execute(
            "REPLACE INTO relayed (code, person_message, staff_message, from_person) "
            "VALUES (?, ?, ?, ?)",
            (code, person_message, staff_message, int(from_person)),
        )
        # after the copy is remembered: a crash between the two finds the copy first
        source = person_message if from_person else staff_message
        await self.end_relay(code, source, from_person=from_person)

    async def staff_copy(self, code: str, person_message: str) -> str | None:
        rows = await self._fetch(
            "SELECT staff_message FROM relayed WHERE code = ? AND person_message = ?",
            (code, person_message),
        )
        return str(rows[0][0]) if rows else None

    async def staff_copies(self, code: str) -> list[str]:
        rows = await self._fetch(
            "SELECT staff_message FROM relayed WHERE code = ? AND from_person = 1", (code,)
        )
        return [str(message) for message in sorted(message for (message,) in rows)]

    async def person_copy(self, code: str, staff_message: str) -> str | None:
        rows = await self._fetch(
            "SELECT person_message FROM relayed WHERE code = ? AND staff_message = ?",
            (code, staff_message),
        )
        return str(rows[0][0]) if rows else None

    async def save_return_code(self, digest: bytes, code: str, expires: datetime) -> None:
        await self._execute(
            "REPLACE INTO return_codes (digest, code, expires) VALUES (?, ?, ?)",
            (digest, code, _unix(expires)),
        )

    async def case_of_return_code(self, digest: bytes, now: datetime) -> str | None:
        rows = await self._fetch(
            "SELECT code FROM return_codes WHERE digest = ? AND expires > ?", (digest, _unix(now))
        )
        return str(rows[0][0]) if rows else None

    async def forget_return_codes(self, code: str) -> None:
        if await self._execute("DELETE FROM return_codes WHERE code = ?", (code,)):
            await self._forget()

    async def alias(self, counsellor: bytes) -> str | None:
        rows = await self._fetch("SELECT alias FROM aliases WHERE digest = ?", (counsellor,))
        return str(rows[0][0]) if rows else None

    async def set_alias(self, counsellor: bytes, alias: str) -> None:
        await self._execute(
            "REPLACE INTO aliases (digest, alias) VALUES (?, ?)", (counsellor, alias)
        )

    async def _one_case(self, where: str, parameters: tuple[Any, ...]) -> Case | None:
        rows = await self._fetch(
            f"SELECT {_CASE_COLUMNS} FROM cases WHERE {where} LIMIT 1", parameters
        )
        return _case_from_row(rows[0]) if rows else None

    async def due(self, now: datetime, limit: int) -> list[StoredSession]:
        rows = await self._fetch(
            f"SELECT key, {_COLUMNS} FROM sessions WHERE next_due <= ? ORDER BY next_due LIMIT ?",
            (_unix(now), limit),
        )
        found = []
        for key, *row in rows:
            try:
                found.append(_session_from_row(key, row))  # type: ignore[arg-type]
            except (ValueError, TypeError, OverflowError):
                continue  # load() reports an unreadable row when the person writes
        return found

    async def count(self) -> int:
        ((count,),) = await self._fetch("SELECT count(*) FROM sessions")
        return int(count)

    async def media_file_id(self, digest: str) -> str | None:
        rows = await self._fetch("SELECT file_id FROM media WHERE digest = ?", (digest,))
        return str(rows[0][0]) if rows else None

    async def remember_media(self, digest: str, file_id: str) -> None:
        await self._execute("REPLACE INTO media (digest, file_id) VALUES (?, ?)", (digest, file_id))

    async def add_counts(self, day: date, counted: Iterable[Counted]) -> None:
        totals = Counter(counted)
        if not totals:
            return
        # One statement, so one transaction of its own: turns count at the same time on the one
        # connection, and a BEGIN ... COMMIT of one would meet another's (the count was lost).
        rows = [
            (day.isoformat(), str(c.event), c.language, c.area, n)
            for c, n in sorted(totals.items())
        ]
        await self._execute(
            "INSERT INTO counters (day, event, language, area, count) VALUES "
            + ", ".join(["(?, ?, ?, ?, ?)"] * len(rows))
            + " ON CONFLICT (day, event, language, area)"
            " DO UPDATE SET count = count + excluded.count",
            [value for row in rows for value in row],
        )

    async def counts(self, first: date, last: date) -> list[CountRow]:
        rows = await self._fetch(
            "SELECT day, event, language, area, count FROM counters "
            "WHERE day BETWEEN ? AND ? ORDER BY day, event, language, area",
            (first.isoformat(), last.isoformat()),
        )
        return [
            CountRow(date.fromisoformat(day), event, language, area, int(count))
            for day, event, language, area, count in rows
        ]

    async def writable(self) -> bool:
        """Whether a write transaction can begin now (the write lock, on a writable file), tried
        with a short wait and rolled back at once."""
        try:
            # one call to the connection's thread: a turn's write on the same connection must not
            # fall between BEGIN and ROLLBACK (it was rolled back with the check)
            await self._connection.executescript(
                f"PRAGMA busy_timeout = {HEALTH_TIMEOUT_MS}; BEGIN IMMEDIATE; ROLLBACK;"
            )
        except sqlite3.Error:
            return False
        finally:
            await self._connection.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        return True

    async def close(self) -> None:
        await self._connection.close()

    async def rebuild(self) -> bool:
        """If something was deleted since the last rebuild: rebuild the file from the live rows
        and cut the -wal to zero bytes (see the module's docstring). Returns whether the files
        hold no stale copy now; one that did not complete is logged, and the next call tries
        again."""
        if not self._rebuild_pending:
            return True
        try:
            await self._execute("VACUUM")
            clean = await self._checkpoint()
        except StoreError as error:
            self._rebuild_did_not_complete(str(error))
            return False
        if not clean:
            self._rebuild_did_not_complete("another connection reads the -wal")
            return False
        if self._rebuild_failed:
            log.info("session store %s: rebuilt without the stale copies at last", self._path)
        self._rebuild_pending = self._rebuild_failed = False
        return True

    def _rebuild_did_not_complete(self, why: str) -> None:
        if not self._rebuild_failed:
            log.warning(
                "session store %s: the file could not be rebuilt without the stale copies of "
                "deleted rows (%s); tried again at the next rebuild",
                self._path,
                why,
            )
        self._rebuild_failed = True

    async def _forget(self) -> None:
        """After a deletion: the zeroed pages over the file's old ones, the -wal cut to zero bytes
        (see the module's docstring); the stale copies wait for the next rebuild()."""
        self._rebuild_pending = True
        if not await self._checkpoint():
            log.warning(
                "session store %s: the -wal could not be truncated (another connection reads); "
                "the next rebuild tries again",
                self._path,
            )

    async def _checkpoint(self) -> bool:
        """Copy the -wal into the file and truncate it; False if a reader kept it."""
        ((busy, _, _),) = await self._fetch("PRAGMA wal_checkpoint(TRUNCATE)")
        return not busy

    async def _execute(self, sql: str, parameters: Iterable[Any] = ()) -> int:
        """Run one statement in its own transaction; returns the number of rows changed."""
        try:
            async with self._connection.execute(sql, parameters) as cursor:
                return cursor.rowcount
        except sqlite3.Error as error:
            raise StoreError(f"session store {self._path}: {error}") from error

    async def _fetch(self, sql: str, parameters: Iterable[Any] = ()) -> list[sqlite3.Row]:
        try:
            return list(await self._connection.execute_fetchall(sql, parameters))
        except sqlite3.Error as error:
            raise StoreError(f"session store {self._path}: {error}") from error


def _create_private(path: Path) -> None:
    """Create the file readable by its owner only (SQLite gives the -wal and -shm the same mode),
    and refuse a path that cannot be opened before aiosqlite starts its thread for it."""
    if not path.parent.is_dir():
        raise StoreError(
            f"cannot open the session store {path}: the directory {path.parent} does not exist"
        )
    try:
        descriptor = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    except OSError as error:
        raise StoreError(f"cannot open the session store {path}: {error.strerror}") from error
    try:
        mode = os.fstat(descriptor).st_mode
    finally:
        os.close(descriptor)
    if mode & 0o077:
        log.warning(
            "session store %s can be read by other users than its owner; chmod 600 it", path
        )


async def _prepare(connection: aiosqlite.Connection, path: Path) -> None:
    """Set the connection up and migrate; a file that is not ours is refused before anything is
    written to it."""
    await connection.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
    try:
        version = await _user_version(connection)
    except sqlite3.DatabaseError as error:
        raise StoreError(
            f"cannot open the session store {path}: it is not a SQLite database ({error})"
        ) from error
    _refuse_newer(path, version)
    await connection.execute("PRAGMA secure_delete = ON")
    await connection.execute("PRAGMA synchronous = NORMAL")
    # VACUUM's copy of the live rows stays in memory: no other file, no writable /tmp needed
    await connection.execute("PRAGMA temp_store = MEMORY")
    ((mode,),) = await connection.execute_fetchall("PRAGMA journal_mode = WAL")
    if mode != "wal":
        log.warning("session store %s: WAL is not available, journal mode is %s", path, mode)
    if version < SCHEMA_VERSION:
        await _migrate(connection, path)


async def _migrate(connection: aiosqlite.Connection, path: Path) -> None:
    await connection.execute("BEGIN IMMEDIATE")
    try:
        # read again under the write lock: another process may have migrated meanwhile
        version = await _user_version(connection)
        _refuse_newer(path, version)
        for migration in MIGRATIONS[version:]:
            for statement in migration:
                await connection.execute(statement)
        await connection.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
        await connection.execute("COMMIT")
    except BaseException:
        if connection.in_transaction:
            await connection.execute("ROLLBACK")
        raise
    if version < SCHEMA_VERSION:
        log.info("session store %s: schema version %d -> %d", path, version, SCHEMA_VERSION)


async def _user_version(connection: aiosqlite.Connection) -> int:
    ((version,),) = await connection.execute_fetchall("PRAGMA user_version")
    return int(version)


def _refuse_newer(path: Path, version: int) -> None:
    if version > SCHEMA_VERSION:
        raise StoreError(
            f"the session store {path} has schema version {version}, but this version of "
            f"wegweiser knows only up to {SCHEMA_VERSION}; it was left untouched "
            "(run the newer wegweiser, or restore a backup)"
        )


def _session_from_row(key: bytes, row: sqlite3.Row) -> StoredSession:
    """A row as a session; ValueError or TypeError if any field is not what save() writes."""
    address, node, history_json, language, handover, disappear, screen, messages_json = row[:8]
    channel = row[8]
    times = row[9:]
    history = json.loads(history_json)
    messages = json.loads(messages_json)
    created, last_active, expires = (_time(seconds) for seconds in times)
    if not (
        isinstance(address, bytes)
        and isinstance(history, list)
        and all(isinstance(node_id, str) for node_id in history)
        and isinstance(messages, list)
        and all(_is_kept_message(entry) for entry in messages)
        and all(_is_optional(value, str) for value in (node, language, handover, channel))
        and (screen is None or _is_ref(screen))
        and _is_optional(disappear, int)
    ):
        raise TypeError("a field does not have the type save() writes")
    return StoredSession(
        key=key,
        address=address,
        dialogue=Session(
            node=node,
            history=tuple(history),
            language=language,
            case=handover,
            disappear=disappear,
            channel=channel,
        ),
        created=created,
        last_active=last_active,
        expires=expires,
        screen=None if screen is None else str(screen),
        messages=tuple(KeptMessage(str(ref), _time(sent)) for ref, sent in messages),
    )


_CASE_COLUMNS = (
    "code, person, team, staff_group, place, language, area, path, state, card, alias, "
    "opened, claimed, replied, closed, told_nobody, expires"
)


def _case_from_row(row: sqlite3.Row) -> Case:
    (code, person, team, group, place, language, area, path, state, card, alias) = row[:11]
    opened, claimed, replied, closed, told_nobody, expires = row[11:]
    return Case(
        code=code,
        person=person,
        team=team,
        group=str(group),
        place=str(place),
        language=language,
        area=area,
        path=tuple(json.loads(path)),
        opened=_time(opened),
        expires=_time(expires),
        state=CaseState(state),
        card=None if card is None else str(card),
        alias=alias,
        claimed=None if claimed is None else _time(claimed),
        replied=None if replied is None else _time(replied),
        closed=None if closed is None else _time(closed),
        told_nobody=bool(told_nobody),
    )


def _is_kept_message(entry: object) -> bool:
    """[ref, unix seconds]; a ref was a Telegram message id (a number) before channels had
    names, and is text since."""
    return (
        isinstance(entry, list)
        and len(entry) == 2
        and _is_ref(entry[0])
        and isinstance(entry[1], int)
        and not isinstance(entry[1], bool)
    )


def _is_ref(value: object) -> bool:
    return isinstance(value, str) or (isinstance(value, int) and not isinstance(value, bool))


def _is_optional(value: object, kind: type) -> bool:
    return value is None or isinstance(value, kind)


def _compact(value: list[Any]) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def _unix(moment: datetime) -> int:
    """Whole seconds, rounded down: an expiry is never later than asked for."""
    if moment.utcoffset() is None:
        raise ValueError(f"the session store needs aware UTC times, got the naive {moment}")
    return math.floor(moment.timestamp())


def _hour(moment: datetime) -> int:
    return _unix(moment) // 3600


def _unix_or_none(moment: datetime | None) -> int | None:
    return None if moment is None else _unix(moment)


def _time(seconds: int) -> datetime:
    if not isinstance(seconds, int):
        raise TypeError("a time is not an integer")
    return datetime.fromtimestamp(seconds, UTC)
