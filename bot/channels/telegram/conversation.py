"""Telegram updates as dialogue events, and the session around them.

Each update of a private chat: load the session by the chat's pseudonym, step the engine, deliver
its actions, save the session with the ids of the new messages (for /exit). Everything else that
reaches the bot (groups, channels, edits, blocked chats) is handled here deliberately, so that no
update ends in a traceback or a reply nobody asked for.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime
import logging
import time
from collections.abc import Sequence
from typing import TYPE_CHECKING

from telegram import Bot, CallbackQuery, Chat, ChatMember, Message, ReplyParameters, Update
from telegram.error import Forbidden, TelegramError
from telegram.ext import ContextTypes

from bot.channels.telegram.delivery import MediaFiles, deliver
from bot.channels.telegram.ordering import PersonLocks
from bot.dialogue import (
    Action,
    ButtonPressed,
    CaseNews,
    Command,
    EndCase,
    Engine,
    Erase,
    Event,
    News,
    Notice,
    Relay,
    RequestHandover,
    Start,
    TextTyped,
    TooFast,
    Unreadable,
)
from bot.dialogue.check import MESSAGE_LIMIT
from bot.dialogue.engine import Session, command_name
from bot.dialogue.render import SYSTEM_CONTEXT
from bot.metrics import Metrics
from bot.stats import Counted, turn_events
from bot.stats.events import home_areas
from bot.store import SecretKeys, SessionStore, StoredSession, StoreError, log_tag

if TYPE_CHECKING:
    from bot.channels.telegram.cases import CaseDesk

log = logging.getLogger(__name__)

# Telegram: a toast on a pressed button holds at most 200 characters; deleteMessages takes at
# most 100 ids.
TOAST_LIMIT = 200
DELETE_BATCH = 100

Context = ContextTypes.DEFAULT_TYPE


def utc_now() -> datetime.datetime:
    return datetime.datetime.now(datetime.UTC)


async def delete_messages(bot: Bot, chat_id: int, ids: Sequence[int], **about: str) -> None:
    """Delete messages in batches of Telegram's 100; a batch that fails is logged (with `about`,
    a person's tag or a case's code) and the rest go on."""
    for start in range(0, len(ids), DELETE_BATCH):
        try:
            await bot.delete_messages(chat_id, ids[start : start + DELETE_BATCH])
        except TelegramError as error:
            log.warning("could not delete messages", extra={**about, "error": type(error).__name__})


def event_of(message: Message) -> Event:
    """What a person's message means to the dialogue."""
    if message.contact or message.location or message.venue:
        return Unreadable(personal=True)
    text = message.text
    if text is None:  # a sticker, photo, voice note, file, poll, ...
        return Unreadable()
    text = text[:MESSAGE_LIMIT]
    if text.startswith("/"):
        name = command_name(text.split(maxsplit=1)[0])
        if name == "start":
            user = message.from_user
            return Start(language_hint=user.language_code if user else None)
        return Command(name)
    return TextTyped(text)


