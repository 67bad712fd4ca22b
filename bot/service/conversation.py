"""The conversation service: one turn of a person's conversation, whatever channel they write
through, and everything else that happens to their session (news of their case, a counsellor's
message, /exit, disappearing mode, a person who can no longer be reached).

A turn: load the session by the person's pseudonym, step the engine, let the case desk do what
the engine asked of it, deliver the actions through the person's channel, save the session with
the refs of the new messages (for /exit), count. One person's turns run one at a time.
"""

from __future__ import annotations

import asyncio
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
    Noting,
    PersonAddress,
    PersonChannel,
    PersonUnreachable,
)
from bot.service.statistics import Statistics
from bot.store import (
    AddressUnreadable,
    SecretKeys,
    SessionStore,
    StoredSession,
    StoreError,
    log_tag,
)

log = logging.getLogger(__name__)

# Disappearing mode: persons handled at once, and how many due sessions one store query reads.
DUE_AT_ONCE = 32
DUE_PAGE = 500


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

    async def handle(self, inbound: Inbound) -> Session | None:
        """One turn a person started. Returns their dialogue after it; None when the turn ended
        the conversation (/exit, or the person cannot be reached any more)."""
        key = self.key_of(inbound.person)
        async with self.locks.of(key):
            return await self._turn(key, inbound.person, inbound)

    async def tell(self, key: bytes, news: CaseNews) -> None:
        """A turn the person did not start: news of their case. Not told when the person has
        left that case meanwhile (with /exit and a new start, say): nothing of an erased
        conversation may show up in the next one."""
        async with self.locks.of(key):
            stored = await self._live(key)
            if stored is None:
                return
            if news.case is not None and stored.dialogue.case != news.case:
                log.info("news of a case the person has left, not told")
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
    ) -> Session | None:
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
        erasing = False
        try:
            if self.desk is not None:
                event = await self.desk.returning(key, stored.dialogue, event, now)
            dialogue, actions = engine.step(stored.dialogue, event)
            counted = actions
            if self.desk is not None:
                dialogue, actions, answered = await self._cases(
                    engine, key, dialogue, actions, inbound, now
                )
                counted = (*counted, *answered)
            await self.statistics.count_turn(
                engine, stored.dialogue, dialogue, counted, fresh=fresh, now=now
            )
            if inbound.acknowledge is not None:
                actions = await self._acknowledge(inbound, channel, actions)
            if any(isinstance(action, Erase) for action in actions):
                erasing = True
                also = (*inbound.keep, *((inbound.pressed,) if inbound.pressed else ()))
                try:
                    await self._erase(engine, channel, person, stored, also, now)
                finally:  # the person asked to leave: their case is closed even if that failed
                    await self._case_after_erasure(key, stored.dialogue.case, now)
                return None
            if self.desk is None and any(
                isinstance(a, RequestHandover) and a.available for a in actions
            ):
                log.warning(
                    "handover requested but not available",
                    extra={"person": log_tag(stored.address)},
                )
            edit = None
            if channel.capabilities.edit_in_place and inbound.pressed == stored.screen:
                edit = inbound.pressed
            delivered = await channel.deliver(person.native, actions, edit=edit)
        except PersonUnreachable:
            await self._close_unreachable(key)
            return None
        except Exception as error:
            if not erasing:  # what reached the chat stays on record for /exit
                sent = error.sent if isinstance(error, ChannelError) else ()
                await self._keep(stored, channel, (*inbound.keep, *sent), now)
            raise
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
            # not the node: the screens a person visited, in order, are a trail of their own
            extra={
                "person": log_tag(stored.address),
                "event": type(inbound.event).__name__,
                "ms": round(seconds * 1000, 1),
            },
        )
        return dialogue

    async def _cases(
        self,
        engine: Engine,
        key: bytes,
        dialogue: Session,
        actions: tuple[Action, ...],
        inbound: Inbound,
        now: datetime.datetime,
    ) -> tuple[Session, tuple[Action, ...], tuple[Action, ...]]:
        """What the engine asked of the case desk: open a case, pass a message on, end the
        conversation. Its answers go back into the engine in the same turn. Returns the session,
        the actions to deliver, and the engine's actions on the answers alone (the statistics
        count them beside what the engine asked for, which the desk consumed)."""
        assert self.desk is not None
        done: list[Action] = []
        answers: list[Action] = []
        for action in actions:
            news: CaseNews | None = None
            match action:
                case RequestHandover(available=True):
                    news = await self.desk.open(key, action, now)
                case Relay(case=case) if inbound.content is not None:
                    failed = await self.desk.relay_to_staff(case, inbound.content, now)
                    news = None if failed is None else CaseNews(failed)
                case EndCase(case=case):
                    await self.desk.person_ended(case, now)
                    done.append(action)
                case _:
                    done.append(action)
            if news is not None:
                dialogue, answered = engine.step(dialogue, news)
                done.extend(answered)
                answers.extend(answered)
        return dialogue, tuple(done), tuple(answers)

    async def remember(self, person: PersonAddress, refs: Sequence[str]) -> None:
        """Messages the channel received but handed on as no turn (refused by a flood limit):
        on record for /exit all the same. A person without a session gets one for them."""
        key = self.key_of(person)
        async with self.locks.of(key):
            now = self.clock.now()
            stored = await self._live(key) or self._fresh(key, person, now)
            await self._keep(stored, self.channels[person.channel], refs, now)

    async def _keep(
        self,
        stored: StoredSession,
        channel: PersonChannel,
        refs: Sequence[str],
        now: datetime.datetime,
    ) -> None:
        """The session as it was, also keeping `refs`; a store that fails is logged, so that the
        error that brought us here is the one raised."""
        if not refs:
            return
        kept = stored.with_messages(*refs, now=now, keep_for=channel.capabilities.delete_window)
        try:
            await self.store.save(kept)
        except StoreError as error:
            log.warning(
                "could not keep message refs for /exit",
                extra={"person": log_tag(stored.address), "error": str(error)},
            )

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
            dialogue=Session(channel=person.channel),
            created=now,
            last_active=now,
            expires=now + self.policy.idle,
        )

    # -- a counsellor's side of the conversation -------------------------------------------------

    async def relay_to_person(
        self, key: bytes, content: Content, reply_to: str | None, noting: Noting
    ) -> str | None:
        """A counsellor's content into the person's conversation; its ref is kept for /exit.
        None if the person has no session any more. Raises ChannelError."""
        async with self.locks.of(key):
            stored = await self._live(key)
            person = self._address(stored) if stored is not None else None
            if stored is None or person is None:
                return None
            channel = self.channels[person.channel]
            ref = await channel.relay(person.native, content, reply_to, noting)
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
        log.info(
            "conversation erased", extra={"person": log_tag(stored.address), "messages": len(ids)}
        )
        after_exit = engine.flow.system.messages.after_exit
        if self.policy.message_after_exit and after_exit:
            language = stored.dialogue.language or engine.default_language
            context = engine.system_context(after_exit)
            text = engine.renderer.text(language, context, after_exit)
            # the person is gone: a failure here leaves nothing of theirs to protect
            with contextlib.suppress(ChannelError):
                await channel.deliver(person.native, (Notice(text),), edit=None)

    async def _case_after_erasure(
        self, key: bytes, case: str | None, now: datetime.datetime
    ) -> None:
        """After /exit, the case desk's part: the case closed, a note for the counsellors. It
        comes after the person's chat and session are gone, so that the staff group's slow flood
        limits cannot hold up the erasure, and whatever fails here cannot stop it."""
        if self.desk is None:
            return
        try:
            await self.desk.person_erased(key, case, now)
        except Exception as error:  # the person is erased; the desk's failure must not undo that
            log.warning(
                "could not close the case of an erased conversation",
                extra={"case": case, "error": type(error).__name__},
            )

    async def delete_due(self) -> None:
        """Disappearing mode: each message whose time is up is deleted, the person's and the
        bot's. The store hands out only the sessions due now (by their indexed next_due), so it
        goes on after a restart and costs nothing for the persons not due; up to DUE_AT_ONCE
        persons are handled at a time, each under their lock."""
        now = self.clock.now()
        at_once = asyncio.Semaphore(DUE_AT_ONCE)
        # persons left due (their address does not open, their channel failed): not asked again
        skipped: set[bytes] = set()

        async def one(key: bytes) -> None:
            async with at_once:
                if not await self._delete_due_of(key, now):
                    skipped.add(key)

        while True:
            due = await self.store.due(now, DUE_PAGE + len(skipped))
            keys = [candidate.key for candidate in due if candidate.key not in skipped]
            if not keys:
                return
            async with asyncio.TaskGroup() as group:
                for key in keys:
                    group.create_task(one(key))

    async def _delete_due_of(self, key: bytes, now: datetime.datetime) -> bool:
        """One person's due messages; False if they stay due."""
        async with self.locks.of(key):
            stored = await self.store.load(key)  # as it is now, under the lock
            if stored is None:
                return True
            due = stored.due(now)
            person = self._address(stored)
            if person is None:
                return False
            if due:
                keep = [m.message_id for m in stored.messages if m.message_id not in due]
                try:
                    await self.channels[person.channel].delete(person.native, due, keep)
                except ChannelError as error:
                    log.warning(
                        "disappearing messages not deleted, tried again next time",
                        extra={"person": log_tag(stored.address), "error": error.kind},
                    )
                    return False
            screen = None if stored.screen in due else stored.screen
            # saved also when nothing was due: that moves a stale next_due on
            await self.store.save(dataclasses.replace(stored.without_messages(due), screen=screen))
            if due:
                log.info(
                    "disappearing messages deleted",
                    extra={"person": log_tag(stored.address), "messages": len(due)},
                )
            return True

    async def unreachable(self, person: PersonAddress) -> None:
        """The person's channel says they cannot be reached any more (they blocked the bot)."""
        await self._close_unreachable(self.key_of(person))

    async def session_of(self, person: PersonAddress) -> Session | None:
        """The dialogue of the person's live session; None if they have none (or it expired)."""
        stored = await self._live(self.key_of(person))
        return None if stored is None else stored.dialogue

    async def forget(self, key: bytes) -> None:
        await self.store.delete(key)

    async def _close_unreachable(self, key: bytes) -> None:
        """Nothing can reach the person, so their session goes (and a case of theirs is closed,
        with a note for the counsellors)."""
        stored = await self.store.load(key)
        if self.desk is not None and stored is not None and stored.dialogue.case:
            await self.desk.person_blocked(stored.dialogue.case, self.clock.now())
        await self.store.delete(key)
        tag = {} if stored is None else {"person": log_tag(stored.address)}
        log.info("person blocked the bot, session closed", extra=tag)

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
            log.warning(
                "a session's address does not open", extra={"person": log_tag(stored.address)}
            )
            return None
        if channel not in self.channels:
            return None  # a channel this process does not run (yet)
        return PersonAddress(channel, native)
