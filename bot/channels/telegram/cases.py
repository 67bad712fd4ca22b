"""The staff group's side of the case desk on Telegram: each case is one forum topic of its
team's staff supergroup, its first post the case card with the buttons Claim and Close.

Messages go both ways with copyMessage, never forwardMessage (a forward shows the sender's
account). Only the configured staff groups can claim, close or write to a person; the bot needs
to be an admin there that may manage topics.
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Sequence
from dataclasses import replace

from telegram import (
    Bot,
    CallbackQuery,
    ChatMember,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Message,
    MessageId,
    ReplyParameters,
    Update,
    User,
)
from telegram.error import BadRequest, TelegramError
from telegram.ext import ContextTypes

from bot.channels.telegram.person import CHANNEL, channel_error, delete_messages
from bot.channels.telegram.retry import MaybeSent, sent_once
from bot.dialogue.engine import command_name
from bot.handover.case import Case, CaseState
from bot.service import (
    CaseDesk,
    ChannelError,
    Content,
    Counselling,
    Counsellor,
    Noting,
    PersonAddress,
    PlaceGone,
    Unconfirmed,
)

log = logging.getLogger(__name__)

Context = ContextTypes.DEFAULT_TYPE

# Button data of the case card: "case|claim|K7Q2". Pressed only in a staff group.
CASE_PREFIX = "case"
CLAIM, CLOSE, CLOSE_WITH_CODE = "claim", "close", "code"
# Telegram's answers when a topic is gone (deleted by a counsellor or an admin).
TOPIC_GONE = ("thread not found", "topic_id_invalid", "topic_deleted")
# Who may claim, close or write to a person: not someone who left, was removed or restricted,
# even with a button or a topic still on their screen.
MAY_ACT = (ChatMember.OWNER, ChatMember.ADMINISTRATOR, ChatMember.MEMBER)
# A member who left or was restricted hears of a refused message or command only on a button
# (a toast): an answer in the group would cost its budget of 20 messages a minute.
NOT_A_MEMBER = "Only members of the staff group can do this."
NOT_CHECKED = "Telegram could not confirm that you are in the staff group. Please try again."
MEMBER_CHECK_SECONDS = 60.0


def card_buttons(case: Case) -> InlineKeyboardMarkup | None:
    if case.state is CaseState.CLOSED:
        return None
    data = f"{CASE_PREFIX}|{{}}|{case.code}"
    row = []
    if case.state is CaseState.WAITING:
        row.append(InlineKeyboardButton("✋ Claim", callback_data=data.format(CLAIM)))
    row += [
        InlineKeyboardButton("✔ Close", callback_data=data.format(CLOSE)),
        InlineKeyboardButton("🔑 Close + return code", callback_data=data.format(CLOSE_WITH_CODE)),
    ]
    return InlineKeyboardMarkup([row])


def _staff_error(error: TelegramError) -> ChannelError:
    said = error.message.casefold()
    if isinstance(error, BadRequest) and any(words in said for words in TOPIC_GONE):
        return PlaceGone(error.message, type(error).__name__)
    if isinstance(error, MaybeSent):
        return Unconfirmed(error.message, type(error).__name__)
    return ChannelError(error.message, type(error).__name__)


def _not_modified(error: TelegramError) -> bool:
    return "not_modified" in error.message.casefold().replace(" ", "_")


def _reply(reply_to: str | None) -> ReplyParameters | None:
    if reply_to is None:
        return None
    return ReplyParameters(int(reply_to), allow_sending_without_reply=True)


def _group(case: Case) -> int:
    """The chat id of the case's staff group (the staff channel names it as text)."""
    return int(case.group)


def _topic(case: Case) -> int:
    """The forum topic of the case: its message_thread_id."""
    return int(case.place)


def counsellor_of(user: User) -> Counsellor:
    return Counsellor(id=str(user.id))