class Conversations:
    """The handlers of the Telegram application. `store` is set once the application started."""

    def __init__(
        self,
        engine: Engine,
        keys: SecretKeys,
        *,
        idle: datetime.timedelta,
        staff_chats: frozenset[int] = frozenset(),
        metrics: Metrics | None = None,
        case_idle: datetime.timedelta | None = None,
        message_after_exit: bool = False,
    ) -> None:
        """`engine` may be replaced while the bot runs (a flow reload): each turn uses the one
        in service when it began."""
        self.engine = engine
        self.keys = keys
        self.idle = idle
        self.staff_chats = staff_chats
        self.metrics = metrics or Metrics()
        # A session in a counsellor conversation is kept longer than one in the tree.
        self.case_idle = case_idle or idle
        self.message_after_exit = message_after_exit
        self.store: SessionStore | None = None
        self.media: MediaFiles | None = None
        self.desk: CaseDesk | None = None  # set when counsellors can be reached in the chat
        self._turns = PersonLocks()

    def attach(self, store: SessionStore) -> None:
        self.store = store
        self.media = MediaFiles(store)

    # -- private chats -------------------------------------------------------------------------

    async def on_message(self, update: Update, context: Context) -> None:
        message = update.effective_message
        if message is None:
            return
        event = event_of(message)
        keep: tuple[int, ...] = (message.message_id,)
        if isinstance(event, Unreadable) and event.personal:
            # Not stored, not relayed, and gone from the chat: the phone may be checked.
            keep = () if await self._deleted(context, message) else keep
        await self._step(context.bot, message.chat, event, keep=keep, message=message)

    async def on_button(self, update: Update, context: Context) -> None:
        query = update.callback_query
        if query is None:
            return
        chat = update.effective_chat
        if chat is None or chat.type != Chat.PRIVATE or query.message is None:
            await self._answer(query)
            return
        await self._step(context.bot, chat, ButtonPressed(query.data or ""), query=query)

    async def on_refused(self, update: Update, first: bool) -> None:
        """An update over the flood limit: the person is told once; a pressed button is still
        answered, so that it does not keep spinning."""
        if update.callback_query is not None:
            await self._answer(update.callback_query)
        chat = update.effective_chat
        if first and chat is not None and chat.type == Chat.PRIVATE:
            await self._step(update.get_bot(), chat, TooFast())

    async def _step(
        self,
        bot: Bot,
        chat: Chat,
        event: Event,
        *,
        keep: Sequence[int] = (),
        query: CallbackQuery | None = None,
        message: Message | None = None,
    ) -> None:
        """One turn of the dialogue. `keep`: the person's message ids for /exit to delete;
        `query`: the pressed button, answered before anything else is sent; `message`: what the
        person sent, for passing it on to a counsellor."""
        key = self.keys.pseudonym(chat.id)
        async with self._turns.of(key):
            await self._turn(bot, key, chat.id, event, keep=keep, query=query, message=message)

    async def tell(self, bot: Bot, key: bytes, news: CaseNews) -> None:
        """A turn the person did not start: news of their case from the staff group."""
        store, _ = self._ready()
        async with self._turns.of(key):
            stored = await store.load(key)
            if stored is None or stored.expired(utc_now()):
                return
            chat_id = self.keys.open_address(stored.address, key)
            await self._turn(bot, key, chat_id, news, stored=stored)

    async def copy_to_person(
        self, bot: Bot, key: bytes, from_chat: int, message_id: int, reply_to: int | None
    ) -> int | None:
        """A counsellor's message, copied (never forwarded) into the person's chat; its id is
        kept for /exit. None if the person has no session any more. Raises TelegramError."""
        store, _ = self._ready()
        async with self._turns.of(key):
            now = utc_now()
            stored = await store.load(key)
            if stored is None or stored.expired(now):
                return None
            chat_id = self.keys.open_address(stored.address, key)
            copied = await bot.copy_message(
                chat_id,
                from_chat,
                message_id,
                reply_parameters=None
                if reply_to is None
                else ReplyParameters(reply_to, allow_sending_without_reply=True),
            )
            await store.save(stored.with_messages(copied.message_id, now=now))
            return copied.message_id

    async def _turn(
        self,
        bot: Bot,
        key: bytes,
        chat_id: int,
        event: Event,
        *,
        keep: Sequence[int] = (),
        query: CallbackQuery | None = None,
        message: Message | None = None,
        stored: StoredSession | None = None,
    ) -> None:
        store, media = self._ready()
        engine = self.engine
        pressed = query.message.message_id if query is not None and query.message else None
        now = utc_now()
        if stored is None:
            stored = await store.load(key)
        fresh = stored is None or stored.expired(now)  # expired but not purged: as good as gone
        if stored is None or fresh:
            stored = self._fresh(key, chat_id, now)
        started = time.perf_counter()
        if self.desk is not None:
            event = await self.desk.returning(bot, key, stored.dialogue, event, now)
        dialogue, actions = engine.step(stored.dialogue, event)
        try:
            if self.desk is not None:
                dialogue, actions = await self._cases(
                    bot, engine, key, chat_id, dialogue, actions, message
                )
            await self._count(engine, stored.dialogue, dialogue, actions, fresh=fresh, now=now)
            if query is not None:
                # The first notice becomes the toast on the button, the rest goes to the chat.
                notice = next((a for a in actions if isinstance(a, Notice)), None)
                await self._answer(query, notice.text[:TOAST_LIMIT] if notice else None)
                actions = tuple(a for a in actions if a is not notice)
            if any(isinstance(action, Erase) for action in actions):
                also = (*keep, *([pressed] if pressed else []))
                if self.desk is not None:
                    await self.desk.person_erased(bot, key, stored.dialogue.case)
                await self._erase(bot, chat_id, stored, also, now)
                return
            if self.desk is None and any(
                isinstance(a, RequestHandover) and a.available for a in actions
            ):
                log.warning("handover requested but not available", extra={"person": log_tag(key)})
            edit = pressed if pressed is not None and pressed == stored.screen else None
            delivered = await deliver(bot, chat_id, actions, media, edit=edit)
        except Forbidden:
            await self._close_blocked(bot, key)
            return
        stored = dataclasses.replace(
            stored,
            dialogue=dialogue,
            screen=delivered.screen if delivered.screen is not None else stored.screen,
            last_active=now,
            expires=now + (self.case_idle if dialogue.case else self.idle),
        ).with_messages(*keep, *delivered.message_ids, now=now)
        await store.save(stored)
        seconds = time.perf_counter() - started
        self.metrics.updates.observe(seconds)
        log.info(
            "update handled",
            extra={
                "person": log_tag(key),
                "event": type(event).__name__,
                "node": dialogue.node,
                "ms": round(seconds * 1000, 1),
            },
        )

    async def _cases(
        self,
        bot: Bot,
        engine: Engine,
        key: bytes,
        chat_id: int,
        dialogue: Session,
        actions: tuple[Action, ...],
        message: Message | None,
    ) -> tuple[Session, tuple[Action, ...]]:
        """What the engine asked of the case desk: open a case, pass a message on, end the
        conversation. Its answers go back into the engine in the same turn."""
        assert self.desk is not None
        done: list[Action] = []
        for action in actions:
            news: CaseNews | None = None
            match action:
                case RequestHandover(available=True):
                    news = await self.desk.open(bot, key, action)
                case Relay(case=case) if message is not None:
                    if not await self.desk.relay_to_staff(bot, case, chat_id, message):
                        news = CaseNews(News.NOT_DELIVERED)
                case EndCase(case=case):
                    await self.desk.person_ended(bot, case)
                    done.append(action)
                case _:
                    done.append(action)
            if news is not None:
                dialogue, answered = engine.step(dialogue, news)
                done.extend(answered)
        return dialogue, tuple(done)

    async def _count(
        self,
        engine: Engine,
        before: Session,
        after: Session,
        actions: Sequence[Action],
        *,
        fresh: bool,
        now: datetime.datetime,
    ) -> None:
        """The turn's events into the day's anonymous counters (and the metrics)."""
        counted = list(
            turn_events(
                before,
                after,
                actions,
                fresh=fresh and not any(isinstance(action, Erase) for action in actions),
                home_areas=home_areas(engine.flow),
                default_language=engine.default_language,
            )
        )
        await self.count(counted, now)

    async def count(self, counted: Sequence[Counted], now: datetime.datetime) -> None:
        """Events into the day's anonymous counters and the metrics. A failure to count is
        logged: the person is answered all the same."""
        if not counted:
            return
        self.metrics.count(counted)
        store, _ = self._ready()
        try:
            await store.add_counts(now.date(), counted)
        except StoreError as error:
            log.warning("could not count the statistics", extra={"error": str(error)})

    def _fresh(self, key: bytes, chat_id: int, now: datetime.datetime) -> StoredSession:
        return StoredSession(
            key=key,
            address=self.keys.seal_address(chat_id, key),
            dialogue=Session(),
            created=now,
            last_active=now,
            expires=now + self.idle,
        )

    async def _erase(
        self,
        bot: Bot,
        chat_id: int,
        stored: StoredSession,
        also: Sequence[int],
        now: datetime.datetime,
    ) -> None:
        """/exit: delete every message Telegram still lets the bot delete (48 hours), then the
        session. Nothing is sent afterwards, unless the deployment asks for one harmless
        message (safety.message_after_exit), which is then all the chat shows."""
        store, _ = self._ready()
        ids = sorted({*stored.deletable(now), *also})
        await delete_messages(bot, chat_id, ids, person=log_tag(stored.key))
        await store.delete(stored.key)
        log.info("conversation erased", extra={"person": log_tag(stored.key), "messages": len(ids)})
        after_exit = self.engine.flow.system.messages.after_exit
        if self.message_after_exit and after_exit:
            language = stored.dialogue.language or self.engine.default_language
            text = self.engine.renderer.text(language, SYSTEM_CONTEXT, after_exit)
            with contextlib.suppress(TelegramError):
                await bot.send_message(chat_id, text)

    async def delete_due(self, context: Context) -> None:
        """The job of disappearing mode: each message whose time is up is deleted, the person's
        and the bot's. It reads the sessions from the store, so it goes on after a restart."""
        if self.store is None:
            return
        now = utc_now()
        for candidate in await self.store.disappearing():
            if not candidate.due(now):
                continue
            async with self._turns.of(candidate.key):
                stored = await self.store.load(candidate.key)  # as it is now, under the lock
                due = stored.due(now) if stored is not None else ()
                if stored is None or not due:
                    continue
                chat_id = self.keys.open_address(stored.address, stored.key)
                await delete_messages(context.bot, chat_id, due, person=log_tag(stored.key))
                screen = None if stored.screen in due else stored.screen
                kept = dataclasses.replace(stored.without_messages(due), screen=screen)
                await self.store.save(kept)
                log.info(
                    "disappearing messages deleted",
                    extra={"person": log_tag(stored.key), "messages": len(due)},
                )

    # -- everything else -----------------------------------------------------------------------

    async def on_member_change(self, update: Update, context: Context) -> None:
        """The bot was added to a group or channel (it leaves, unless it is the staff group), or a
        person blocked it (their session is closed)."""
        change = update.my_chat_member
        if change is None:
            return
        chat, status = change.chat, change.new_chat_member.status
        if chat.type == Chat.PRIVATE:
            if status in (ChatMember.BANNED, ChatMember.LEFT):
                await self._close_blocked(context.bot, self.keys.pseudonym(chat.id))
            return
        if status in (ChatMember.MEMBER, ChatMember.ADMINISTRATOR, ChatMember.RESTRICTED):
            await self._leave_unless_staff(
                context, chat, made_admin=status == ChatMember.ADMINISTRATOR
            )

    async def on_other_chat(self, update: Update, context: Context) -> None:
        """A message in a group or channel that is not the staff group."""
        chat = update.effective_chat
        if chat is not None:
            await self._leave_unless_staff(context, chat)

    async def _leave_unless_staff(
        self, context: Context, chat: Chat, *, made_admin: bool = False
    ) -> None:
        if chat.id in self.staff_chats:
            log.info("bot is in the staff group")
            return
        try:
            await context.bot.leave_chat(chat.id)
            # The group's id only when the bot was made an administrator there, as an operator
            # does to set up the staff group (WEGWEISER_COUNSELLOR_CHAT_ID needs the id): a
            # group a person merely added it to stays unnamed in the log.
            said = {"chat_type": chat.type, **({"chat_id": chat.id} if made_admin else {})}
            log.info("left a chat the bot was added to", extra=said)
        except TelegramError as error:
            log.warning("could not leave a chat", extra={"error": type(error).__name__})

    async def on_error(self, update: object, context: Context) -> None:
        """Whatever went wrong is logged without identity; the person sees no traceback, and the
        bot goes on with the next update."""
        error = context.error
        if isinstance(error, TelegramError):
            log.warning(
                "Bot API error", extra={"error": type(error).__name__, "detail": error.message}
            )
        else:
            log.error("error while handling an update", exc_info=error)

    # -- helpers -------------------------------------------------------------------------------

    async def forget(self, key: bytes) -> None:
        """The person cannot be reached any more (they blocked the bot): their session goes."""
        store, _ = self._ready()
        await store.delete(key)

    async def _close_blocked(self, bot: Bot, key: bytes) -> None:
        """The person blocked the bot: nothing can reach them, so their session goes (and a case
        of theirs is closed, with a note for the counsellors)."""
        store, _ = self._ready()
        stored = await store.load(key)
        if self.desk is not None and stored is not None and stored.dialogue.case:
            await self.desk.person_blocked(bot, stored.dialogue.case)
        await store.delete(key)
        log.info("person blocked the bot, session closed", extra={"person": log_tag(key)})

    def _ready(self) -> tuple[SessionStore, MediaFiles]:
        if self.store is None or self.media is None:
            raise RuntimeError("the session store is not open yet")
        return self.store, self.media

    @staticmethod
    async def _answer(query: CallbackQuery, toast: str | None = None) -> None:
        """Stop the button's spinner. A query too old to answer, or an answer lost on the way,
        must not keep the screen from being delivered."""
        try:
            await query.answer(toast)
        except TelegramError as error:
            log.info("could not answer a button press", extra={"error": type(error).__name__})

    @staticmethod
    async def _deleted(context: Context, message: Message) -> bool:
        try:
            return await context.bot.delete_message(message.chat_id, message.message_id)
        except TelegramError:
            return False
