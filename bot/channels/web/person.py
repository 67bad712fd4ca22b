"""The web chat's person channel: the engine's actions become entries of the person's sealed
transcript, and reach their open pages live.

The web has no message store of its own, as Telegram has: the transcript is what a reloaded page
shows and where a counsellor's reply waits while the page is closed. Every entry is sealed to the
transcript's public key before it is stored (sealing.py), and pushed as HTML to the pages the
person has open (`Listeners`). Refs are the entries' numbers.
"""

from __future__ import annotations

import asyncio
import datetime
import json
import logging
from collections import OrderedDict
from collections.abc import Callable, Collection, Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from bot.channels.web.sealing import Unsealable, Visitor, seal
from bot.dialogue import Action, Notice, SendMedia, Show
from bot.dialogue.check import MESSAGE_LIMIT
from bot.service import Capabilities, ChannelError, Content, Delivered, Noting, NotShown
from bot.store import Transcripts

log = logging.getLogger(__name__)

CHANNEL = "web"
Kind = Literal["screen", "notice", "person", "counsellor", "image", "audio"]
Rows = tuple[tuple[tuple[str, str], ...], ...]
"""A screen's buttons: rows of (label, button data)."""
# Pages one person may have open with live updates, and queued updates a slow page may lag.
STREAMS_PER_PERSON = 4
QUEUED_PER_STREAM = 64
# Transcripts whose public key is kept in memory (the most recently used).
KEYS_KEPT = 10_000


@dataclass(frozen=True, slots=True)
class Entry:
    """One message of the conversation, as the page shows it."""

    ref: int
    kind: Kind
    text: str = ""
    buttons: Rows = ()

    @classmethod
    def screen(cls, ref: int, show: Show) -> Entry:
        rows = tuple(tuple((button.label, button.data) for button in row) for row in show.buttons)
        return cls(ref, "screen", show.text, rows)

    def sealed_to(self, public: bytes) -> bytes:
        plain = {"k": self.kind, "t": self.text, "b": self.buttons}
        return seal(public, json.dumps(plain, ensure_ascii=False, separators=(",", ":")).encode())

    @classmethod
    def opened(cls, visitor: Visitor, ref: int, sealed: bytes) -> Entry:
        """Raises Unsealable."""
        try:
            plain = json.loads(visitor.open(sealed))
            rows = tuple(
                tuple((str(label), str(data)) for label, data in row) for row in plain["b"]
            )
            return cls(ref, plain["k"], str(plain["t"]), rows)
        except (ValueError, KeyError, TypeError) as error:
            raise Unsealable("the entry is not one of ours") from error


Op = dict[str, Any]
"""An update for an open page: {"put": id, "html": ...}, {"drop": [ids]}, {"sync": html}."""
Render = Callable[[Entry], str]


@dataclass(slots=True, eq=False)
class _Stream:
    queue: asyncio.Queue[Op | None] = field(
        default_factory=lambda: asyncio.Queue(QUEUED_PER_STREAM)
    )


