"""A fake Telegram Bot API server for end-to-end tests and benchmarks.

It runs on 127.0.0.1 (ephemeral port) in the test's event loop. Point the real PTB ``Bot`` or
``Application`` at it with ``base_url=server.base_url``; inject updates with ``send_text``,
``press`` & co., observe the bot's calls with ``calls`` / ``wait_for`` / ``chat_messages``,
wait until the bot handled everything with ``wait_handled`` (given its ``client_done``), and
inject faults with ``fail`` / ``fail_randomly`` / ``block``. With a webhook set, ``deliver_webhook``
posts one update to it, and ``post_to_webhook`` has the fake post every update as Telegram does
(again until it is answered); ``webhook_answers`` records what each post got.

Forum supergroups (a chat dict with ``"is_forum": True``) have topics: the bot manages them with
createForumTopic & co. once ``make_admin`` gave it can_manage_topics, people write in them with
``topic_message``, and ``topics`` / ``topic_messages`` show their state.

Parameters arrive as PTB sends them: form fields, JSON-encoded unless they are strings
(``chat_id=42``, ``reply_markup={"inline_keyboard": ...}``), files as multipart parts. They are
decoded before they land in ``Call.params``. Texts are not parsed for markup: a message's
``text`` is what the bot sent, HTML tags included.
"""

from __future__ import annotations

import asyncio
import inspect
import itertools
import json
import random
import re
import time
from collections.abc import Awaitable, Callable
from contextlib import suppress
from dataclasses import dataclass
from typing import Any, Literal, NamedTuple, Self
from urllib.parse import urlsplit

import aiohttp
from aiohttp import web

FaultKind = Literal[
    "retry_after",
    "server_error",
    "bad_gateway",
    "timeout",
    "answer_lost",
    "forbidden",
    "bad_request",
]

# Example contents for FakeBotAPI.send_message(person, **CONTENT_EXAMPLES["sticker"]).
CONTENT_EXAMPLES: dict[str, dict[str, Any]] = {
    "sticker": {
        "sticker": {
            "file_id": "in-sticker-1",
            "file_unique_id": "in-sticker-1-u",
            "type": "regular",
            "width": 512,
            "height": 512,
            "is_animated": False,
            "is_video": False,
            "emoji": "👍",
        }
    },
    "photo": {
        "photo": [
            {
                "file_id": "in-photo-1-s",
                "file_unique_id": "in-photo-1-su",
                "width": 90,
                "height": 67,
            },
            {
                "file_id": "in-photo-1",
                "file_unique_id": "in-photo-1-u",
                "width": 800,
                "height": 600,
            },
        ],
        "caption": "a photo",
    },
    "voice": {
        "voice": {
            "file_id": "in-voice-1",
            "file_unique_id": "in-voice-1-u",
            "duration": 3,
            "mime_type": "audio/ogg",
        }
    },
    "document": {
        "document": {
            "file_id": "in-document-1",
            "file_unique_id": "in-document-1-u",
            "file_name": "letter.pdf",
            "mime_type": "application/pdf",
        }
    },
    "location": {"location": {"latitude": 52.52, "longitude": 13.405}},
    "contact": {"contact": {"phone_number": "+4930123456", "first_name": "Test", "user_id": 7}},
}


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


MAX_TEXT = 4096
MAX_CAPTION = 1024
MAX_ALERT = 200
MAX_TOPIC_NAME = 128
DEFAULT_ICON_COLOR = 0x6FB9F0  # Telegram picks a colour when none is given; the fake, blue
NOT_MODIFIED = (
    "Bad Request: message is not modified: specified new message content and reply markup are"
    " exactly the same as a current content and reply markup of the message"
)
_FAULT_ANSWERS: dict[str, tuple[int, str]] = {
    "retry_after": (429, "Too Many Requests: retry after {retry_after}"),
    "server_error": (500, "Internal Server Error"),
    "bad_gateway": (502, "Bad Gateway"),
    "forbidden": (403, "Forbidden: bot was blocked by the user"),
    "bad_request": (400, "Bad Request: fault injected by the test"),
    "timeout": (0, ""),  # no answer: the connection is closed, nothing was done
    "answer_lost": (0, ""),  # done (a message sent), but the answer never reaches the bot
}
# Parameters that PTB sends as plain strings; every other parameter is JSON-encoded.
_STRING_PARAMS = _words(
    """text caption parse_mode callback_query_id url secret_token language_code description
    short_description ip_address inline_message_id business_connection_id message_effect_id
    action title performer file_name photo audio document voice video animation sticker
    video_note thumbnail name icon_custom_emoji_id"""
)
_MESSAGE_KEYS = ("message", "edited_message", "channel_post", "edited_channel_post")
# Update types getUpdates leaves out unless allowed_updates names them.
_NOT_BY_DEFAULT = frozenset({"chat_member", "message_reaction", "message_reaction_count"})
_GIFT_TYPES = _words(
    "unlimited_gifts limited_gifts unique_gifts premium_subscription gifts_from_channels"
)
# Message fields that copyMessage does not copy: a copy is a new message, not a forward.
_ENVELOPE = _words(
    """message_id from sender_chat chat date edit_date reply_markup reply_to_message
    message_thread_id is_topic_message forward_origin forward_from forward_from_chat
    forward_from_message_id forward_signature forward_sender_name forward_date
    is_automatic_forward author_signature via_bot"""
)
# Service messages, which copyMessage refuses.
_SERVICE = _words(
    """forum_topic_created forum_topic_edited forum_topic_closed forum_topic_reopened
    new_chat_members left_chat_member pinned_message"""
)
_COMMAND = re.compile(r"/[A-Za-z0-9_]{1,32}(?:@[A-Za-z0-9_]{1,32})?(?![A-Za-z0-9_@])")
_COMMAND_NAME = re.compile(r"[a-z0-9_]{1,32}")
_RESTRICTED = _words(
    """can_send_messages can_send_audios can_send_documents can_send_photos can_send_videos
    can_send_video_notes can_send_voice_notes can_send_polls can_send_other_messages
    can_add_web_page_previews can_react_to_messages can_change_info can_invite_users
    can_pin_messages can_manage_topics can_edit_tag"""
)
# What PTB requires, per status, in a ChatMember besides status and user.
_MEMBER_FIELDS: dict[str, dict[str, Any]] = {
    "creator": {"is_anonymous": False},
    "administrator": {
        "can_be_edited": False,
        "is_anonymous": False,
        "can_manage_chat": True,
        "can_delete_messages": True,
        "can_manage_video_chats": False,
        "can_restrict_members": True,
        "can_promote_members": False,
        "can_change_info": False,
        "can_invite_users": True,
        "can_post_stories": False,
        "can_edit_stories": False,
        "can_delete_stories": False,
    },
    "member": {},
    "restricted": {"is_member": True, "until_date": 0, **dict.fromkeys(_RESTRICTED, False)},
    "left": {},
    "kicked": {"until_date": 0},
}


