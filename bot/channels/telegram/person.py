"""Telegram private chats: updates become the service's inbound events, and the service's
actions become Bot API calls. Everything else that reaches the bot (groups, channels, edits,
blocked chats) is handled here deliberately, so that no update ends in a traceback or a reply
nobody asked for.
"""

from __future__ import annotations

import datetime
import itertools
import logging
from collections.abc import Collection, Sequence

from telegram import (
    Bot,
    CallbackQuery,
    Chat,
    ChatMember,
    Message,
    MessageId,
    ReplyParameters,
    Update,
)
from telegram.error import Forbidden, TelegramError
from telegram.ext import ContextTypes

from bot.channels.telegram.delivery import Delivered as Sent
from bot.channels.telegram.delivery import MediaFiles, deliver
from bot.channels.telegram.retry import MaybeSent, sent_once
from bot.channels.telegram.staff import for_another_bot
from bot.dialogue import (
    Action,
    ButtonPressed,
    Command,
    Event,
    Start,
    TextTyped,
    TooFast,
    Unreadable,
)
from bot.dialogue.check import MESSAGE_LIMIT
from bot.dialogue.engine import COMMANDS, GLOBAL_PREFIX, command_name
from bot.dialogue.schema import GlobalAction
from bot.service import (
    Capabilities,
    ChannelError,
    Content,
    ConversationService,
    Counselling,
    Delivered,
    Inbound,
    Noting,
    PersonAddress,
    PersonUnreachable,
    Unconfirmed,
)

log = logging.getLogger(__name__)

CHANNEL = "telegram"
# Telegram: a toast on a pressed button holds at most 200 characters; deleteMessages takes at
# most 100 ids; a bot may delete messages in a private chat while they are under 48 hours old.
TOAST_LIMIT = 200
DELETE_BATCH = 100
DELETE_WINDOW = datetime.timedelta(hours=48)
# The widest gap between two recorded messages that /exit and disappearing mode fill (see
# with_gaps): a turn sends a handful of messages, a crash leaves at most those unrecorded.
GAP_FILLED = 100

Context = ContextTypes.DEFAULT_TYPE


def address_of(chat: Chat) -> PersonAddress:
    return PersonAddress(CHANNEL, str(chat.id))


def content_of(message: Message) -> Content:
    """What the person sent, for a counsellor: copied from the chat, never stored."""
    reply = message.reply_to_message
    return Content(
        ref=str(message.message_id),
        text=message.text,
        reply_to=None if reply is None else str(reply.message_id),
        source=address_of(message.chat),
    )


def event_of(message: Message, own_username: str) -> Event:
    """What a person's message means to the dialogue. A command addressed to another bot
    ("/exit@otherbot") is no command of ours: it is text like any other."""
    if message.contact or message.location or message.venue:
        return Unreadable(personal=True)
    text = message.text
    if text is None:  # a sticker, photo, voice note, file, poll, ...
        return Unreadable()
    text = text[:MESSAGE_LIMIT]
    if text.startswith("/") and not for_another_bot(text, own_username):
        name = command_name(text.split(maxsplit=1)[0])
        if name == "start":
            user = message.from_user
            return Start(language_hint=user.language_code if user else None)
        return Command(name)
    return TextTyped(text)


def asks_to_erase(update: Update) -> bool:
    """/exit in a private chat, typed or pressed. The flood limit never refuses it: the way out
    works always, and once the chat is erased a repeated one costs next to nothing."""
    chat = update.effective_chat
    if chat is None or chat.type != Chat.PRIVATE:
        return False
    message, query = update.message, update.callback_query
    if message is not None:
        event = event_of(message, message.get_bot().username)
        return isinstance(event, Command) and COMMANDS.get(event.name) is GlobalAction.EXIT
    return query is not None and query.data == GLOBAL_PREFIX + GlobalAction.EXIT


async def delete_messages(bot: Bot, chat_id: int, refs: Sequence[str], **about: str) -> None:
    """Delete messages in batches of Telegram's 100; a batch that fails is logged (with `about`,
    a case's code) and the rest go on."""
    ids = [int(ref) for ref in refs]
    for start in range(0, len(ids), DELETE_BATCH):
        try:
            await bot.delete_messages(chat_id, ids[start : start + DELETE_BATCH])
        except TelegramError as error:
            log.warning("could not delete messages", extra={**about, "error": type(error).__name__})


def channel_error(error: TelegramError, sent: Sequence[int] = ()) -> ChannelError:
    """A Bot API failure in the service's words: a blocked bot is an unreachable person, a relay
    without an answer an unconfirmed one. `sent`: the ids of the messages that got there before
    it."""
    kind: type[ChannelError] = ChannelError
    if isinstance(error, Forbidden):
        kind = PersonUnreachable
    elif isinstance(error, MaybeSent):
        kind = Unconfirmed
    return kind(error.message, type(error).__name__, sent=[str(id_) for id_ in sent])


def with_gaps(refs: Sequence[str], keep: Collection[str] = ()) -> list[str]:
    """`refs` and the ids between them, but not those in `keep`: message ids in a private chat
    count up by one for each message either side sends, so a gap is a message the service never
    recorded (sent just before a crash, its answer lost). A gap wider than GAP_FILLED is left
    alone: no crash leaves that many."""
    ids = sorted({int(ref) for ref in refs})
    kept = {int(ref) for ref in keep}
    filled = list(ids)
    for before, after in itertools.pairwise(ids):
        if after - before <= GAP_FILLED:
            filled.extend(id_ for id_ in range(before + 1, after) if id_ not in kept)
    return [str(id_) for id_ in sorted(filled)]


