"""The webhook server refuses a request before reading its body: one without the secret token
(anyone can post to a public URL), and one larger than any update Telegram sends.

python-telegram-bot's webhook server (tornado) reads a request's whole body (up to tornado's
100 MB) and only then checks the secret token. Its handler is swapped here for one that streams
the body and checks the headers first, and the server gets a body size limit; both through
python-telegram-bot's and tornado's objects after start_webhook built them (no hook for it).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import tornado.web
from telegram import Bot
from telegram.ext import Updater
from telegram.ext._utils.webhookhandler import TelegramHandler, WebhookServer

# An update holds at most a 4096-character message with its entities and the message it replies
# to: far below this.
MAX_UPDATE_BYTES = 1024 * 1024


@tornado.web.stream_request_body
class HeadersFirst(TelegramHandler):
    """TelegramHandler, with the content type and secret token checked on the headers; the body
    is only read after they passed. `refused()` is called for each request refused so."""

    def initialize(  # type: ignore[override]  # tornado passes the rule's target_kwargs
        self,
        bot: Bot,
        update_queue: asyncio.Queue[object],
        secret_token: str,
        refused: Callable[[], None],
    ) -> None:
        super().initialize(bot, update_queue, secret_token)
        self.refused = refused

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
        await super().post()


def guard_webhook(updater: Updater, refused: Callable[[], None]) -> None:
    """After start_webhook: the headers-first handler (counting what it refuses) and the body
    size limit."""
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
            rule.target_kwargs = {**rule.target_kwargs, "refused": refused}