class TelegramStaffChannel:
    """The staff channel's port on the Bot API: a case's place is its forum topic."""

    def __init__(self, bot: Bot) -> None:
        self.bot = bot

    async def open(self, case: Case, name: str, card: str) -> Case:
        try:
            topic = await self.bot.create_forum_topic(_group(case), name)
            posted = await self.bot.send_message(
                _group(case),
                card,
                message_thread_id=topic.message_thread_id,
                reply_markup=card_buttons(case),
            )
        except TelegramError as error:
            raise _staff_error(error) from error
        return replace(case, place=str(topic.message_thread_id), card=str(posted.message_id))

    async def reopen(self, case: Case) -> None:
        try:
            await self.bot.reopen_forum_topic(_group(case), _topic(case))
        except TelegramError as error:
            raise _staff_error(error) from error

    async def show(self, case: Case, name: str, card: str) -> None:
        failed: TelegramError | None = None
        try:
            await self.bot.edit_forum_topic(_group(case), _topic(case), name=name)
        except TelegramError as error:
            if not _not_modified(error):
                failed = error
        if case.card is not None:
            try:
                await self.bot.edit_message_text(
                    card,
                    chat_id=_group(case),
                    message_id=int(case.card),
                    reply_markup=card_buttons(case),
                )
            except TelegramError as error:
                failed = failed or error
        if failed is not None:
            raise _staff_error(failed) from failed

    async def note(self, case: Case, text: str) -> None:
        try:
            await self.bot.send_message(_group(case), f"ℹ️ {text}", message_thread_id=_topic(case))
        except TelegramError as error:
            raise _staff_error(error) from error

    async def close(self, case: Case) -> None:
        try:
            await self.bot.close_forum_topic(_group(case), _topic(case))
        except TelegramError as error:
            raise _staff_error(error) from error

    async def relay(
        self, case: Case, content: Content, reply_to: str | None, noting: Noting
    ) -> str:
        """The person's message: copied when it lies in a Telegram chat, else sent as text from
        the bot."""
        try:
            with sent_once(noting):
                if content.source is not None and content.source.channel == CHANNEL:
                    copied: MessageId | Message = await self.bot.copy_message(
                        _group(case),
                        int(content.source.native),
                        int(content.ref),
                        message_thread_id=_topic(case),
                        reply_parameters=_reply(reply_to),
                    )
                else:
                    copied = await self.bot.send_message(
                        _group(case),
                        content.text or "",
                        message_thread_id=_topic(case),
                        reply_parameters=_reply(reply_to),
                    )
        except TelegramError as error:
            raise _staff_error(error) from error
        return str(copied.message_id)

    async def edit(self, case: Case, ref: str, text: str) -> None:
        try:
            await self.bot.edit_message_text(text, chat_id=_group(case), message_id=int(ref))
        except TelegramError as error:
            raise channel_error(error) from error

    async def delete(self, case: Case, refs: Sequence[str]) -> None:
        await delete_messages(self.bot, _group(case), refs, case=case.code)


