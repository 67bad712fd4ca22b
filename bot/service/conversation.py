"""The conversation service: one turn of a person's conversation, whatever channel they write
through, and everything else that happens to their session (news of their case, a counsellor's
message, /exit, disappearing mode, a person who can no longer be reached).

A turn: load the session by the person's pseudonym, step the engine, let the case desk do what
the engine asked of it, deliver the actions through the person's channel, save the session with
the refs of the new messages (for /exit), count. One person's turns run one at a time.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime
import logging
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from bot.dialogue import (
    Action,
    CaseNews,
    EndCase,
    Engine,
    Erase,
    Event,
    News,
    Notice,
    Relay,
    RequestHandover,
    Session,
)
from bot.service.casedesk import CaseDesk
from bot.service.engines import EngineHolder
from bot.service.locks import PersonLocks
from bot.service.ports import (
    ChannelError,
    Clock,
    Content,
    Inbound,
    PersonAddress,
    PersonChannel,
    PersonUnreachable,
)
from bot.service.statistics import Statistics
from bot.store import AddressUnreadable, SecretKeys, SessionStore, StoredSession, log_tag

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class SessionPolicy:
    """How long a session is kept, and what /exit leaves."""

    idle: datetime.timedelta
    # A session in a counsellor conversation is kept longer than one in the tree.
    case_idle: datetime.timedelta
    message_after_exit: bool = False


class ConversationService:
    def __init__(
        self,
        engines: EngineHolder,
        store: SessionStore,
        keys: SecretKeys,
        channels: Mapping[str, PersonChannel],
        policy: SessionPolicy,
        statistics: Statistics,
        clock: Clock,
        *,
        desk: CaseDesk | None = None,
        locks: PersonLocks | None = None,
    ) -> None:
        """`desk`: the case desk, when counsellors can be reached in the chat."""
        self.engines = engines
        self.store = store
        self.keys = keys
        self.channels = channels
        self.policy = policy
        self.statistics = statistics
        self.clock = clock
        self.desk = desk
        self.locks = locks or PersonLocks()

    def key_of(self, person: PersonAddress) -> bytes:
        return self.keys.pseudonym(person.channel, person.native)

    # -- turns -----------------------------------------------------------------------------------

    async def handle(self, inbound: Inbound) -> None:
        """One turn a person started."""
        key = self.key_of(inbound.person)
        async with self.locks.of(key):
            await self._turn(key, inbound.person, inbound)

    async def tell(self, key: bytes, news: CaseNews) -> None:
        """A turn the person did not start: news of their case."""
        async with self.locks.of(key):
            stored = await self._live(key)
            if stored is None:
                return
            person = self._address(stored)
            if person is not None:
                await self._turn(key, person, Inbound(person, news), stored=stored)

    async def _turn(
        self,
        key: bytes,
        person: PersonAddress,
        inbound: Inbound,
        *,
        stored: StoredSession | None = None,
    ) -> None:
        engine = self.engines.engine  # the one in service when the turn began
        channel = self.channels[person.channel]
        now = self.clock.now()
        if stored is None:
            stored = await self.store.load(key)
        fresh = stored is None or stored.expired(now)  # expired but not purged: as good as gone
        if stored is None or fresh:
            stored = self._fresh(key, person, now)
        started = time.perf_counter()
        event: Event = inbound.event
        if self.desk is not None:
            event = await self.desk.returning(key, stored.dialogue, event, now)
        dialogue, actions = engine.step(stored.dialogue, event)
        try:
            if self.desk is not None:
                dialogue, actions = await self._cases(engine, key, dialogue, actions, inbound, now)
            await self.statistics.count_turn(
                engine, stored.dialogue, dialogue, actions, fresh=fresh, now=now
            )
            if inbound.acknowledge is not None:
                actions = await self._acknowledge(inbound, channel, actions)
            if any(isinstance(action, Erase) for action in actions):
                pressed = (inbound.pressed,) if inbound.pressed else ()
                if self.desk is not None:
                    await self.desk.person_erased(key, stored.dialogue.case, now)
                await self._erase(engine, channel, person, stored, (*inbound.keep, *pressed), now)
                return
            if self.desk is None and any(
                isinstance(a, RequestHandover) and a.available for a in actions
            ):
                log.warning("handover requested but not available", extra={"person": log_tag(key)})
            edit = None
            if channel.capabilities.edit_in_place and inbound.pressed == stored.screen:
                edit = inbound.pressed
            delivered = await channel.deliver(person.native, actions, edit=edit)
        except PersonUnreachable:
            await self._close_unreachable(key)
            return
        stored = dataclasses.replace(
            stored,
            dialogue=dialogue,
            screen=delivered.screen if delivered.screen is not None else stored.screen,
            last_active=now,
            expires=now + (self.policy.case_idle if dialogue.case else self.policy.idle),
        ).with_messages(
            *inbound.keep, *delivered.refs, now=now, keep_for=channel.capabilities.delete_window
        )
        await self.store.save(stored)
        seconds = time.perf_counter() - started
        self.statistics.metrics.updates.observe(seconds)
        log.info(
            "update handled",
            extra={
                "person": log_tag(key),
                "event": type(inbound.event).__name__,
                "node": dialogue.node,
                "ms": round(seconds * 1000, 1),
            },
        )

    async def _cases(
        self,
        engine: Engine,
        key: bytes,
        dialogue: Session,
        actions: tuple[Action, ...],
        inbound: Inbound,
        now: datetime.datetime,
    ) -> tuple[Session, tuple[Action, ...]]:
        """What the engine asked of the case desk: open a case, pass a message on, end the
        conversation. Its answers go back into the engine in the same turn."""
        assert self.desk is not None
        done: list[Action] = []
        for action in actions:
            news: CaseNews | None = None
            match action:
                case RequestHandover(available=True):
                    news = await self.desk.open(key, action, now)
                case Relay(case=case) if inbound.content is not None:
                    if not await self.desk.relay_to_staff(case, inbound.content, now):
                        news = CaseNews(News.NOT_DELIVERED)
                case EndCase(case=case):
                    await self.desk.person_ended(case, now)
                    done.append(action)
                case _:
                    done.append(action)
            if news is not None:
                dialogue, answered = engine.step(dialogue, news)
                done.extend(answered)
        return dialogue, tuple(done)

    @staticmethod
    async def _acknowledge(
        inbound: Inbound, channel: PersonChannel, actions: tuple[Action, ...]
    ) -> tuple[Action, ...]:
        """Answer the pressed button before anything else is shown. Where the channel shows
        toasts, the first notice becomes the toast and is not sent again."""
        assert inbound.acknowledge is not None
        capabilities = channel.capabilities
        notice = next((a for a in actions if isinstance(a, Notice)), None)
        if not capabilities.toasts or notice is None:
            await inbound.acknowledge(None)
            return actions
        await inbound.acknowledge(notice.text[: capabilities.toast_limit])
        return tuple(a for a in actions if a is not notice)

    def _fresh(self, key: bytes, person: PersonAddress, now: datetime.datetime) -> StoredSession:
        return StoredSession(
            key=key,
            address=self.keys.seal_address(person.channel, person.native, key),
            dialogue=Session(),
            created=now,
            last_active=now,
            expires=now + self.policy.idle,
        )

    # -- a counsellor's side of the conversation -------------------------------------------------

    async def relay_to_person(
        self, key: bytes, content: Content, reply_to: str | None
    ) -> str | None:
        """A counsellor's content into the person's conversation; its ref is kept for /exit.
        None if the person has no session any more. Raises ChannelError."""
        async with self.locks.of(key):
            stored = await self._live(key)
            person = self._address(stored) if stored is not None else None
            if stored is None or person is None:
                return None
            channel = self.channels[person.channel]
            ref = await channel.relay(person.native, content, reply_to)
            window = channel.capabilities.delete_window
            await self.store.save(stored.with_messages(ref, now=self.clock.now(), keep_for=window))
            return ref

    async def edit_for_person(self, key: bytes, ref: str, text: str) -> None:
        stored = await self._live(key)
        person = self._address(stored) if stored is not None else None
        if person is not None:
            await self.channels[person.channel].edit(person.native, ref, text)

    # -- erasure, disappearing mode, unreachable persons -----------------------------------------

    async def _erase(
        self,
        engine: Engine,
        channel: PersonChannel,
        person: PersonAddress,
        stored: StoredSession,
        also: Sequence[str],
        now: datetime.datetime,
    ) -> None:
        """/exit: delete every message the channel still lets the service delete, then the
        session. Nothing is sent afterwards, unless the deployment asks for one harmless message
        (safety.message_after_exit), which is then all the conversation shows."""
        window = channel.capabilities.delete_window
        ids = sorted({*stored.deletable(now, window), *also})
        await channel.delete(person.native, ids)
        await self.store.delete(stored.key)
        log.info("conversation erased", extra={"person": log_tag(stored.key), "messages": len(ids)})
        after_exit = engine.flow.system.messages.after_exit
        if self.policy.message_after_exit and after_exit:
            language = stored.dialogue.language or engine.default_language
            context = engine.system_context(after_exit)
            text = engine.renderer.text(language, context, after_exit)
            # the person is gone: a failure here leaves nothing of theirs to protect
            with contextlib.suppress(ChannelError):
                await channel.deliver(person.native, (Notice(text),), edit=None)

    async def delete_due(self) -> None:
        """Disappearing mode: each message whose time is up is deleted, the person's and the
        bot's. It reads the sessions from the store, so it goes on after a restart."""
        now = self.clock.now()
        for candidate in await self.store.disappearing():
            if not candidate.due(now):
                continue
            async with self.locks.of(candidate.key):
                stored = await self.store.load(candidate.key)  # as it is now, under the lock
                due = stored.due(now) if stored is not None else ()
                person = self._address(stored) if stored is not None else None
                if stored is None or person is None or not due:
                    continue
                await self.channels[person.channel].delete(person.native, due)
                screen = None if stored.screen in due else stored.screen
                kept = dataclasses.replace(stored.without_messages(due), screen=screen)
                await self.store.save(kept)
                log.info(
                    "disappearing messages deleted",
                    extra={"person": log_tag(stored.key), "messages": len(due)},
                )

    async def unreachable(self, person: PersonAddress) -> None:
        """The person's channel says they cannot be reached any more (they blocked the bot)."""
        await self._close_unreachable(self.key_of(person))

    async def forget(self, key: bytes) -> None:
        await self.store.delete(key)

    async def _close_unreachable(self, key: bytes) -> None:
        """Nothing can reach the person, so their session goes (and a case of theirs is closed,
        with a note for the counsellors)."""
        stored = await self.store.load(key)
        if self.desk is not None and stored is not None and stored.dialogue.case:
            await self.desk.person_blocked(stored.dialogue.case, self.clock.now())
        await self.store.delete(key)
        log.info("person blocked the bot, session closed", extra={"person": log_tag(key)})

    async def purge(self) -> int:
        purged = await self.store.purge(self.clock.now())
        if purged:
            log.info("expired sessions deleted", extra={"sessions": purged})
        return purged

    # -- helpers ---------------------------------------------------------------------------------

    async def _live(self, key: bytes) -> StoredSession | None:
        stored = await self.store.load(key)
        if stored is None or stored.expired(self.clock.now()):
            return None
        return stored

    def _address(self, stored: StoredSession) -> PersonAddress | None:
        try:
            channel, native = self.keys.open_address(stored.address, stored.key)
        except AddressUnreadable:
            log.warning("a session's address does not open", extra={"person": log_tag(stored.key)})
            return None
        if channel not in self.channels:
            return None  # a channel this process does not run (yet)
        return PersonAddress(channel, native)
