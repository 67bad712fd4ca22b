"""The python-telegram-bot Application of Wegweiser, assembled in one place from settings.

`wegweiser run` and the end-to-end tests build it the same way; the tests only point it at the fake
Bot API server on 127.0.0.1 and shorten the waits.
"""

from __future__ import annotations

import datetime
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from telegram import BotCommand, Update
from telegram.error import TelegramError
from telegram.ext import (
    Application,
    ApplicationBuilder,
    CallbackQueryHandler,
    ChatMemberHandler,
    ContextTypes,
    MessageHandler,
    TypeHandler,
    filters,
)

from bot.channels.telegram.conversation import Conversations, utc_now
from bot.channels.telegram.ordering import FloodGate, PersonByPerson
from bot.channels.telegram.retry import RetryingRateLimiter
from bot.config import Deployment
from bot.dialogue import Engine
from bot.store import SecretKeys, SQLiteStore

log = logging.getLogger(__name__)

# The updates the bot asks Telegram for; edited messages are not among them on purpose: an edit
# of something already answered gets no second answer.
ALLOWED_UPDATES = [
    Update.MESSAGE,
    Update.CALLBACK_QUERY,
    Update.MY_CHAT_MEMBER,
    Update.CHANNEL_POST,
]
# Telegram takes command menus and descriptions for two-letter language codes only.
TELEGRAM_LANGUAGE_CODE_LENGTH = 2
CONCURRENT_UPDATES = 64


@dataclass(frozen=True)
class BotSetup:
    """Everything the application needs besides the engine."""

    token: str
    api_url: str
    database: Path
    keys: SecretKeys
    deployment: Deployment
    staff_chat_id: int | None = None
    # Waits before retrying a call that timed out or met a server error, and the read timeout.
    retry_delays: Sequence[float] = (1.0, 3.0, 10.0)
    read_timeout: float = 10.0


def build_application(engine: Engine, setup: BotSetup) -> Application:
    """The application with its handlers, its session store (opened on start, closed on stop)
    and the purge job. Nothing is sent to Telegram until it is initialised."""
    deployment = setup.deployment
    conversations = Conversations(
        engine,
        setup.keys,
        idle=datetime.timedelta(hours=deployment.sessions.idle_hours),
        staff_chat_id=setup.staff_chat_id,
    )
    gate = FloodGate(deployment.limits.burst, deployment.limits.per_minute)

    async def start(application: Application) -> None:
        conversations.attach(await SQLiteStore.open(setup.database))
        await publish_profile(application, engine)
        interval = datetime.timedelta(minutes=deployment.sessions.purge_every_minutes)
        assert application.job_queue is not None  # installed with python-telegram-bot[job-queue]
        application.job_queue.run_repeating(purge, interval=interval, first=interval)

    async def stop(application: Application) -> None:
        if conversations.store is not None:
            await conversations.store.close()

    async def purge(context: ContextTypes.DEFAULT_TYPE) -> None:
        if conversations.store is None:
            return
        purged = await conversations.store.purge(utc_now())
        if purged:
            log.info("expired sessions deleted", extra={"sessions": purged})

    application = (
        ApplicationBuilder()
        .token(setup.token)
        .base_url(setup.api_url)
        .rate_limiter(RetryingRateLimiter(delays=setup.retry_delays))
        .concurrent_updates(
            PersonByPerson(CONCURRENT_UPDATES, gate, on_refused=conversations.on_refused)
        )
        .read_timeout(setup.read_timeout)
        .write_timeout(setup.read_timeout)
        .post_init(start)
        .post_shutdown(stop)
        .build()
    )
    private = filters.ChatType.PRIVATE
    application.add_handlers(
        [
            MessageHandler(private & filters.UpdateType.MESSAGE, conversations.on_message),
            CallbackQueryHandler(conversations.on_button),
            ChatMemberHandler(conversations.on_member_change, ChatMemberHandler.MY_CHAT_MEMBER),
            MessageHandler(
                ~private & (filters.UpdateType.MESSAGE | filters.UpdateType.CHANNEL_POST),
                conversations.on_other_chat,
            ),
            TypeHandler(Update, ignore),
        ]
    )
    application.add_error_handler(conversations.on_error)
    return application


async def ignore(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Any other update (an edit, a reaction, ...) gets a deliberate silence."""


async def publish_profile(application: Application, engine: Engine) -> None:
    """The command menu and the descriptions, in the default language for everybody and in each
    other offered language that Telegram can tell apart. A failure is logged and the bot runs on:
    none of this is needed to answer people."""
    bot = application.bot
    default = engine.default_language
    for language in engine.languages:
        code = None if language == default else language
        if code is not None and len(code) != TELEGRAM_LANGUAGE_CODE_LENGTH:
            continue
        profile = engine.profile(language)
        if code is not None and profile == engine.profile(default):
            continue  # not translated: the default texts are shown anyway
        commands = [BotCommand(name, text) for name, text in profile.commands.items()]
        calls = {
            "setMyCommands": bot.set_my_commands(commands, language_code=code),
            "setMyDescription": bot.set_my_description(profile.description, language_code=code),
            "setMyShortDescription": bot.set_my_short_description(
                profile.short_description, language_code=code
            ),
        }
        for method, call in calls.items():
            try:
                await call
            except TelegramError as error:
                log.warning(
                    "could not set the bot's profile; running on without it",
                    extra={"method": method, "language": language, "error": str(error)},
                )


def webhook_options(url: str, keys: SecretKeys, listen: str, port: int) -> dict[str, object]:
    """Arguments of run_webhook: Telegram posts to `url` with a secret token derived from the
    secret key; requests without it are refused by python-telegram-bot's webhook server."""
    return {
        "listen": listen,
        "port": port,
        "url_path": urlsplit(url).path.lstrip("/"),
        "webhook_url": url,
        "secret_token": keys.webhook_secret(),
        "allowed_updates": ALLOWED_UPDATES,
    }