class TelegramStaffUpdates:
    """The handlers of the staff groups: counsellors' messages, commands, buttons and edits."""

    def __init__(
        self, counselling: Counselling, desk: CaseDesk, staff_chats: frozenset[int]
    ) -> None:
        self.counselling = counselling
        self.desk = desk
        self.staff_chats = staff_chats
        self._members: dict[tuple[int, int], float] = {}  # (chat, user) -> member until

    async def on_staff_message(self, update: Update, context: Context) -> None:
        """A counsellor wrote in a case's topic: a copy goes to the person. Commands: /close
        [code], /alias NAME. Anything outside a case topic is the counsellors' own."""
        message = update.effective_message
        if message is None or message.from_user is None or message.from_user.is_bot:
            return
        if message.text and await self._staff_command(message, message.from_user):
            return
        case = await self._case_of(message)
        if case is None:
            return
        refused = await self._refusal(message.get_bot(), message.chat_id, message.from_user)
        if refused is not None:
            if refused is NOT_CHECKED:
                await _reply_to(message, f"⚠️ Not delivered: {refused}")
            return
        reply = message.reply_to_message
        content = Content(
            ref=str(message.message_id),
            text=message.text,
            reply_to=None if reply is None else str(reply.message_id),
            source=PersonAddress(CHANNEL, str(message.chat_id)),
        )
        answer = await self.counselling.counsellor_wrote(
            case, content, counsellor_of(message.from_user)
        )
        if answer is not None:
            await _reply_to(message, answer)

    async def on_staff_button(self, update: Update, context: Context) -> None:
        query = update.callback_query
        if query is None or query.data is None or query.message is None:
            return
        prefix, _, rest = query.data.partition("|")
        what, _, code = rest.partition("|")
        case = await self.desk.case(code) if prefix == CASE_PREFIX else None
        if case is None or _group(case) != query.message.chat.id:
            log.info("refused a case button from outside its staff group")
            await _answer(query, "This case is not known here.")
            return
        refused = await self._refusal(context.bot, _group(case), query.from_user)
        if refused is not None:
            await _answer(query, refused)
            return
        counsellor = counsellor_of(query.from_user)
        if what == CLAIM:
            await _answer(query, await self.counselling.claim(case, counsellor))
        elif what in (CLOSE, CLOSE_WITH_CODE):
            closed = await self.counselling.close(case, with_code=what == CLOSE_WITH_CODE)
            await _answer(query, closed or "Nothing to do: the case has moved on.")
        else:
            await _answer(query, "Nothing to do: the case has moved on.")

    async def on_edit(self, update: Update, context: Context) -> None:
        """An edited text of a counsellor's: mirrored to the person's copy if it was relayed."""
        message = update.edited_message
        if message is None or message.text is None:
            return
        case = await self._case_of(message)
        if case is None:
            return
        try:
            await self.counselling.counsellor_edited(case, str(message.message_id), message.text)
        except ChannelError as error:
            log.info("could not mirror an edit", extra={"case": case.code, "error": error.kind})

    async def _staff_command(self, message: Message, user: User) -> bool:
        """/alias or /close; False for any other text, also one that starts with "/": that is
        the counsellor's message."""
        assert message.text is not None
        words = message.text.split()
        name = command_name(words[0]) if message.text.startswith("/") else None
        if name in ("alias", "close"):
            refused = await self._refusal(message.get_bot(), message.chat_id, user)
            if refused is NOT_CHECKED:
                await _reply_to(message, refused)
            if refused is not None:
                return True
        if name == "alias":
            answer = await self.counselling.set_alias(counsellor_of(user), " ".join(words[1:]))
            await _reply_to(message, answer)
        elif name == "close":
            case = await self._case_of(message)
            with_code = len(words) > 1 and words[1].casefold() == "code"
            closed = (
                None if case is None else await self.counselling.close(case, with_code=with_code)
            )
            if closed is None:
                await _reply_to(message, "This is not an open case.")
        else:
            return False
        return True

    async def _refusal(self, bot: Bot, chat_id: int, user: User) -> str | None:
        """Why `user` may not claim, close or write (None: a member of the staff group, who may).
        Asked of Telegram, because a counsellor who left keeps the old buttons and topics on
        screen; a yes is remembered for MEMBER_CHECK_SECONDS, so that a conversation does not
        cost a call per message."""
        key = (chat_id, user.id)
        if time.monotonic() < self._members.get(key, float("-inf")):
            return None
        try:
            member = await bot.get_chat_member(chat_id, user.id)
        except TelegramError as error:
            log.warning("could not check a staff member", extra={"error": type(error).__name__})
            return NOT_CHECKED
        if member.status in MAY_ACT:
            self._members[key] = time.monotonic() + MEMBER_CHECK_SECONDS
            return None
        self._members.pop(key, None)
        log.info("refused a staff action of a non-member", extra={"status": member.status})
        return NOT_A_MEMBER

    async def _case_of(self, message: Message) -> Case | None:
        if message.message_thread_id is None or message.chat_id not in self.staff_chats:
            return None
        return await self.desk.case_in_place(str(message.chat_id), str(message.message_thread_id))


async def _reply_to(message: Message, text: str) -> None:
    try:
        await message.reply_text(text)
    except TelegramError as error:
        log.info("could not answer in the staff group", extra={"error": type(error).__name__})


async def _answer(query: CallbackQuery, text: str) -> None:
    with contextlib.suppress(TelegramError):
        await query.answer(text)
