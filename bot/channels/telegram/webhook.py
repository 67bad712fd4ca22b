"""The webhook server refuses a request before reading its body: one without the secret token
(anyone can post to a public URL), and one larger than any update Telegram sends; and it answers
an update only once it was handled.

python-telegram-bot's webhook server (tornado) reads a request's whole body (up to tornado's
100 MB) and only then checks the secret token; it answers 200 as soon as the update is in its
queue, so an update in flight when the process dies is gone (Telegram posts again only what was
not answered). Its handler is swapped here for one that streams the body and checks the headers
first, and answers after the update's turn ended (as long polling confirms it only then, see
offsets.py); the server gets a body size limit. Both through python-telegram-bot's and tornado's
objects after start_webhook built them (no hook for it).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from http import HTTPStatus

import tornado.web
from telegram import Bot, Update
from telegram.ext import Updater
from telegram.ext._utils.webhookhandler import TelegramHandler, WebhookServer

# An update holds at most a 4096-character message with its entities and the message it replies
# to: far below this.
MAX_UPDATE_BYTES = 1024 * 1024
# Telegram waits 60 s for a webhook's answer, then closes the connection and posts the update
# again (tdlib/telegram-bot-api issues 211 and 341). A turn held up longer (by the rate limiter,
# or retries against a failing Bot API) is answered after this many seconds anyway and goes on:
# else Telegram would post it again while it still runs.
ANSWER_WITHIN = 50.0

log = logging.getLogger(__name__)


class PendingAnswers:
    """The webhook requests waiting for their update to be handled. By the update object the
    request handed to python-telegram-bot, not by its id: Telegram may post one id twice at
    once, and the second copy (skipped, see redelivery.py) ends before the first."""

    def __init__(self) -> None:
        self._waiting: dict[int, asyncio.Future[None]] = {}

    def expect(self, update: Update) -> asyncio.Future[None]:
        handled = self._waiting[id(update)] = asyncio.get_running_loop().create_future()
        return handled

    def forget(self, update: Update) -> None:
        self._waiting.pop(id(update), None)

    def done(self, update: Update) -> None:
        """The update's turn ended (offsets.Confirming): its request is answered."""
        handled = self._waiting.pop(id(update), None)
        if handled is not None and not handled.done():
            handled.set_result(None)


class _Expecting:
    """The update queue as one request's handler sees it: the update it puts in is expected."""

    def __init__(self, queue: asyncio.Queue[object], answers: PendingAnswers) -> None:
        self.queue = queue
        self.answers = answers
        self.update: Update | None = None
        self.handled: asyncio.Future[None] | None = None

    async def put(self, update: Update) -> None:
        self.update, self.handled = update, self.answers.expect(update)
        await self.queue.put(update)


@tornado.web.stream_request_body
class HeadersFirst(TelegramHandler):
    """TelegramHandler, with the content type and secret token checked on the headers; the body
    is only read after they passed. `refused()` is called for each request refused so. The
    answer comes once the update was handled (`answers`), ANSWER_WITHIN seconds at most; none
    comes when the connection closed meanwhile (the server stopping, or Telegram giving up):
    Telegram posts the update again, and what was done of it is not done twice
    (redelivery.py)."""

    def initialize(  # type: ignore[override]  # tornado passes the rule's target_kwargs
        self,
        bot: Bot,
        update_queue: asyncio.Queue[object],
        secret_token: str,
        refused: Callable[[], None],
        answers: PendingAnswers,
    ) -> None:
        self.expecting = _Expecting(update_queue, answers)
        super().initialize(bot, self.expecting, secret_token)  # type: ignore[arg-type]
        self.refused = refused
        self.closed = asyncio.get_running_loop().create_future()

    def on_connection_close(self) -> None:
        if not self.closed.done():
            self.closed.set_result(None)

    def prepare(self) -> None:
        try:
            self._validate_post()  # HTTPError(403): refused, the connection closed unread
        except tornado.web.HTTPError:
            self.refused()
            raise
        self._chunks: list[bytes] = []

    def data_received(self, chunk: bytes) -> None:
        self._chunks.append(chunk)

    async def post(self) -> None:
        self.request.body = b"".join(self._chunks)
        try:
            await super().post()
        except tornado.web.HTTPError as error:
            if error.status_code != HTTPStatus.BAD_REQUEST:
                raise
            # python-telegram-bot could not read the update (logged, so counted and redacted):
            # skipped once, as in long polling, since Telegram posts a refused one again
            self.set_status(HTTPStatus.OK)
            return
        expecting = self.expecting
        if expecting.update is None or expecting.handled is None:
            return  # nothing to handle (an empty update)
        try:
            await asyncio.wait(
                {expecting.handled, self.closed},
                timeout=ANSWER_WITHIN,
                return_when=asyncio.FIRST_COMPLETED,
            )
        finally:
            expecting.answers.forget(expecting.update)
        if not expecting.handled.done() and not self.closed.done():
            log.warning("webhook answered before its update was handled: it took too long")


def guard_webhook(updater: Updater, refused: Callable[[], None], answers: PendingAnswers) -> None:
    """After start_webhook: the headers-first handler (counting what it refuses, answering
    when `answers` says the update was handled) and the body size limit."""
    server = getattr(updater, "_httpd", None)
    if not isinstance(server, WebhookServer):
        raise RuntimeError("python-telegram-bot's webhook server is not running")
    http_server = server._http_server
    http_server.conn_params.max_body_size = MAX_UPDATE_BYTES
    application = http_server.request_callback
    assert isinstance(application, tornado.web.Application)
    for rule in application.wildcard_router.rules:
        if rule.target is TelegramHandler:
            rule.target = HeadersFirst
            rule.target_kwargs = {**rule.target_kwargs, "refused": refused, "answers": answers}