@dataclass
class Person:
    """A Telegram user writing to the bot in a private chat (chat id == user id)."""

    user_id: int
    first_name: str = "Test"
    last_name: str | None = None
    username: str | None = None
    language_code: str | None = None

    def user(self) -> dict[str, Any]:
        """The User object."""
        return {"id": self.user_id, "is_bot": False, "first_name": self.first_name} | _present(
            last_name=self.last_name, username=self.username, language_code=self.language_code
        )

    def chat(self) -> dict[str, Any]:
        """The private Chat object."""
        return {"id": self.user_id, "type": "private", "first_name": self.first_name} | _present(
            last_name=self.last_name, username=self.username
        )


@dataclass
class Call:
    """One request the bot made. ``fault`` names an injected fault, ``error`` the description
    of any error answer, ``result`` is the ``result`` of a successful answer."""

    method: str
    params: dict[str, Any]
    files: dict[str, bytes]
    at: float  # time.monotonic()
    fault: str | None = None
    error: str | None = None
    result: Any = None


class _Upload(NamedTuple):
    filename: str | None
    content_type: str
    data: bytes


@dataclass
class _Fault:
    method: str | None
    kind: str
    times: int
    retry_after: int
    delay: float
    description: str | None = None


@dataclass
class _Chaos:
    methods: set[str] | None
    probability: float
    kinds: tuple[str, ...]
    rng: random.Random
    retry_after: int
    delay: float


class _ApiError(Exception):
    def __init__(self, code: int, description: str, parameters: dict | None = None) -> None:
        super().__init__(description)
        self.code = code
        self.description = description
        self.parameters = parameters


_Handler = Callable[["FakeBotAPI", dict[str, Any]], Any]
_API: dict[str, tuple[str, _Handler]] = {}  # lower-case method name -> (name, handler)


def _api(name: str) -> Callable[[_Handler], _Handler]:
    """Registers a Bot API method; Telegram matches method names case-insensitively."""

    def register(handler: _Handler) -> _Handler:
        _API[name.lower()] = (name, handler)
        return handler

    return register


