"""What the store keeps of a session, and the one small interface every store implements.

Nothing here identifies a person: the key is a pseudonym, the address is sealed, and the dialogue
state is a position in the flow. Message texts are never kept, only the ids /exit needs.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta

from bot.dialogue import Session
from bot.handover.case import Case
from bot.stats.events import Counted, CountRow

MAX_KEPT_MESSAGES = 1000
"""A bound on one row's size: a very long conversation keeps only its newest message ids."""


class StoreError(Exception):
    """The store cannot be opened or used; the message says which file and why."""


@dataclass(frozen=True, slots=True)
class KeptMessage:
    """A message of the conversation (the person's or the bot's) that /exit may still delete,
    by its channel's ref. Some channels delete only young messages (Telegram: 48 hours)."""

    message_id: str
    sent: datetime  # aware UTC


@dataclass(frozen=True, slots=True)
class StoredSession:
    """One person's session as the store keeps it. Times are aware UTC datetimes; the store keeps
    them to the whole second."""

    key: bytes  # the pseudonym (SecretKeys.pseudonym)
    address: bytes  # the sealed channel and address (SecretKeys.seal_address)
    dialogue: Session
    created: datetime
    last_active: datetime
    expires: datetime
    screen: str | None = None  # ref of the bot's latest message with buttons, edited in place
    messages: tuple[KeptMessage, ...] = ()

    def expired(self, now: datetime) -> bool:
        """True once `purge(now)` would delete this session: treat it as no session."""
        return self.expires <= now

    def with_messages(
        self, *message_ids: str, now: datetime, keep_for: timedelta | None = None
    ) -> StoredSession:
        """This session also keeping `message_ids` (sent now), without messages older than
        `keep_for` (too old for the channel to delete), and at most MAX_KEPT_MESSAGES of the
        newest."""
        kept = [m for m in self.messages if keep_for is None or now - m.sent < keep_for]
        known = {message.message_id for message in kept}
        kept += (KeptMessage(mid, now) for mid in dict.fromkeys(message_ids) if mid not in known)
        kept.sort(key=lambda message: message.sent)
        return replace(self, messages=tuple(kept[-MAX_KEPT_MESSAGES:]))

    def due(self, now: datetime) -> tuple[str, ...]:
        """In disappearing mode: the ids of the messages whose time is up."""
        if self.dialogue.disappear is None:
            return ()
        after = timedelta(seconds=self.dialogue.disappear)
        return tuple(m.message_id for m in self.messages if now - m.sent >= after)

    @property
    def next_due(self) -> datetime | None:
        """In disappearing mode: when the oldest kept message's time is up (None: nothing will
        be). The store keeps it indexed, so the disappearing job reads only what is due."""
        if self.dialogue.disappear is None or not self.messages:
            return None
        oldest = min(message.sent for message in self.messages)
        return oldest + timedelta(seconds=self.dialogue.disappear)

    def without_messages(self, message_ids: Iterable[str]) -> StoredSession:
        gone = set(message_ids)
        return replace(self, messages=tuple(m for m in self.messages if m.message_id not in gone))

    def deletable(self, now: datetime, window: timedelta | None = None) -> tuple[str, ...]:
        """The refs the channel still lets the service delete (younger than `window`; None:
        any age), oldest first."""
        young = (m for m in self.messages if window is None or now - m.sent < window)
        return tuple(message.message_id for message in sorted(young, key=lambda m: m.sent))


class SessionStore(ABC):
    """Session state by pseudonym, the bot's own uploaded media, and the anonymous counters.
    Operations that fail raise StoreError."""

    @abstractmethod
    async def load(self, key: bytes) -> StoredSession | None:
        """The session under `key`, or None (also for a row that cannot be read)."""

    @abstractmethod
    async def save(self, session: StoredSession) -> None:
        """Insert or replace the session under `session.key`."""

    @abstractmethod
    async def delete(self, key: bytes) -> bool:
        """Forget the session; True if there was one."""

    @abstractmethod
    async def purge(self, now: datetime) -> int:
        """Delete every session with `expires <= now`, beyond recovery; returns how many."""

    @abstractmethod
    async def due(self, now: datetime, limit: int) -> list[StoredSession]:
        """Up to `limit` sessions in disappearing mode with a message whose time is up at `now`
        (`next_due <= now`), the longest due first."""

    @abstractmethod
    async def count(self) -> int:
        """How many sessions are kept."""

    @abstractmethod
    async def media_file_id(self, digest: str) -> str | None:
        """Telegram's file_id of the bot's media file with this sha256 hex digest, if uploaded."""

    @abstractmethod
    async def remember_media(self, digest: str, file_id: str) -> None:
        """Keep the file_id Telegram gave an uploaded media file, so it is uploaded once."""

    @abstractmethod
    async def add_counts(self, day: date, counted: Iterable[Counted]) -> None:
        """Add one to the day's counter of each counted event (anonymous statistics)."""

    @abstractmethod
    async def counts(self, first: date, last: date) -> list[CountRow]:
        """The counters of the days from `first` to `last`, both included."""

    @abstractmethod
    async def writable(self) -> bool:
        """Whether the store can be written to now (for the health check)."""

    @abstractmethod
    async def close(self) -> None:
        """Release the store; it cannot be used afterwards."""


