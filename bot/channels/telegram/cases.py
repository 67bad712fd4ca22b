"""The case desk: conversations between a person and the counsellors of a staff group.

Each case is one forum topic in its team's staff supergroup, named with the case's anonymous
code, language and topic area ("K7Q2 · ro · health"); its first post is the case card with the
buttons Claim and Close. Messages go both ways with copyMessage, never forwardMessage (a forward
shows the sender's account). Which copy is which is kept by id (never content), so replies keep
their threading and edits are mirrored. Only the configured staff groups can claim, close or
write to a person; the bot needs to be an admin there that may manage topics.

Texts for the staff group are English and live here: they are for the centre's staff, like the
command line; what a person reads is in flows/ and the catalogs.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime
import logging
import zoneinfo

from telegram import (
    Bot,
    CallbackQuery,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Message,
    ReplyParameters,
    Update,
    User,
)
from telegram.error import BadRequest, Forbidden, TelegramError
from telegram.ext import ContextTypes

from bot.channels.telegram.conversation import Conversations, delete_messages, utc_now
from bot.config import HandoverSetting
from bot.dialogue import CaseNews, News, RequestHandover, Session, TextTyped
from bot.dialogue.engine import command_name
from bot.handover.case import (
    Case,
    CaseState,
    new_case_code,
    new_return_code,
    normalised_return_code,
)
from bot.handover.teams import Team, format_back, route
from bot.stats import Counted, Event, reply_bucket
from bot.store import CaseStore, SecretKeys, SessionStore, log_tag

log = logging.getLogger(__name__)

Context = ContextTypes.DEFAULT_TYPE

# Button data of the case card: "case|claim|K7Q2". Pressed only in a staff group.
CASE_PREFIX = "case"
CLAIM, CLOSE, CLOSE_WITH_CODE = "claim", "close", "code"
TOPIC_NAME_LIMIT = 128
BLOCKED = "The person has blocked the bot: nothing more can reach them."
ALIAS_LIMIT = 32
# Telegram's answers when a topic is gone (deleted by a counsellor or an admin).
TOPIC_GONE = ("thread not found", "topic_id_invalid", "topic_deleted")


class Store(SessionStore, CaseStore):
    """What the desk needs of the store: sessions and cases (SQLiteStore is both)."""


def topic_name(case: Case) -> str:
    parts = [case.code, case.language, case.area or "general"]
    if case.state is CaseState.CLAIMED and case.alias:
        parts.append(case.alias)
    name = " · ".join(parts)
    return (f"✔ {name}" if case.state is CaseState.CLOSED else name)[:TOPIC_NAME_LIMIT]


def card_text(case: Case, timezone: str) -> str:
    """The case card: what counsellors need to start, nothing that identifies the person."""
    zone = zoneinfo.ZoneInfo(timezone)
    since = case.opened.astimezone(zone).strftime("%Y-%m-%d %H:%M")
    status = {
        CaseState.WAITING: "waiting for a counsellor",
        CaseState.CLAIMED: f"claimed by {case.alias or 'a counsellor'}",
        CaseState.CLOSED: "closed",
    }[case.state]
    return "\n".join(
        [
            f"Case {case.code}",
            f"Language: {case.language}",
            f"Topic area: {case.area or 'general'}",
            f"Path: {' → '.join(case.path) or '–'}",
            f"Waiting since: {since} ({timezone})",
            f"Status: {status}",
            "",
            "Write in this topic to answer; the person gets a copy. /close ends the case, "
            "/close code ends it with a return code for the person.",
        ]
    )


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


def _topic_gone(error: TelegramError) -> bool:
    said = error.message.casefold()
    return any(words in said for words in TOPIC_GONE)


class CaseDesk:
    def __init__(
        self,
        conversations: Conversations,
        keys: SecretKeys,
        teams: list[Team],
        settings: HandoverSetting,
        timezone: str,
        *,
        erase_staff_copies: bool = False,
    ) -> None:
        """`erase_staff_copies`: /exit also deletes the copies of the person's messages in the
        topic (safety.erase_staff_copies)."""
        self.conversations = conversations
        self.keys = keys
        self.teams = teams
        self.settings = settings
        self.timezone = timezone
        self.erase_staff_copies = erase_staff_copies
        self.staff_chats = frozenset(team.chat_id for team in teams)
        conversations.desk = self

    @property
    def store(self) -> Store:
        store = self.conversations.store
        if store is None:
            raise RuntimeError("the store is not open yet")
        return store  # type: ignore[return-value]

    # -- the person's side ---------------------------------------------------------------------

    async def open(self, bot: Bot, key: bytes, request: RequestHandover) -> CaseNews:
        """A new case in a new topic, or the person's closed case reopened if it is still kept.
        Outside office hours the case opens all the same: the message waits in the topic."""
        now = utc_now()
        area = request.area
        team = route(self.teams, request.language, area)
        try:
            case = await self._reopened(bot, key, now)
            if case is None:
                case = await self._new_case(bot, key, request, team, area, now)
        except TelegramError as error:
            _failed("could not open a case", error)
            return CaseNews(News.UNAVAILABLE)
        if team.on_duty(now):
            return CaseNews(News.OPENED, case=case.code)
        await self.store.save_case(dataclasses.replace(case, told_nobody=True))
        back = team.back_at(now)
        detail = format_back(back, request.language) if back is not None else None
        return CaseNews(News.OPENED_OUTSIDE_HOURS, case=case.code, detail=detail)

    async def _new_case(
        self,
        bot: Bot,
        key: bytes,
        request: RequestHandover,
        team: Team,
        area: str,
        now: datetime.datetime,
    ) -> Case:
        code = new_case_code(await self.store.case_codes())
        draft = Case(
            code=code,
            person=key,
            team=team.name,
            chat_id=team.chat_id,
            thread_id=0,
            language=request.language,
            area=area,
            path=request.path,
            opened=now,
            expires=now + datetime.timedelta(days=self.settings.idle_days),
        )
        case = await self._with_topic(bot, draft)
        log.info("case opened", extra={"case": code, "person": log_tag(key), "team": team.name})
        return case

    async def _with_topic(self, bot: Bot, case: Case) -> Case:
        """A (new) forum topic for the case, with its card as the first post."""
        topic = await bot.create_forum_topic(case.chat_id, topic_name(case))
        card = await bot.send_message(
            case.chat_id,
            card_text(case, self.timezone),
            message_thread_id=topic.message_thread_id,
            reply_markup=card_buttons(case),
        )
        placed = dataclasses.replace(
            case, thread_id=topic.message_thread_id, card_id=card.message_id
        )
        await self.store.save_case(placed)
        return placed

    async def _reopened(self, bot: Bot, key: bytes, now: datetime.datetime) -> Case | None:
        case = await self.store.case_of_person(key)
        if case is None or case.expires <= now:
            return None
        if case.state is not CaseState.CLOSED:  # still open (their session had expired)
            await self._note(bot, case, "The person asked for a counsellor again.")
            return case
        return await self._reopen(bot, case, key, now, "The person asked for a counsellor again.")

    async def _reopen(
        self, bot: Bot, case: Case, key: bytes, now: datetime.datetime, note: str
    ) -> Case:
        """A closed case waits for a counsellor again, in its old topic (a new one if that is
        gone); a return code of it stops working. Raises TelegramError."""
        reopened = case.with_state(
            CaseState.WAITING,
            person=key,
            opened=now,
            alias=None,
            claimed=None,
            replied=None,
            closed=None,
            told_nobody=False,
            expires=now + datetime.timedelta(days=self.settings.idle_days),
        )
        try:
            await bot.reopen_forum_topic(case.chat_id, case.thread_id)
            await self._show_state(bot, reopened)
            await self._note(bot, reopened, note)
        except BadRequest as error:
            if not _topic_gone(error):
                raise
            reopened = await self._with_topic(bot, reopened)
        await self.store.save_case(reopened)
        await self.store.forget_return_codes(case.code)
        return reopened

    async def relay_to_staff(self, bot: Bot, code: str, chat_id: int, message: Message) -> bool:
        """The person's message, copied into the case's topic. False if it did not get there."""
        case = await self.store.case(code)
        if case is None or case.state is CaseState.CLOSED:
            return False
        reply_to = None
        if message.reply_to_message is not None:
            reply_to = await self.store.staff_copy(code, message.reply_to_message.message_id)
        for attempt in range(2):
            try:
                copied = await bot.copy_message(
                    case.chat_id,
                    chat_id,
                    message.message_id,
                    message_thread_id=case.thread_id,
                    reply_parameters=None
                    if reply_to is None
                    else ReplyParameters(reply_to, allow_sending_without_reply=True),
                )
            except TelegramError as error:
                if attempt == 0 and isinstance(error, BadRequest) and _topic_gone(error):
                    case = await self._with_topic(bot, case)  # a counsellor deleted the topic
                    await self._note(bot, case, "The old topic was gone; this is the case again.")
                    continue
                _failed("could not pass a message on", error, code)
                return False
            await self.store.remember_relay(
                code, message.message_id, copied.message_id, from_person=True
            )
            return True
        return False

    async def person_ended(self, bot: Bot, code: str) -> None:
        case = await self.store.case(code)
        if case is not None and case.state is not CaseState.CLOSED:
            await self._close(bot, case, "The person ended the conversation.")

    async def person_erased(self, bot: Bot, key: bytes, code: str | None) -> None:
        """/exit: the counsellors get a neutral note, the case is closed, the person is no longer
        linked to it, and a return code of theirs stops working."""
        case = await self.store.case(code) if code else await self.store.case_of_person(key)
        if case is not None:
            if case.state is not CaseState.CLOSED:
                await self._close(bot, case, "The person has left the chat.")
            await self.store.forget_return_codes(case.code)
            if self.erase_staff_copies:
                copies = await self.store.staff_copies(case.code)
                await delete_messages(bot, case.chat_id, copies, case=case.code)
        await self.store.forget_person(key)

    async def person_blocked(self, bot: Bot, code: str) -> None:
        case = await self.store.case(code)
        if case is not None and case.state is not CaseState.CLOSED:
            await self._close(bot, case, BLOCKED)

    async def returning(
        self, bot: Bot, key: bytes, session: Session, event: object, now: datetime.datetime
    ) -> object:
        """A typed return code becomes the news that the person is back in their case."""
        if session.case is not None or not isinstance(event, TextTyped):
            return event
        typed = normalised_return_code(event.text)
        if typed is None:
            return event
        code = await self.store.case_of_return_code(self.keys.return_code_digest(typed), now)
        case = await self.store.case(code) if code else None
        if case is None:
            return event
        try:
            await self._reopen(bot, case, key, now, "The person came back with their return code.")
        except TelegramError as error:
            _failed("could not reopen a case for its return code", error, case.code)
            return event
        log.info("case resumed with a return code", extra={"case": case.code})
        return CaseNews(News.RESUMED, case=case.code)

    # -- the staff group's side ----------------------------------------------------------------

    async def on_staff_message(self, update: Update, context: Context) -> None:
        """A counsellor wrote in a case's topic: a copy goes to the person. Commands: /close
        [code], /alias NAME. Anything outside a case topic is the counsellors' own."""
        message = update.effective_message
        if message is None or message.from_user is None or message.from_user.is_bot:
            return
        if message.text and message.text.startswith("/"):
            await self._staff_command(context.bot, message)
            return
        case = await self._case_of(message)
        if case is None:
            return
        if case.state is CaseState.CLOSED or case.person is None:
            await self._reply(message, "⚠️ Not delivered: this case is closed.")
            return
        reply_to = None
        if message.reply_to_message is not None:
            reply_to = await self.store.person_copy(case.code, message.reply_to_message.message_id)
        try:
            copied = await self.conversations.copy_to_person(
                context.bot, case.person, message.chat_id, message.message_id, reply_to
            )
        except Forbidden:
            await self._close(context.bot, case, BLOCKED)
            await self.conversations.forget(case.person)
            return
        except TelegramError as error:
            await self._reply(message, f"⚠️ Not delivered ({error.message}). Please send it again.")
            return
        if copied is None:
            await self._reply(message, "⚠️ Not delivered: the person's chat has expired.")
            return
        await self.store.remember_relay(case.code, copied, message.message_id, from_person=False)
        now = utc_now()
        if case.replied is None:
            minutes = (now - case.opened).total_seconds() / 60
            await self.conversations.count(
                [Counted(Event.FIRST_REPLY, case.language, reply_bucket(minutes))], now
            )
            case = dataclasses.replace(case, replied=now)
            await self.store.save_case(case)
        if case.state is CaseState.WAITING:  # answering is claiming
            await self._claim(context.bot, case, message.from_user)

    async def on_staff_button(self, update: Update, context: Context) -> None:
        query = update.callback_query
        if query is None or query.data is None or query.message is None:
            return
        prefix, _, rest = query.data.partition("|")
        what, _, code = rest.partition("|")
        case = await self.store.case(code) if prefix == CASE_PREFIX else None
        if case is None or case.chat_id != query.message.chat.id:
            log.info("refused a case button from outside its staff group")
            await _answer(query, "This case is not known here.")
            return
        if what == CLAIM and case.state is CaseState.WAITING:
            await self._claim(context.bot, case, query.from_user)
            await _answer(query, f"You have case {case.code}.")
        elif what in (CLOSE, CLOSE_WITH_CODE) and case.state is not CaseState.CLOSED:
            await self._close(
                context.bot,
                case,
                "Closed by a counsellor.",
                by_counsellor=True,
                code=what == CLOSE_WITH_CODE,
            )
            await _answer(query, f"Case {case.code} is closed.")
        else:
            await _answer(query, "Nothing to do: the case has moved on.")

    async def on_edit(self, update: Update, context: Context) -> None:
        """An edited text: mirrored to the other side's copy if it was relayed, else ignored."""
        message = update.edited_message
        if message is None or message.text is None:
            return
        try:
            if message.chat.type == message.chat.PRIVATE:
                key = self.keys.pseudonym(message.chat_id)
                case = await self.store.case_of_person(key)
                if case is None or case.state is CaseState.CLOSED:
                    return
                copy = await self.store.staff_copy(case.code, message.message_id)
                if copy is not None:
                    await context.bot.edit_message_text(
                        message.text, chat_id=case.chat_id, message_id=copy
                    )
            elif message.chat_id in self.staff_chats:
                case = await self._case_of(message)
                if case is None or case.person is None:
                    return
                copy = await self.store.person_copy(case.code, message.message_id)
                stored = await self.store.load(case.person)
                if copy is not None and stored is not None:
                    chat_id = self.keys.open_address(stored.address, case.person)
                    await context.bot.edit_message_text(
                        message.text, chat_id=chat_id, message_id=copy
                    )
        except TelegramError as error:
            _failed("could not mirror an edit", error)

    async def check_unclaimed(self, context: Context) -> None:
        """The job: a person whose case nobody claimed in time is told, with the 24/7 numbers."""
        if self.conversations.store is None:
            return
        limit = utc_now() - datetime.timedelta(minutes=self.settings.claim_minutes)
        for case in await self.store.waiting_cases(opened_before=limit):
            await self.store.save_case(dataclasses.replace(case, told_nobody=True))
            await self._note(
                context.bot,
                case,
                f"Nobody claimed this case within {self.settings.claim_minutes:g} min; the "
                "person was told where to find help meanwhile.",
            )
            if case.person is not None:
                await self.conversations.tell(
                    context.bot, case.person, CaseNews(News.NOBODY_CLAIMED)
                )

    # -- steps of a case -------------------------------------------------------------------------

    async def _claim(self, bot: Bot, case: Case, counsellor: User) -> None:
        chosen = await self.store.alias(counsellor.id)
        claimed = case.with_state(
            CaseState.CLAIMED, alias=chosen or counsellor.first_name, claimed=utc_now()
        )
        await self.store.save_case(claimed)
        await self._show_state(bot, claimed)
        await self.conversations.count(
            [Counted(Event.HANDOVER_CLAIMED, case.language, case.area)], utc_now()
        )
        if case.person is not None:
            await self.conversations.tell(bot, case.person, CaseNews(News.CLAIMED, detail=chosen))

    async def _close(
        self, bot: Bot, case: Case, why: str, *, by_counsellor: bool = False, code: bool = False
    ) -> None:
        """Close the case: a note in the topic, the card and name updated, the topic closed.
        Closed by a counsellor, the person is told (with a return code if asked for)."""
        now = utc_now()
        closed = case.with_state(
            CaseState.CLOSED,
            closed=now,
            expires=now + datetime.timedelta(days=self.settings.case_days),
        )
        await self.store.save_case(closed)
        return_code = None
        if code and case.person is not None:
            return_code = new_return_code()
            expires = now + datetime.timedelta(days=self.settings.return_code_days)
            digest = self.keys.return_code_digest(return_code)
            await self.store.save_return_code(digest, case.code, expires)
        await self.conversations.count(
            [Counted(Event.HANDOVER_COMPLETED, case.language, case.area)], now
        )
        note = why if return_code is None else f"{why} The person got a return code."
        try:
            await self._note(bot, closed, note)
            await self._show_state(bot, closed)
            await bot.close_forum_topic(case.chat_id, case.thread_id)
        except TelegramError as error:
            _failed("could not close the topic", error, case.code)
        if by_counsellor and case.person is not None:
            news = CaseNews(News.CLOSED, detail=return_code)
            await self.conversations.tell(bot, case.person, news)
        log.info("case closed", extra={"case": case.code})

    async def _show_state(self, bot: Bot, case: Case) -> None:
        """The card and the topic name say where the case is (edited on changes only)."""
        try:
            await bot.edit_forum_topic(case.chat_id, case.thread_id, name=topic_name(case))
        except BadRequest as error:
            if "not_modified" not in error.message.casefold().replace(" ", "_"):
                _failed("could not rename a topic", error, case.code)
        if case.card_id is not None:
            try:
                await bot.edit_message_text(
                    card_text(case, self.timezone),
                    chat_id=case.chat_id,
                    message_id=case.card_id,
                    reply_markup=card_buttons(case),
                )
            except TelegramError as error:
                _failed("could not update a case card", error)

    async def _note(self, bot: Bot, case: Case, text: str) -> None:
        try:
            await bot.send_message(case.chat_id, f"ℹ️ {text}", message_thread_id=case.thread_id)
        except TelegramError as error:
            _failed("could not post a note", error, case.code)

    async def _staff_command(self, bot: Bot, message: Message) -> None:
        assert message.text is not None
        words = message.text.split()
        name = command_name(words[0])
        if name == "alias" and message.from_user is not None:
            alias = " ".join(words[1:]).strip()[:ALIAS_LIMIT]
            if not alias:
                await self._reply(
                    message, "Write /alias and the name people should see, e.g. /alias Mara"
                )
                return
            await self.store.set_alias(message.from_user.id, alias)
            await self._reply(message, f"People will see you as {alias}.")
        elif name == "close":
            case = await self._case_of(message)
            if case is None or case.state is CaseState.CLOSED:
                await self._reply(message, "This is not an open case.")
                return
            with_code = len(words) > 1 and words[1].casefold() == "code"
            await self._close(
                bot, case, "Closed by a counsellor.", by_counsellor=True, code=with_code
            )

    async def _case_of(self, message: Message) -> Case | None:
        if message.message_thread_id is None or message.chat_id not in self.staff_chats:
            return None
        return await self.store.case_in_topic(message.chat_id, message.message_thread_id)

    @staticmethod
    async def _reply(message: Message, text: str) -> None:
        try:
            await message.reply_text(text)
        except TelegramError as error:
            _failed("could not answer in the staff group", error)


async def _answer(query: CallbackQuery, text: str) -> None:
    with contextlib.suppress(TelegramError):
        await query.answer(text)


def _failed(what: str, error: TelegramError, case: str | None = None) -> None:
    """A Bot API call of the desk failed: logged by kind, the case by its code only."""
    log.info(what, extra={"case": case, "error": type(error).__name__, "detail": error.message})