class TelegramPersonChannel:
    """The person channel's port on the Bot API."""

    name = CHANNEL
    capabilities = Capabilities(
        edit_in_place=True, toasts=True, toast_limit=TOAST_LIMIT, delete_window=DELETE_WINDOW
    )

    def __init__(self, bot: Bot, media: MediaFiles) -> None:
        self.bot = bot
        self.media = media

    async def deliver(
        self, address: str, actions: Sequence[Action], *, edit: str | None
    ) -> Delivered:
        sent = Sent()
        try:
            await deliver(
                self.bot,
                int(address),
                actions,
                self.media,
                edit=None if edit is None else int(edit),
                delivered=sent,
            )
        except TelegramError as error:
            raise channel_error(error, sent.message_ids) from error
        return Delivered(
            [str(message_id) for message_id in sent.message_ids],
            None if sent.screen is None else str(sent.screen),
        )

    async def relay(
        self, address: str, content: Content, reply_to: str | None, noting: Noting
    ) -> str:
        """A counsellor's message: copied (never forwarded) when it lies in a Telegram chat,
        else sent as text."""
        reply = (
            None
            if reply_to is None
            else ReplyParameters(int(reply_to), allow_sending_without_reply=True)
        )
        try:
            with sent_once(noting):
                if content.source is not None and content.source.channel == CHANNEL:
                    copied: MessageId | Message = await self.bot.copy_message(
                        int(address),
                        int(content.source.native),
                        int(content.ref),
                        reply_parameters=reply,
                    )
                else:
                    copied = await self.bot.send_message(
                        int(address), content.text or "", reply_parameters=reply
                    )
        except TelegramError as error:
            raise channel_error(error) from error
        return str(copied.message_id)

    async def edit(self, address: str, ref: str, text: str) -> None:
        try:
            await self.bot.edit_message_text(text, chat_id=int(address), message_id=int(ref))
        except TelegramError as error:
            raise channel_error(error) from error

    async def delete(self, address: str, refs: Sequence[str], keep: Collection[str] = ()) -> None:
        await delete_messages(self.bot, int(address), with_gaps(refs, keep))


class TelegramPersonUpdates:
    """The handlers of private chats (and of groups the bot should not be in)."""

    def __init__(
        self,
        service: ConversationService,
        counselling: Counselling | None,
        staff_chats: frozenset[int],
    ) -> None:
        self.service = service
        self.counselling = counselling
        self.staff_chats = staff_chats

    async def on_message(self, update: Update, context: Context) -> None:
        message = update.effective_message
        if message is None:
            return
        event = event_of(message, context.bot.username)
        keep: tuple[str, ...] = (str(message.message_id),)
        if isinstance(event, Unreadable) and event.personal:
            # Not stored, not relayed, and gone from the chat: the phone may be checked.
            keep = () if await self._deleted(context, message) else keep
        await self.service.handle(
            Inbound(address_of(message.chat), event, keep=keep, content=content_of(message))
        )

    async def on_button(self, update: Update, context: Context) -> None:
        query = update.callback_query
        if query is None:
            return
        chat = update.effective_chat
        if chat is None or chat.type != Chat.PRIVATE or query.message is None:
            await _answer(query)
            return

        async def acknowledge(toast: str | None) -> None:
            await _answer(query, toast)

        await self.service.handle(
            Inbound(
                address_of(chat),
                ButtonPressed(query.data or ""),
                pressed=str(query.message.message_id),
                acknowledge=acknowledge,
            )
        )

    async def on_refused(self, updates: Sequence[Update], first: bool) -> None:
        """Updates of one chat over the flood limit: the person is told once; a pressed button
        is still answered, so that it does not keep spinning; the messages are kept on record
        for /exit, as every message in a private chat is."""
        for update in updates:
            if update.callback_query is not None:
                await _answer(update.callback_query)
        chat = updates[0].effective_chat
        if chat is None or chat.type != Chat.PRIVATE:
            return
        refs = tuple(str(u.message.message_id) for u in updates if u.message is not None)
        if first:
            await self.service.handle(Inbound(address_of(chat), TooFast(), keep=refs))
        elif refs:
            await self.service.remember(address_of(chat), refs)

    async def on_edit(self, update: Update, context: Context) -> None:
        """An edited text in a private chat: mirrored to the staff copy if it was relayed."""
        message = update.edited_message
        if message is None or message.text is None or self.counselling is None:
            return
        try:
            await self.counselling.person_edited(
                address_of(message.chat), str(message.message_id), message.text
            )
        except ChannelError as error:
            log.info("could not mirror an edit", extra={"error": error.kind})

    async def on_member_change(self, update: Update, context: Context) -> None:
        """The bot was added to a group or channel (it leaves, unless it is the staff group), or a
        person blocked it (their session is closed)."""
        change = update.my_chat_member
        if change is None:
            return
        chat, status = change.chat, change.new_chat_member.status
        if chat.type == Chat.PRIVATE:
            if status in (ChatMember.BANNED, ChatMember.LEFT):
                await self.service.unreachable(address_of(chat))
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
        elif isinstance(error, ChannelError):  # a Bot API error, as the service saw it
            log.warning("Bot API error", extra={"error": error.kind, "detail": error.detail})
        else:
            log.error("error while handling an update", exc_info=error)

    @staticmethod
    async def _deleted(context: Context, message: Message) -> bool:
        try:
            return await context.bot.delete_message(message.chat_id, message.message_id)
        except TelegramError:
            return False


async def _answer(query: CallbackQuery, toast: str | None = None) -> None:
    """Stop the button's spinner. A query too old to answer, or an answer lost on the way, must
    not keep the screen from being delivered."""
    try:
        await query.answer(toast)
    except TelegramError as error:
        log.info("could not answer a button press", extra={"error": type(error).__name__})