class CaseStore(ABC):
    """Counsellor conversations (cases), the ids of relayed messages, return codes (as keyed
    digests) and counsellors' chosen names. Expired cases and codes go with `purge`."""

    @abstractmethod
    async def save_case(self, case: Case) -> None: ...

    @abstractmethod
    async def case(self, code: str) -> Case | None: ...

    @abstractmethod
    async def case_in_place(self, group: str, place: str) -> Case | None: ...

    @abstractmethod
    async def case_of_person(self, person: bytes) -> Case | None:
        """The person's latest case that has not expired (open or closed)."""

    @abstractmethod
    async def waiting_cases(self, opened_before: datetime) -> list[Case]:
        """Unclaimed cases opened before then whose person was not yet told so."""

    @abstractmethod
    async def case_codes(self) -> set[str]: ...

    @abstractmethod
    async def forget_person(self, person: bytes) -> None:
        """Unlink the person from their cases (after /exit), beyond recovery."""

    @abstractmethod
    async def remember_relay(
        self, code: str, person_message: str, staff_message: str, *, from_person: bool
    ) -> None:
        """A message and its copy on the other side, by id; `from_person`: the person wrote it
        (the staff message is the bot's copy). Ends the relay begun for it."""

    @abstractmethod
    async def begin_relay(self, code: str, source: str, *, from_person: bool) -> None:
        """Note, just before it is sent, that the message `source` (its id on the sender's
        side) is being relayed."""

    @abstractmethod
    async def relay_begun(self, code: str, source: str, *, from_person: bool) -> bool:
        """Whether a relay was begun and neither remembered nor ended since: one cut off by a
        crash, which may have arrived."""

    @abstractmethod
    async def end_relay(self, code: str, source: str, *, from_person: bool) -> None:
        """A begun relay is settled without a copy (it failed, or its sender was told)."""

    @abstractmethod
    async def staff_copy(self, code: str, person_message: str) -> str | None: ...

    @abstractmethod
    async def staff_copies(self, code: str) -> list[str]:
        """The ids of the bot's copies of the person's messages in the case's topic."""

    @abstractmethod
    async def person_copy(self, code: str, staff_message: str) -> str | None: ...

    @abstractmethod
    async def save_return_code(self, digest: bytes, code: str, expires: datetime) -> None: ...

    @abstractmethod
    async def case_of_return_code(self, digest: bytes, now: datetime) -> str | None: ...

    @abstractmethod
    async def forget_return_codes(self, code: str) -> None: ...

    @abstractmethod
    async def alias(self, counsellor: bytes) -> str | None:
        """The alias of the counsellor with this digest (SecretKeys.counsellor_digest)."""

    @abstractmethod
    async def set_alias(self, counsellor: bytes, alias: str) -> None: ...


class UpdateLog(ABC):
    """The ids of the updates a channel has handled, so that an update delivered again (after a
    crash before it was confirmed, or a webhook retry) does nothing twice. Ids, never content;
    kept for HANDLED_KEPT, longer than Telegram keeps an update it could deliver again."""

    @abstractmethod
    async def was_handled(self, channel: str, update_id: int) -> bool: ...

    @abstractmethod
    async def mark_handled(self, channel: str, update_id: int, now: datetime) -> None: ...


class Transcripts(ABC):
    """A channel's sealed copy of a conversation, for a channel that keeps none of its own (the
    web: a reloaded page shows the conversation so far, and a counsellor's reply waits there while
    the page is closed). Each entry is sealed by the channel to the session's public key, whose
    private half only the person holds, so the store cannot read it. A transcript belongs to the
    session of the same key: it goes whenever the session goes (deleted, purged)."""

    @abstractmethod
    async def start_transcript(self, session: bytes, public: bytes, now: datetime) -> bytes:
        """The session's transcript key: `public` for a new transcript, else the one it has."""

    @abstractmethod
    async def transcript_key(self, session: bytes) -> bytes | None: ...

    @abstractmethod
    async def add_entry(self, session: bytes, sealed: bytes) -> int | None:
        """Append an entry; its ref, or None if the session has no transcript."""

    @abstractmethod
    async def replace_entry(self, session: bytes, ref: int, sealed: bytes) -> bool: ...

    @abstractmethod
    async def entries(self, session: bytes) -> list[tuple[int, bytes]]:
        """The sealed entries, oldest first."""

    @abstractmethod
    async def drop_entries(self, session: bytes, refs: Iterable[int]) -> None: ...


HANDLED_KEPT = timedelta(hours=25)
"""Telegram keeps an unconfirmed update for 24 hours; an id handled longer ago is forgotten."""