class Listeners:
    """The person's open pages (server-sent event streams) and the requests waiting for the
    outcome of their own turn, by address. In memory only; bounded per person and in all."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._streams: dict[str, set[_Stream]] = {}
        self._count = 0

    @contextmanager
    def listen(self, address: str, *, page: bool) -> Iterator[asyncio.Queue[Op | None] | None]:
        """A queue of the updates for `address` while the block runs; None when a page stream
        would exceed the limits (a request's own outcome is always collected)."""
        streams = self._streams.setdefault(address, set())
        if page and (len(streams) >= STREAMS_PER_PERSON or self._count >= self.limit):
            if not streams:
                del self._streams[address]
            yield None
            return
        stream = _Stream()
        streams.add(stream)
        self._count += 1
        try:
            yield stream.queue
        finally:
            streams.discard(stream)
            self._count -= 1
            if not streams:
                self._streams.pop(address, None)

    def publish(self, address: str, op: Op) -> None:
        for stream in self._streams.get(address, ()):
            try:
                stream.queue.put_nowait(op)
            except asyncio.QueueFull:  # a page that reads nothing: it gets a fresh sync later
                log.info("a web page fell behind; its update was dropped")

    def close_all(self) -> None:
        for streams in self._streams.values():
            for stream in streams:
                with suppress(asyncio.QueueFull):
                    stream.queue.put_nowait(None)

    def __len__(self) -> int:
        return self._count


class WebPersonChannel:
    """The person channel's port for the web chat. `session_of(address)` is the store key of the
    person's session, which their transcript shares (it goes when the session goes)."""

    name = CHANNEL
    # A pressed button's screen is replaced by the next one; nothing has a toast; the server
    # deletes any entry, however old.
    capabilities = Capabilities(edit_in_place=True, toasts=False)

    def __init__(
        self,
        transcripts: Transcripts,
        session_of: Callable[[str], bytes],
        listeners: Listeners,
        render: Render,
        media_root: Path,
    ) -> None:
        self.transcripts = transcripts
        self.session_of = session_of
        # The public keys of recent transcripts, so that a turn need not read them each time.
        # Only public keys: what they seal, the server cannot open.
        self._keys: OrderedDict[bytes, bytes] = OrderedDict()
        self.listeners = listeners
        self.render = render
        self.media_root = media_root

    async def deliver(
        self, address: str, actions: Sequence[Action], *, edit: str | None
    ) -> Delivered:
        delivered = Delivered()
        for action in actions:
            match action:
                case Show():
                    screen = Entry.screen(0, action)
                    if edit is not None and await self._replace(
                        address, int(edit), "screen", screen.text, screen.buttons
                    ):
                        delivered.screen, edit = str(edit), None
                        continue
                    ref = await self.add(address, "screen", screen.text, screen.buttons)
                    delivered.refs.append(ref)
                    delivered.screen = ref
                case Notice(text=text):
                    delivered.refs.append(await self.add(address, "notice", text))
                case SendMedia(path=path, kind=kind):
                    delivered.refs.append(await self.add(address, kind, self._media_name(path)))
        return delivered

    async def relay(
        self, address: str, content: Content, reply_to: str | None, noting: Noting
    ) -> str:
        """A counsellor's message. The web shows text only: anything else is refused, so the
        counsellor hears it did not arrive."""
        if not content.text:
            raise NotShown("the person's web chat shows text only", "NotText")
        await noting()
        return await self.add(address, "counsellor", content.text[:MESSAGE_LIMIT])

    async def edit(self, address: str, ref: str, text: str) -> None:
        if not await self._replace(address, int(ref), "counsellor", text[:MESSAGE_LIMIT], ()):
            raise ChannelError("no such message in the transcript", "Gone")

    async def delete(self, address: str, refs: Sequence[str], keep: Collection[str] = ()) -> None:
        numbers = [int(ref) for ref in refs if ref.isascii() and ref.isdigit()]
        await self.transcripts.drop_entries(self.session_of(address), numbers)
        self.listeners.publish(address, {"drop": [f"m{number}" for number in numbers]})

    async def add(
        self,
        address: str,
        kind: Kind,
        text: str,
        buttons: Rows = (),
    ) -> str:
        """Append an entry to the person's transcript and show it on their open pages."""
        session = self.session_of(address)
        public = await self._key(session)
        if public is None:
            raise ChannelError("the person has no transcript", "NoTranscript")
        # the store numbers the entry; the number is not part of what is sealed
        sealed = Entry(0, kind, text, buttons).sealed_to(public)
        ref = await self.transcripts.add_entry(session, sealed)
        if ref is None:  # gone meanwhile (erased, or purged with its session)
            self._keys.pop(session, None)
            raise ChannelError("the person has no transcript", "NoTranscript")
        self._show(address, Entry(ref, kind, text, buttons))
        return str(ref)

    async def _replace(
        self,
        address: str,
        ref: int,
        kind: Kind,
        text: str,
        buttons: Rows,
    ) -> bool:
        session = self.session_of(address)
        public = await self._key(session)
        if public is None:
            return False
        entry = Entry(ref, kind, text, buttons)
        if not await self.transcripts.replace_entry(session, ref, entry.sealed_to(public)):
            return False
        self._show(address, entry)
        return True

    async def begin(
        self, address: str, public: bytes, now: datetime.datetime, *, known: bool
    ) -> None:
        """The person's transcript, made with `public` if it does not exist. `known`: the person
        has a session, so a transcript whose key is in memory still exists (without a session,
        it may have been purged with the last one)."""
        session = self.session_of(address)
        if known and self._keys.get(session) == public:
            self._keys.move_to_end(session)
            return
        self._remember(session, await self.transcripts.start_transcript(session, public, now))

    def forget(self, address: str) -> None:
        """The person erased their conversation: not even their public key stays in memory."""
        self._keys.pop(self.session_of(address), None)

    async def _key(self, session: bytes) -> bytes | None:
        public = self._keys.get(session)
        if public is None:
            public = await self.transcripts.transcript_key(session)
            if public is not None:
                self._remember(session, public)
        return public

    def _remember(self, session: bytes, public: bytes) -> None:
        self._keys[session] = public
        self._keys.move_to_end(session)
        while len(self._keys) > KEYS_KEPT:
            self._keys.popitem(last=False)

    def _show(self, address: str, entry: Entry) -> None:
        self.listeners.publish(address, {"put": f"m{entry.ref}", "html": self.render(entry)})

    def _media_name(self, path: Path) -> str:
        """The picture's or recording's path under the flows' media folder, as the page asks
        for it (/m/NAME)."""
        try:
            return path.resolve().relative_to(self.media_root.resolve()).as_posix()
        except ValueError:
            return path.name

    async def opened(self, visitor: Visitor) -> list[Entry]:
        """The person's transcript, opened with their cookie's key. An entry that does not open
        (damaged) is left out and logged."""
        entries = []
        for ref, sealed in await self.transcripts.entries(self.session_of(visitor.address)):
            try:
                entries.append(Entry.opened(visitor, ref, sealed))
            except Unsealable:
                log.warning("a transcript entry does not open; left out")
        return entries