class FakeBotAPI:
    """The fake server: Bot API state, update injection, observation and fault injection."""

    def __init__(self, token: str = "123456:TEST-TOKEN") -> None:
        self.token = token
        self.bot_user: dict[str, Any] = {
            "id": int(token.split(":", 1)[0]),
            "is_bot": True,
            "first_name": "Wegweiser Test",
            "username": "wegweiser_test_bot",
        }
        self.base_url = ""
        self.calls: list[Call] = []
        self._runner: web.AppRunner | None = None
        self._closing = False
        # updates
        self._queue: list[dict] = []  # injected, not yet confirmed
        self._unfetched: set[int] = set()  # update ids never handed out yet
        self._next_update_id = 1
        self._allowed_updates: set[str] = set()  # empty: Telegram's default
        self._poll_generation = 0
        self._updates_changed = asyncio.Event()
        self._calls_changed = asyncio.Event()
        self._in_flight = 0  # requests other than getUpdates being answered
        # Set by a test: resolves once the client has handled every update it was given (for a
        # python-telegram-bot Application: application.update_queue.join). See wait_handled.
        self.client_done: Callable[[], Awaitable[object]] | None = None
        self._last_activity = time.monotonic()
        # chats and messages
        self._chats: dict[int, dict] = {}
        self._bot_status: dict[int, str] = {}  # chat id -> the bot's member status
        self._bot_rights: dict[int, set[str]] = {}  # chat id -> the admin's can_* rights
        # chat id -> user id -> member status of people in groups: set by set_member, or
        # "member" once they posted or pressed there; anybody else has "left".
        self._members: dict[int, dict[int, str]] = {}
        self._topics: dict[int, dict[int, dict]] = {}  # chat id -> message_thread_id -> topic
        self._messages: dict[int, dict[int, dict]] = {}  # chat id -> message id -> message
        self._last_message_id: dict[int, int] = {}
        self._callbacks: dict[str, bool] = {}  # callback query id -> answered
        self._query_ids = itertools.count(4_000_000_001)
        self._files: dict[str, dict] = {}  # file_id -> file_id, file_unique_id, size, name, mime
        self._file_numbers = itertools.count(1)
        # bot settings
        self._webhook: dict[str, Any] = {}
        self._posting: asyncio.Task[None] | None = None  # see post_to_webhook
        # each post to the webhook: (update_id, its status, None when it got no answer)
        self.webhook_answers: list[tuple[int, int | None]] = []
        self._commands: dict[tuple[str, str], list[dict]] = {}
        self._descriptions: dict[tuple[str, str], str] = {}  # (field, language) -> text
        # faults
        self._faults: list[_Fault] = []
        self._chaos: _Chaos | None = None
        # method -> seconds every call to it takes before it is answered (a slow Bot API)
        self.latency: dict[str, float] = {}

    # -- lifecycle ------------------------------------------------------------------------

    async def start(self) -> None:
        app = web.Application(client_max_size=50 * 1024 * 1024)
        app.router.add_route("*", "/bot{token}/{method}", self._handle)
        # handler_cancellation ends a long poll whose client gave up; shutdown_timeout bounds
        # how long stop() waits for hanging ("timeout" fault) requests.
        self._runner = web.AppRunner(
            app, handler_cancellation=True, shutdown_timeout=0.25, access_log=None
        )
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = self._runner.addresses[0][1]
        self.base_url = f"http://127.0.0.1:{port}/bot"
        self._closing = False

    async def stop(self) -> None:
        self._closing = True
        self._wake_pollers()
        if self._posting is not None:
            self._posting.cancel()
            with suppress(asyncio.CancelledError):
                await self._posting
            self._posting = None
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()

    # -- injecting updates ----------------------------------------------------------------

    def send_text(self, person: Person, text: str, *, entities: list[dict] | None = None) -> dict:
        """A text message; a leading /command gets its bot_command entity unless
        ``entities`` is given."""
        return self._incoming(person.chat(), person.user(), _text_content(text, entities))

    def send_message(self, person: Person, **fields: Any) -> dict:
        """A message with any content, e.g. ``**CONTENT_EXAMPLES["sticker"]`` or
        ``photo=[{...PhotoSize}]``, ``voice={...}``, ``location={"latitude": .., ...}``."""
        return self._incoming(person.chat(), person.user(), fields)

    def edit_text(
        self, person: Person, message_id: int, text: str, *, chat: dict | None = None
    ) -> dict:
        """The person edits one of their text messages in their private chat, or in ``chat``
        (a group or a topic: message_thread_id and reply_to_message stay): an edited_message
        update."""
        chat_id = person.user_id if chat is None else chat["id"]
        old = self._message(chat_id, message_id)
        if old.get("from", {}).get("id") != person.user_id:
            raise ValueError(f"message {message_id} in chat {chat_id} is not {person.user_id}'s")
        edited = _without(old, "text", "entities") | _text_content(text)
        edited["edit_date"] = int(time.time())
        return self._push({"edited_message": edited})

    def press(
        self, person: Person, message_id: int, data: str, *, chat: dict | None = None
    ) -> dict:
        """The person presses a button with callback ``data`` on the bot's message in their
        private chat, or in ``chat`` (a group or a topic: the query's message is that one)."""
        chat_id = person.user_id if chat is None else chat["id"]
        message = self._message(chat_id, message_id)
        query = {
            "id": str(next(self._query_ids)),
            "from": person.user(),
            "message": message,
            "chat_instance": f"ci{chat_id}",
            "data": data,
        }
        return self._push({"callback_query": query})

    def member_change(self, chat: dict, old_status: str, new_status: str, by: Person) -> dict:
        """The bot's status in ``chat`` changes (my_chat_member). In a private chat "kicked"
        means the person blocked the bot, "member" that they unblocked it."""
        if not {old_status, new_status} <= _MEMBER_FIELDS.keys():
            raise ValueError(f"unknown status; use one of {sorted(_MEMBER_FIELDS)}")
        change = {
            "chat": chat,
            "from": by.user(),
            "date": int(time.time()),
            "old_chat_member": _member(self.bot_user, old_status),
            "new_chat_member": _member(self.bot_user, new_status),
        }
        return self._push({"my_chat_member": change})

    def group_message(
        self, chat: dict, person: Person, text: str, *, reply_to: int | None = None
    ) -> dict:
        """A text message in a group (in a forum: in its General topic), a reply to message
        ``reply_to`` if given."""
        content = self._replying(chat["id"], reply_to) | _text_content(text)
        return self._incoming(chat, person.user(), content)

    def topic_message(
        self,
        chat: dict,
        person: Person,
        thread_id: int,
        text: str | None = None,
        *,
        reply_to: int | None = None,
        entities: list[dict] | None = None,
        **content: Any,
    ) -> dict:
        """A message in forum topic ``thread_id``: text (a leading /command gets its
        bot_command entity) and/or any content as for ``send_message``. Like Telegram, a
        message that replies to nothing else has the topic's forum_topic_created message as
        its reply_to_message; ``reply_to`` makes it a reply to that message instead. Closed
        topics take it: counsellors may be admins."""
        topic = self._topics.get(chat["id"], {}).get(thread_id)
        if not chat.get("is_forum") or topic is None or topic["deleted"]:
            raise ValueError(f"chat {chat['id']} has no topic {thread_id}")
        if text is None and not content:
            raise ValueError("a topic message needs text or content")
        fields = {"message_thread_id": thread_id, "is_topic_message": True}
        root = thread_id if thread_id in self._messages.get(chat["id"], {}) else None
        fields |= self._replying(chat["id"], root if reply_to is None else reply_to)
        if text is not None:
            fields |= _text_content(text, entities)
        return self._incoming(chat, person.user(), fields | content)

    def channel_post(self, chat: dict, text: str) -> dict:
        content = {"sender_chat": chat, "text": text}
        return self._incoming(chat, None, content, kind="channel_post")

    def raw_update(self, update: dict) -> dict:
        """Any update, for forged or odd ones; its update_id is replaced by the next one."""
        return self._push(update)

    def redeliver(self, update: dict) -> dict:
        """An update delivered before, once more with its own update_id, as Telegram does with
        one that was not confirmed."""
        self._queue.append(update)
        self._unfetched.add(update["update_id"])
        self._last_activity = time.monotonic()
        self._wake_pollers()
        return update

    def add_chat(self, chat: dict) -> None:
        """Makes a chat known (e.g. a counsellors' group) without an update."""
        self._chats[chat["id"]] = chat

    def make_admin(
        self, chat: dict, *, can_manage_topics: bool = True, can_delete_messages: bool = True
    ) -> None:
        """Makes the bot an administrator of ``chat`` (and the chat known), without an update.
        In a forum, can_manage_topics lets it create topics and post in closed ones, as in
        Telegram. The rights live in the fake, not in the chat dict, which updates echo."""
        self.add_chat(chat)
        self._bot_status[chat["id"]] = "administrator"
        rights = {
            "can_manage_topics": can_manage_topics,
            "can_delete_messages": can_delete_messages,
        }
        self._bot_rights[chat["id"]] = {right for right, granted in rights.items() if granted}

    def set_member(self, chat: dict, person: Person, status: str) -> None:
        """A person's member status in a group (what getChatMember answers), without an
        update: e.g. "left" after they left, "restricted" after an admin restricted them."""
        if status not in _MEMBER_FIELDS:
            raise ValueError(f"unknown status; use one of {sorted(_MEMBER_FIELDS)}")
        self.add_chat(chat)
        self._members.setdefault(chat["id"], {})[person.user_id] = status

    # -- observing ------------------------------------------------------------------------

    def calls_to(self, method: str) -> list[Call]:
        return [call for call in self.calls if call.method == method]

    async def wait_for(
        self,
        method: str,
        predicate: Callable[[Call], bool] | None = None,
        *,
        timeout: float = 5.0,
        after: int = 0,
    ) -> Call:
        """The first call to ``method`` with index >= ``after`` that matches ``predicate``."""
        deadline = time.monotonic() + timeout
        checked = after
        while True:
            changed = self._calls_changed
            for call in self.calls[checked:]:
                if call.method == method and (predicate is None or predicate(call)):
                    return call
            checked = max(checked, len(self.calls))
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AssertionError(
                    f"no matching {method} call (index >= {after}) within {timeout} s\n"
                    + self._summary()
                )
            with suppress(TimeoutError):
                await asyncio.wait_for(changed.wait(), remaining)

    async def wait_idle(self, *, quiet: float = 0.2, timeout: float = 5.0) -> None:
        """Until every injected update was fetched and no call came in for ``quiet`` s."""
        deadline = time.monotonic() + timeout
        while True:
            now = time.monotonic()
            busy = self._unfetched or self._in_flight
            if not busy and now - self._last_activity >= quiet:
                return
            if now >= deadline:
                raise AssertionError(
                    f"not idle within {timeout} s: {len(self._unfetched)} updates not fetched,"
                    f" {self._in_flight} calls being answered\n" + self._summary()
                )
            await asyncio.sleep(0.01)

    async def wait_handled(self, *, timeout: float = 5.0) -> None:
        """Until the client confirmed every injected update (a later getUpdates offset passed it,
        or its webhook accepted it), ``client_done`` resolved (the client's own signal that all
        it was given is handled), and no call is being answered. Unlike wait_idle, no quiet
        period: each step waits for an explicit signal, however slow the client is."""
        deadline = time.monotonic() + timeout

        def late(what: str) -> AssertionError:
            return AssertionError(f"{what} within {timeout} s\n" + self._summary())

        while self._queue:
            if time.monotonic() >= deadline:
                raise late(f"{len(self._queue)} updates not confirmed")
            await asyncio.sleep(0.005)
        if self.client_done is not None:
            try:
                await asyncio.wait_for(self.client_done(), deadline - time.monotonic())
            except TimeoutError:
                raise late("the client did not finish its updates") from None
        while self._in_flight:
            if time.monotonic() >= deadline:
                raise late(f"{self._in_flight} calls still being answered")
            await asyncio.sleep(0.005)

    def chat_messages(self, chat_id: int) -> dict[int, dict]:
        """The messages currently in a chat, the person's and the bot's, by message id."""
        return dict(self._messages.get(chat_id, {}))

    def topics(self, chat_id: int) -> dict[int, dict]:
        """The forum's topics by message_thread_id, deleted ones too: message_thread_id, name,
        icon_color, icon_custom_emoji_id (if any), closed, deleted, created_by (a user id)."""
        return {key: dict(topic) for key, topic in self._topics.get(chat_id, {}).items()}

    def topic_messages(self, chat_id: int, thread_id: int) -> dict[int, dict]:
        """The messages currently in a topic, its forum_topic_created message first."""
        messages = self._messages.get(chat_id, {}).items()
        return {key: message for key, message in messages if _thread_of(message) == thread_id}

    @property
    def unanswered_callbacks(self) -> set[str]:
        return {query_id for query_id, answered in self._callbacks.items() if not answered}

    @property
    def webhook(self) -> dict[str, Any]:
        """The parameters of the last setWebhook, {} when none is set."""
        return dict(self._webhook)

    async def deliver_webhook(self, update: dict, *, secret: str | None) -> int | None:
        """POSTs ``update`` to the registered webhook (loopback only); returns the status, None
        when none came: the connection failed or closed, or no answer within Telegram's 60 s."""
        url = self._webhook.get("url")
        if not url:
            raise AssertionError("no webhook is set")
        if urlsplit(url).hostname not in ("127.0.0.1", "localhost", "::1"):
            raise AssertionError(f"refusing to deliver to {url}: not a loopback address")
        headers = {} if secret is None else {"X-Telegram-Bot-Api-Secret-Token": secret}
        status: int | None = None
        with suppress(aiohttp.ClientError, TimeoutError):
            async with (
                aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=60)) as session,
                session.post(url, json=update, headers=headers) as response,
            ):
                status = response.status
        self.webhook_answers.append((update.get("update_id", 0), status))
        if status is not None and 200 <= status < 300:
            self._queue = [queued for queued in self._queue if queued is not update]
            self._unfetched.discard(update.get("update_id"))
        self._last_activity = time.monotonic()
        return status

    def post_to_webhook(self, *, again_after: float = 0.1) -> None:
        """From now on act as Telegram does while a webhook is set: each injected update is
        posted to it (deliver_webhook, with the secret token of setWebhook), several at once,
        and posted again after ``again_after`` s until it is answered with 2xx; none is posted
        while no webhook is set."""
        if self._posting is None:
            self._posting = asyncio.create_task(self._post_updates(again_after))

    async def _post_updates(self, again_after: float) -> None:
        posting: dict[int, asyncio.Task[None]] = {}  # id(update) -> its posts
        try:
            while True:
                changed = self._updates_changed
                posting = {key: task for key, task in posting.items() if not task.done()}
                for update in self._queue:
                    if id(update) not in posting:
                        posting[id(update)] = asyncio.create_task(
                            self._post_until_answered(update, again_after)
                        )
                await changed.wait()
        finally:
            for task in posting.values():
                task.cancel()

    async def _post_until_answered(self, update: dict, again_after: float) -> None:
        while True:
            if self._webhook.get("url"):
                status = await self.deliver_webhook(
                    update, secret=self._webhook.get("secret_token")
                )
                if status is not None and 200 <= status < 300:
                    return
            await asyncio.sleep(again_after)

    # -- faults ---------------------------------------------------------------------------

    def fail(
        self,
        method: str | None,
        kind: FaultKind,
        *,
        times: int = 1,
        retry_after: int = 1,
        delay: float = 2.0,
        description: str | None = None,
    ) -> None:
        """The next ``times`` calls to ``method`` (None: any but getUpdates) fail."""
        _check_kinds((kind,))
        self._faults.append(_Fault(method, kind, times, retry_after, delay, description))

    def fail_randomly(
        self,
        methods: set[str] | None,
        probability: float,
        kinds: tuple[str, ...],
        *,
        seed: int = 0,
        retry_after: int = 1,
        delay: float = 2.0,
    ) -> None:
        """Each call to ``methods`` (None: any but getUpdates) fails with ``probability``,
        with a kind drawn from ``kinds``. Probability 0 switches it off."""
        _check_kinds(kinds)
        rng = random.Random(seed)
        self._chaos = _Chaos(methods, probability, kinds, rng, retry_after, delay)

    def block(self, user_id: int) -> None:
        """From now on every send to the person's chat answers 403 (bot was blocked)."""
        self._bot_status[user_id] = "kicked"

    # -- HTTP -----------------------------------------------------------------------------

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        if request.match_info["token"] != self.token:
            return _error_response(_ApiError(401, "Unauthorized"))
        name, handler = _API.get(request.match_info["method"].lower(), (None, None))
        params, uploads = await _read_params(request)
        method = name or request.match_info["method"]
        files = {key: upload.data for key, upload in uploads.items()}
        call = Call(method, params, files, time.monotonic())
        self.calls.append(call)
        self._calls_changed.set()
        self._calls_changed = asyncio.Event()
        counted = int(method != "getUpdates")  # long polls are not work in flight
        self._in_flight += counted
        try:
            if handler is None:
                raise _ApiError(404, "Not Found")
            if method in self.latency:
                await asyncio.sleep(self.latency[method])
            fault = self._take_fault(method)
            if fault is not None:
                call.fault = fault.kind
                if fault.kind in ("timeout", "answer_lost"):
                    if fault.kind == "answer_lost":
                        call.result = await _result_of(handler(self, params | uploads))
                    await asyncio.sleep(fault.delay)
                    if request.transport is not None:
                        request.transport.close()  # no answer at all
                    return web.Response()
                raise _fault_error(fault)
            result = await _result_of(handler(self, params | uploads))
        except _ApiError as error:
            call.error = error.description
            return _error_response(error)
        finally:
            self._in_flight -= counted
            if counted:
                self._last_activity = time.monotonic()
        call.result = result
        return web.json_response({"ok": True, "result": result})

    def _take_fault(self, method: str) -> _Fault | None:
        for fault in self._faults:
            if fault.method == method or (fault.method is None and method != "getUpdates"):
                fault.times -= 1
                if fault.times <= 0:
                    self._faults.remove(fault)
                return fault
        chaos = self._chaos
        if chaos is None:
            return None
        targeted = method in chaos.methods if chaos.methods is not None else method != "getUpdates"
        if targeted and chaos.rng.random() < chaos.probability:
            kind = chaos.rng.choice(chaos.kinds)
            return _Fault(method, kind, 1, chaos.retry_after, chaos.delay)
        return None

    # -- updates --------------------------------------------------------------------------

    def _incoming(
        self, chat: dict, sender: dict | None, content: dict, *, kind: str = "message"
    ) -> dict:
        message = {"message_id": self._new_message_id(chat["id"])}
        if sender is not None:
            message["from"] = sender
        message |= {"chat": chat, "date": int(time.time())} | content
        return self._push({kind: message})

    def _push(self, content: dict) -> dict:
        update = {"update_id": self._next_update_id} | _without(content, "update_id")
        self._next_update_id += 1
        self._observe(update)
        self._queue.append(update)
        self._unfetched.add(update["update_id"])
        self._last_activity = time.monotonic()
        self._wake_pollers()
        return update

    def _observe(self, update: dict) -> None:
        """Learns chats, messages, callback queries, file ids and member status from an
        injected update, leniently: forged updates may lack anything."""
        for key in _MESSAGE_KEYS:
            message = update.get(key)
            if (
                isinstance(message, dict)
                and isinstance(message.get("chat"), dict)
                and isinstance(message.get("message_id"), int)
            ):
                self._remember(message)
        query = update.get("callback_query")
        if isinstance(query, dict) and "id" in query:
            self._callbacks[str(query["id"])] = False
        for message, sender in (
            (update.get("message"), (update.get("message") or {}).get("from")),
            ((query or {}).get("message"), (query or {}).get("from")),
        ):
            self._joined(message, sender)
        change = update.get("my_chat_member")
        if isinstance(change, dict) and isinstance(change.get("chat"), dict):
            chat = change["chat"]
            self._chats[chat["id"]] = chat
            member = change.get("new_chat_member") or {}
            if member.get("status"):
                self._bot_status[chat["id"]] = member["status"]
                granted = {key for key, value in member.items() if value is True}
                self._bot_rights[chat["id"]] = {key for key in granted if key.startswith("can_")}
        self._learn_files(update)

    def _joined(self, message: Any, sender: Any) -> None:
        """Someone who posts or presses in a group is a member there, unless set otherwise."""
        if not (isinstance(message, dict) and isinstance(sender, dict)):
            return
        chat = message.get("chat")
        if isinstance(chat, dict) and chat.get("type") != "private" and "id" in sender:
            self._members.setdefault(chat["id"], {}).setdefault(sender["id"], "member")

    def _learn_files(self, value: Any) -> None:
        """Telegram accepts the file_id of any file the bot has received."""
        if isinstance(value, dict):
            if "file_id" in value and "file_unique_id" in value:
                self._files[value["file_id"]] = _pick(
                    value, "file_id", "file_unique_id", "file_size", "file_name", "mime_type"
                )
            for nested in value.values():
                self._learn_files(nested)
        elif isinstance(value, list):
            for nested in value:
                self._learn_files(nested)

    def _wake_pollers(self) -> None:
        self._updates_changed.set()
        self._updates_changed = asyncio.Event()

    def _wanted(self, update: dict) -> bool:
        kind = next((key for key in update if key != "update_id"), "")
        if self._allowed_updates:
            return kind in self._allowed_updates
        return kind not in _NOT_BY_DEFAULT

    def _deliverable(self, limit: int) -> list[dict]:
        for update in self._queue:
            if not self._wanted(update):
                self._unfetched.discard(update["update_id"])
        self._queue = [update for update in self._queue if self._wanted(update)]
        return self._queue[:limit]

    def _confirm(self, offset: int) -> None:
        if offset > 0:
            dropped = [update for update in self._queue if update["update_id"] < offset]
            self._queue = self._queue[len(dropped) :]
        elif offset < 0:
            dropped = self._queue[:offset]
            self._queue = self._queue[offset:]
        else:
            return
        self._unfetched.difference_update(update["update_id"] for update in dropped)

    def _drop_pending(self) -> None:
        self._queue.clear()
        self._unfetched.clear()

    # -- chats and messages ---------------------------------------------------------------

    def _new_message_id(self, chat_id: int) -> int:
        self._last_message_id[chat_id] = self._last_message_id.get(chat_id, 0) + 1
        return self._last_message_id[chat_id]

    def _remember(self, message: dict) -> None:
        chat_id, message_id = message["chat"]["id"], message["message_id"]
        self._chats[chat_id] = message["chat"]
        self._messages.setdefault(chat_id, {})[message_id] = message
        self._last_message_id[chat_id] = max(self._last_message_id.get(chat_id, 0), message_id)

    def _message(self, chat_id: int, message_id: int) -> dict:
        message = self._messages.get(chat_id, {}).get(message_id)
        if message is None:
            raise ValueError(f"there is no message {message_id} in chat {chat_id}")
        return message

    def _replying(self, chat_id: int, message_id: int | None) -> dict:
        """The reply_to_message field of an injected reply to a stored message."""
        if message_id is None:
            return {}
        replied = self._message(chat_id, message_id)
        return {"reply_to_message": _without(replied, "reply_to_message")}

    def _may(self, chat_id: int, right: str) -> bool:
        """Whether the bot holds an administrator right in the chat."""
        status = self._bot_status.get(chat_id)
        return status == "creator" or (
            status == "administrator" and right in self._bot_rights.get(chat_id, set())
        )

    def _chat(self, params: dict, key: str = "chat_id") -> dict:
        ref = params.get(key)
        if isinstance(ref, str) and ref.startswith("@"):
            named = (chat for chat in self._chats.values() if chat.get("username") == ref[1:])
            chat = next(named, None)
        else:
            chat = self._chats.get(ref)
        if chat is None:
            raise _ApiError(400, "Bad Request: chat not found")
        return chat

    def _target(self, params: dict) -> dict:
        """The chat a message goes to; 403 if the bot was blocked, kicked or left."""
        chat_id = params.get("chat_id")
        status = self._bot_status.get(chat_id)
        if status in ("kicked", "left"):
            kind = self._chats.get(chat_id, {}).get("type", "private")
            if kind == "private":
                raise _ApiError(403, "Forbidden: bot was blocked by the user")
            if status == "kicked":
                raise _ApiError(403, f"Forbidden: bot was kicked from the {kind} chat")
            raise _ApiError(403, f"Forbidden: bot is not a member of the {kind} chat")
        return self._chat(params)

    def _stored(self, chat: dict, message_id: Any, verb: str) -> dict:
        message = self._messages.get(chat["id"], {}).get(message_id)
        if message is None:
            raise _ApiError(400, f"Bad Request: message to {verb} not found")
        return message

    def _editable(self, params: dict) -> dict:
        message = self._stored(self._target(params), params.get("message_id"), "edit")
        if message.get("from", {}).get("id") != self.bot_user["id"]:
            raise _ApiError(400, "Bad Request: message can't be edited")
        return message

    def _store_sent(self, chat: dict, params: dict, content: dict) -> dict:
        """A new message from the bot; stored messages are replaced, never changed. In a topic
        (message_thread_id, or the topic of the message replied to) it replies, as in
        Telegram, to the topic's forum_topic_created message unless it replies to another."""
        original = None
        reply_parameters = params.get("reply_parameters") or {}
        if "message_id" in reply_parameters:
            original = self._messages.get(chat["id"], {}).get(reply_parameters["message_id"])
            if original is None and not reply_parameters.get("allow_sending_without_reply"):
                raise _ApiError(400, "Bad Request: message to be replied not found")
        thread_id = self._thread(chat, params, original)
        message = {
            "message_id": self._new_message_id(chat["id"]),
            "from": self.bot_user,
            "chat": chat,
            "date": int(time.time()),
        }
        if thread_id is not None:
            message |= {"message_thread_id": thread_id, "is_topic_message": True}
            if original is None:
                original = self._messages.get(chat["id"], {}).get(thread_id)
        if original is not None:
            message["reply_to_message"] = _without(original, "reply_to_message")
        message |= content | _inline_markup(params)
        self._remember(message)
        return message

    def _thread(
        self, chat: dict, params: dict, replied: dict | None, *, posting: bool = True
    ) -> int | None:
        """The topic a message goes to: message_thread_id, else the replied message's topic
        (Telegram keeps a reply in its topic); None for none: a forum's General topic, which
        is no topic here, so message_thread_id 1 (General's) is not found, as in Telegram."""
        thread_id = params.get("message_thread_id") or None
        if thread_id is None and replied is not None:
            thread_id = _thread_of(replied)
        if thread_id is None:
            return None
        topic = self._topics.get(chat["id"], {}).get(thread_id)
        if not chat.get("is_forum") or topic is None or topic["deleted"]:
            raise _ApiError(400, "Bad Request: message thread not found")
        if posting and topic["closed"] and not self._may(chat["id"], "can_manage_topics"):
            raise _ApiError(400, "Bad Request: TOPIC_CLOSED")
        return thread_id

    def _forum(self, params: dict) -> dict:
        chat = self._target(params)
        if not chat.get("is_forum"):
            raise _ApiError(400, "Bad Request: the chat is not a forum")
        return chat

    def _topic(self, params: dict) -> tuple[dict, dict]:
        """The forum and the topic a topic method names. The bot created every topic the fake
        knows, and a topic's creator may edit, close, reopen and delete it without rights."""
        chat = self._forum(params)
        thread_id = params.get("message_thread_id")
        if not isinstance(thread_id, int) or thread_id <= 0:
            raise _ApiError(400, "Bad Request: invalid message thread identifier specified")
        topic = self._topics.get(chat["id"], {}).get(thread_id)
        if topic is None or topic["deleted"]:
            raise _ApiError(400, "Bad Request: TOPIC_ID_INVALID")
        return chat, topic

    def _post_service(self, chat: dict, thread_id: int | None, content: dict) -> dict:
        """A service message in a topic (forum_topic_created & co.; thread_id None: the topic
        it starts); no update: Telegram does not send the bot its own messages."""
        message_id = self._new_message_id(chat["id"])
        message = {
            "message_id": message_id,
            "from": self.bot_user,
            "chat": chat,
            "date": int(time.time()),
            "message_thread_id": message_id if thread_id is None else thread_id,
            "is_topic_message": True,
        }
        self._remember(message | content)
        return message | content

    def _file(self, params: dict, kind: str) -> dict:
        """The stored file for a media parameter: an upload, attach://name or a file_id."""
        value = params.get(kind)
        if isinstance(value, str) and value.startswith("attach://"):
            value = params.get(value.removeprefix("attach://"))
        if isinstance(value, _Upload):
            number = next(self._file_numbers)
            stored = {
                "file_id": f"fake-{kind}-{number}",
                "file_unique_id": f"fake-u{number}",
                "file_size": len(value.data),
                "file_name": value.filename,
                "mime_type": value.content_type,
            }
            self._files[stored["file_id"]] = stored
            return stored
        if value is None:
            raise _ApiError(400, f"Bad Request: there is no {kind} in the request")
        if value not in self._files:
            raise _ApiError(400, "Bad Request: wrong file identifier/HTTP URL specified")
        return self._files[value]

    # -- Bot API methods ------------------------------------------------------------------

    @_api("getMe")
    def _get_me(self, params: dict) -> dict:
        return self.bot_user | {
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
            "can_connect_to_business": False,
            "has_main_web_app": False,
        }

    @_api("getUpdates")
    async def _get_updates(self, params: dict) -> list[dict]:
        if self._webhook:
            raise _ApiError(
                409,
                "Conflict: can't use getUpdates method while webhook is active;"
                " use deleteWebhook to delete the webhook first",
            )
        self._poll_generation += 1
        generation = self._poll_generation
        self._wake_pollers()  # an older poll still waiting is terminated
        if "allowed_updates" in params:
            self._allowed_updates = set(params["allowed_updates"] or ())
        self._confirm(int(params.get("offset", 0)))
        limit = min(max(int(params.get("limit", 100)), 1), 100)
        deadline = time.monotonic() + float(params.get("timeout", 0))
        while True:
            changed = self._updates_changed
            if generation != self._poll_generation:
                raise _ApiError(
                    409,
                    "Conflict: terminated by other getUpdates request;"
                    " make sure that only one bot instance is running",
                )
            updates = self._deliverable(limit)
            remaining = deadline - time.monotonic()
            if updates or remaining <= 0 or self._closing:
                break
            with suppress(TimeoutError):
                await asyncio.wait_for(changed.wait(), remaining)
        if updates:
            self._unfetched.difference_update(update["update_id"] for update in updates)
            self._last_activity = time.monotonic()
        return updates

    @_api("setWebhook")
    def _set_webhook(self, params: dict) -> bool:
        if params.get("drop_pending_updates"):
            self._drop_pending()
        if "allowed_updates" in params:
            self._allowed_updates = set(params["allowed_updates"] or ())
        self._webhook = (
            _pick(params, "url", "secret_token", "max_connections", "ip_address")
            if params.get("url")
            else {}
        )
        self._wake_pollers()
        return True

    @_api("deleteWebhook")
    def _delete_webhook(self, params: dict) -> bool:
        if params.get("drop_pending_updates"):
            self._drop_pending()
        self._webhook = {}
        return True

    @_api("getWebhookInfo")
    def _get_webhook_info(self, params: dict) -> dict:
        info = {
            "url": self._webhook.get("url", ""),
            "has_custom_certificate": False,
            "pending_update_count": len(self._queue),
        }
        if self._webhook.get("max_connections"):
            info["max_connections"] = self._webhook["max_connections"]
        if self._allowed_updates:
            info["allowed_updates"] = sorted(self._allowed_updates)
        return info

    @_api("setMyCommands")
    def _set_my_commands(self, params: dict) -> bool:
        commands = params.get("commands")
        if not isinstance(commands, list) or len(commands) > 100:
            raise _ApiError(400, "Bad Request: BOT_COMMANDS_TOO_MUCH")
        for command in commands:
            if not _COMMAND_NAME.fullmatch(str(command.get("command", ""))):
                raise _ApiError(400, "Bad Request: BOT_COMMAND_INVALID")
            if not 1 <= len(command.get("description", "")) <= 256:
                raise _ApiError(400, "Bad Request: BOT_COMMAND_DESCRIPTION_INVALID")
        self._commands[_commands_key(params)] = commands
        return True

    @_api("deleteMyCommands")
    def _delete_my_commands(self, params: dict) -> bool:
        self._commands.pop(_commands_key(params), None)
        return True

    @_api("getMyCommands")
    def _get_my_commands(self, params: dict) -> list[dict]:
        return self._commands.get(_commands_key(params), [])

    @_api("setMyDescription")
    def _set_my_description(self, params: dict) -> bool:
        return self._set_description(params, "description")

    @_api("setMyShortDescription")
    def _set_my_short_description(self, params: dict) -> bool:
        return self._set_description(params, "short_description")

    @_api("getMyDescription")
    def _get_my_description(self, params: dict) -> dict:
        return self._get_description(params, "description")

    @_api("getMyShortDescription")
    def _get_my_short_description(self, params: dict) -> dict:
        return self._get_description(params, "short_description")

    def _set_description(self, params: dict, name: str) -> bool:
        key = (name, params.get("language_code") or "")
        if params.get(name):
            self._descriptions[key] = params[name]
        else:
            self._descriptions.pop(key, None)
        return True

    def _get_description(self, params: dict, name: str) -> dict:
        return {name: self._descriptions.get((name, params.get("language_code") or ""), "")}

    @_api("sendMessage")
    def _send_message(self, params: dict) -> dict:
        chat = self._target(params)
        text = _checked_text(params.get("text"))
        return self._store_sent(chat, params, {"text": text} | _pick(params, "entities"))

    @_api("sendChatAction")
    def _send_chat_action(self, params: dict) -> bool:
        self._thread(self._target(params), params, None, posting=False)
        return True

    @_api("sendPhoto")
    def _send_photo(self, params: dict) -> dict:
        return self._send_media(params, "photo")

    @_api("sendAudio")
    def _send_audio(self, params: dict) -> dict:
        return self._send_media(params, "audio")

    @_api("sendDocument")
    def _send_document(self, params: dict) -> dict:
        return self._send_media(params, "document")

    @_api("sendVoice")
    def _send_voice(self, params: dict) -> dict:
        return self._send_media(params, "voice")

    def _send_media(self, params: dict, kind: str) -> dict:
        chat = self._target(params)
        file = self._file(params, kind)
        caption = params.get("caption") or ""
        if len(caption) > MAX_CAPTION:
            raise _ApiError(400, "Bad Request: message caption is too long")
        ids = _pick(file, "file_id", "file_unique_id", "file_size")
        if kind == "photo":
            media: Any = [ids | {"width": 800, "height": 600}]
        elif kind == "document":
            media = ids | _pick(file, "file_name", "mime_type")
        else:  # audio, voice
            media = ids | {"duration": params.get("duration", 1)} | _pick(file, "mime_type")
            media |= _pick(params, "performer", "title")
        content = {kind: media} | _pick(params, "caption", "caption_entities")
        return self._store_sent(chat, params, content)

    @_api("editMessageText")
    def _edit_message_text(self, params: dict) -> dict:
        message = self._editable(params)
        if "text" not in message:
            raise _ApiError(400, "Bad Request: there is no text in the message to edit")
        text = _checked_text(params.get("text"))
        edited = _without(message, "entities", "reply_markup") | {"text": text}
        edited |= _pick(params, "entities") | _inline_markup(params)
        return self._replace(message, edited)

    @_api("editMessageReplyMarkup")
    def _edit_message_reply_markup(self, params: dict) -> dict:
        message = self._editable(params)
        return self._replace(message, _without(message, "reply_markup") | _inline_markup(params))

    def _replace(self, message: dict, edited: dict) -> dict:
        if edited == message:
            raise _ApiError(400, NOT_MODIFIED)
        edited["edit_date"] = int(time.time())
        self._remember(edited)
        return edited

    @_api("answerCallbackQuery")
    def _answer_callback_query(self, params: dict) -> bool:
        query_id = str(params.get("callback_query_id"))
        if self._callbacks.get(query_id, True):
            raise _ApiError(
                400,
                "Bad Request: query is too old and response timeout expired or query ID is invalid",
            )
        if len(params.get("text") or "") > MAX_ALERT:
            raise _ApiError(400, "Bad Request: MESSAGE_TOO_LONG")
        self._callbacks[query_id] = True
        return True

    @_api("deleteMessage")
    def _delete_message(self, params: dict) -> bool:
        chat = self._chat(params)
        self._stored(chat, params.get("message_id"), "delete")
        del self._messages[chat["id"]][params["message_id"]]
        return True

    @_api("deleteMessages")
    def _delete_messages(self, params: dict) -> bool:
        chat = self._chat(params)
        ids = params.get("message_ids")
        if not isinstance(ids, list) or not 1 <= len(ids) <= 100:
            raise _ApiError(400, "Bad Request: message_ids must contain 1-100 identifiers")
        for message_id in ids:
            self._messages.get(chat["id"], {}).pop(message_id, None)
        return True

    @_api("copyMessage")
    def _copy_message(self, params: dict) -> dict:
        source_chat = self._chat(params, "from_chat_id")
        source = self._stored(source_chat, params.get("message_id"), "copy")
        if _SERVICE & source.keys():
            raise _ApiError(400, "Bad Request: message can't be copied")
        chat = self._target(params)
        content = {key: value for key, value in source.items() if key not in _ENVELOPE}
        if "caption" in params:
            content = _without(content, "caption_entities") | _pick(
                params, "caption", "caption_entities"
            )
        return {"message_id": self._store_sent(chat, params, content)["message_id"]}

    @_api("createForumTopic")
    def _create_forum_topic(self, params: dict) -> dict:
        chat = self._forum(params)
        if not self._may(chat["id"], "can_manage_topics"):
            raise _ApiError(400, "Bad Request: not enough rights to create a topic")
        name = _topic_name(params.get("name"))
        # Message 1 of a real forum is the chat's creation, so no topic gets id 1 (General's).
        self._last_message_id[chat["id"]] = max(self._last_message_id.get(chat["id"], 0), 1)
        icon = {"name": name, "icon_color": params.get("icon_color") or DEFAULT_ICON_COLOR}
        if params.get("icon_custom_emoji_id"):
            icon["icon_custom_emoji_id"] = params["icon_custom_emoji_id"]
        created = self._post_service(chat, None, {"forum_topic_created": icon})
        topic = {"message_thread_id": created["message_id"]} | icon
        state = {"closed": False, "deleted": False, "created_by": self.bot_user["id"]}
        self._topics.setdefault(chat["id"], {})[created["message_id"]] = topic | state
        return topic

    @_api("editForumTopic")
    def _edit_forum_topic(self, params: dict) -> bool:
        chat, topic = self._topic(params)
        edited: dict[str, Any] = {}
        if params.get("name"):
            edited["name"] = _topic_name(params["name"])
        if params.get("icon_custom_emoji_id") is not None:
            edited["icon_custom_emoji_id"] = params["icon_custom_emoji_id"]
        if not edited:
            return True  # nothing to change: Telegram is not even asked
        current = {"icon_custom_emoji_id": ""} | topic
        if all(current[key] == value for key, value in edited.items()):
            raise _ApiError(400, "Bad Request: TOPIC_NOT_MODIFIED")
        topic |= edited
        if not topic.get("icon_custom_emoji_id"):
            topic.pop("icon_custom_emoji_id", None)
        self._post_service(chat, topic["message_thread_id"], {"forum_topic_edited": edited})
        return True

    @_api("closeForumTopic")
    def _close_forum_topic(self, params: dict) -> bool:
        return self._set_closed(params, closed=True)

    @_api("reopenForumTopic")
    def _reopen_forum_topic(self, params: dict) -> bool:
        return self._set_closed(params, closed=False)

    def _set_closed(self, params: dict, *, closed: bool) -> bool:
        chat, topic = self._topic(params)
        if topic["closed"] == closed:
            raise _ApiError(400, "Bad Request: TOPIC_NOT_MODIFIED")
        topic["closed"] = closed
        service = "forum_topic_closed" if closed else "forum_topic_reopened"
        self._post_service(chat, topic["message_thread_id"], {service: {}})
        return True

    @_api("deleteForumTopic")
    def _delete_forum_topic(self, params: dict) -> bool:
        """The topic goes with all its messages; it stays in ``topics`` marked deleted."""
        chat, topic = self._topic(params)
        topic["deleted"] = True
        messages = self._messages.get(chat["id"], {})
        for message_id in self.topic_messages(chat["id"], topic["message_thread_id"]):
            del messages[message_id]
        return True

    @_api("getChat")
    def _get_chat(self, params: dict) -> dict:
        return self._chat(params) | {
            "accent_color_id": 0,
            "max_reaction_count": 11,
            "accepted_gift_types": dict.fromkeys(_GIFT_TYPES, False),
        }

    @_api("getChatMember")
    def _get_chat_member(self, params: dict) -> dict:
        chat = self._chat(params)
        user_id = params.get("user_id")
        if user_id == self.bot_user["id"]:
            return _member(self.bot_user, self._bot_status.get(chat["id"], "left"))
        if not isinstance(user_id, int):
            raise _ApiError(400, "Bad Request: invalid user_id specified")
        status = self._members.get(chat["id"], {}).get(user_id, "left")
        user = {"id": user_id, "is_bot": False, "first_name": "Member"}
        return _member(user, status)

    @_api("leaveChat")
    def _leave_chat(self, params: dict) -> bool:
        self._bot_status[self._chat(params)["id"]] = "left"
        return True

    @_api("close")
    def _close(self, params: dict) -> bool:
        return True

    @_api("logOut")
    def _log_out(self, params: dict) -> bool:
        return True

    # -- reporting ------------------------------------------------------------------------

    def _summary(self, last: int = 12) -> str:
        polls = len(self.calls_to("getUpdates"))
        recent = [call for call in self.calls if call.method != "getUpdates"][-last:]
        lines = [f"{polls} getUpdates calls, {len(self._queue)} updates queued; recent calls:"]
        for call in recent:
            params = json.dumps(call.params, ensure_ascii=False, default=str)
            line = f"  {call.method} {params[:160]}"
            if call.fault or call.error:
                line += f"  -> {call.fault or ''} {call.error or ''}".rstrip()
            lines.append(line)
        return "\n".join(lines if recent else [*lines, "  (none)"])


# -- helpers ----------------------------------------------------------------------------


async def _read_params(request: web.Request) -> tuple[dict[str, Any], dict[str, _Upload]]:
    """Query string, form, multipart or JSON body, decoded; file parts separately."""
    raw: dict[str, Any] = dict(request.query)
    uploads: dict[str, _Upload] = {}
    if request.content_type == "application/json":
        raw |= await request.json()
    elif request.can_read_body:
        for name, value in (await request.post()).items():
            if isinstance(value, web.FileField):
                data = value.file.read()
                uploads[name] = _Upload(value.filename, value.content_type, data)
            else:
                raw[name] = value
    return {name: _decode(name, value) for name, value in raw.items()}, uploads


def _decode(name: str, value: Any) -> Any:
    if not isinstance(value, str) or name in _STRING_PARAMS:
        return value
    try:
        return json.loads(value)
    except ValueError:
        return value


def _error_response(error: _ApiError) -> web.Response:
    body: dict[str, Any] = {
        "ok": False,
        "error_code": error.code,
        "description": error.description,
    }
    if error.parameters:
        body["parameters"] = error.parameters
    return web.json_response(body, status=error.code)


async def _result_of(result: Any) -> Any:
    return await result if inspect.isawaitable(result) else result


def _fault_error(fault: _Fault) -> _ApiError:
    code, description = _FAULT_ANSWERS[fault.kind]
    description = fault.description or description.format(retry_after=fault.retry_after)
    parameters = {"retry_after": fault.retry_after} if fault.kind == "retry_after" else None
    return _ApiError(code, description, parameters)


def _check_kinds(kinds: tuple[str, ...]) -> None:
    unknown = set(kinds) - _FAULT_ANSWERS.keys()
    if unknown or not kinds:
        raise ValueError(f"unknown fault kinds {unknown}; use {sorted(_FAULT_ANSWERS)}")


def _checked_text(text: Any) -> str:
    text = "" if text is None else str(text)
    if not text.strip():
        raise _ApiError(400, "Bad Request: message text is empty")
    if len(text) > MAX_TEXT:
        raise _ApiError(400, "Bad Request: message is too long")
    return text


def _topic_name(name: Any) -> str:
    """A topic name as Telegram keeps it: trimmed and cut to 128 characters."""
    name = str(name or "").strip()[:MAX_TOPIC_NAME].strip()
    if not name:
        raise _ApiError(400, "Bad Request: title must be non-empty")
    return name


def _thread_of(message: dict) -> int | None:
    """The topic a stored message is in; None outside topics."""
    return message.get("message_thread_id") if message.get("is_topic_message") else None


def _text_content(text: str, entities: list[dict] | None = None) -> dict:
    if entities is None and (command := _COMMAND.match(text)):
        entities = [{"type": "bot_command", "offset": 0, "length": command.end()}]
    return {"text": text, "entities": entities} if entities else {"text": text}


def _inline_markup(params: dict) -> dict:
    """The message's reply_markup: only inline keyboards are part of a message."""
    markup = params.get("reply_markup")
    if isinstance(markup, dict) and markup.get("inline_keyboard"):
        return {"reply_markup": markup}
    return {}


def _member(user: dict, status: str) -> dict:
    return {"status": status, "user": user} | _MEMBER_FIELDS[status]


def _commands_key(params: dict) -> tuple[str, str]:
    scope = params.get("scope") or {"type": "default"}
    return json.dumps(scope, sort_keys=True), params.get("language_code") or ""


def _pick(source: dict, *keys: str) -> dict:
    return {key: source[key] for key in keys if source.get(key) is not None}


def _without(source: dict, *keys: str) -> dict:
    return {key: value for key, value in source.items() if key not in keys}


def _present(**values: Any) -> dict:
    return {key: value for key, value in values.items() if value is not None}
