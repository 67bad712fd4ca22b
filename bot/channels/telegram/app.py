"""The python-telegram-bot Application of Wegweiser, assembled in one place from settings.

`wegweiser run` and the end-to-end tests build it the same way; the tests only point it at the fake
Bot API server on 127.0.0.1 and shorten the waits.
"""

from __future__ import annotations

import asyncio
import datetime
import logging
import signal
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from telegram import Bot, Update
from telegram.error import TelegramError
from telegram.ext import (
    Application,
    ApplicationBuilder,
    CallbackQueryHandler,
    ChatMemberHandler,
    ContextTypes,
    Defaults,
    MessageHandler,
    TypeHandler,
    filters,
)

from bot.channels.telegram.cases import CASE_PREFIX, CaseDesk
from bot.channels.telegram.conversation import Conversations, utc_now
from bot.channels.telegram.operations import OperationsServer
from bot.channels.telegram.ordering import FloodGate, PersonByPerson
from bot.channels.telegram.profile import publish_profile
from bot.channels.telegram.retry import RetryingRateLimiter
from bot.channels.telegram.staff import Staff
from bot.config import Deployment
from bot.dialogue import Engine
from bot.live_flows import LiveFlows
from bot.store import SecretKeys, SQLiteStore

log = logging.getLogger(__name__)

# The updates the bot asks Telegram for. An edited message is mirrored when it was relayed in a
# counsellor conversation; any other edit gets no second answer.
ALLOWED_UPDATES = [
    Update.MESSAGE,
    Update.EDITED_MESSAGE,
    Update.CALLBACK_QUERY,
    Update.MY_CHAT_MEMBER,
    Update.CHANNEL_POST,
]
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
    # Flow reloads (SIGHUP, /reload, changed files); None: the flow stays as started.
    live_flows: LiveFlows | None = None
    # (address, port) of /healthz and /metrics; None: switched off. Port 0: any free port.
    operations: tuple[str, int] | None = None


@dataclass
class Running:
    """What a started application has besides python-telegram-bot's own: the tests read it."""

    conversations: Conversations
    staff: Staff
    desk: CaseDesk | None = None
    operations: OperationsServer | None = None


def build_application(engine: Engine, setup: BotSetup) -> Application:
    """The application with its handlers, its session store (opened on start, closed on stop),
    the purge job, and the optional flow reloads and operations endpoints. Nothing is sent to
    Telegram until it is initialised. `application.bot_data["wegweiser"]` is its `Running`."""
    deployment = setup.deployment
    teams = deployment.teams(setup.staff_chat_id)
    staff_chats = frozenset({team.chat_id for team in teams})
    if setup.staff_chat_id is not None:
        staff_chats |= {setup.staff_chat_id}
    conversations = Conversations(
        engine,
        setup.keys,
        idle=datetime.timedelta(hours=deployment.sessions.idle_hours),
        case_idle=datetime.timedelta(days=deployment.handover.idle_days),
        staff_chats=staff_chats,
        message_after_exit=deployment.safety.message_after_exit,
    )
    desk = (
        CaseDesk(
            conversations,
            setup.keys,
            teams,
            deployment.handover,
            deployment.timezone,
            erase_staff_copies=deployment.safety.erase_staff_copies,
        )
        if teams
        else None
    )
    report_to = setup.staff_chat_id or next((team.chat_id for team in teams), None)
    staff = Staff(conversations, staff_chats, report_to, setup.live_flows)
    running = Running(conversations, staff, desk)
    gate = FloodGate(deployment.limits.burst, deployment.limits.per_minute)
    health = HealthChecks(conversations)

    async def start(application: Application) -> None:
        conversations.attach(await SQLiteStore.open(setup.database))
        health.bot = application.bot
        await publish_profile(application, engine)
        interval = datetime.timedelta(minutes=deployment.sessions.purge_every_minutes)
        assert application.job_queue is not None  # installed with python-telegram-bot[job-queue]
        application.job_queue.run_repeating(purge, interval=interval, first=interval)
        vanish = deployment.safety.disappearing_check_seconds
        application.job_queue.run_repeating(conversations.delete_due, interval=vanish, first=1)
        if setup.live_flows is not None:
            watch = deployment.reload.watch_seconds
            if watch:
                application.job_queue.run_repeating(staff.watch, interval=watch, first=watch)
            _on_hangup(
                lambda: application.create_task(staff.reload_and_tell(application, "SIGHUP"))
            )
        if desk is not None:
            every = max(1.0, min(60.0, deployment.handover.claim_minutes * 60 / 4))
            application.job_queue.run_repeating(desk.check_unclaimed, interval=every, first=every)
        if setup.operations is not None:
            running.operations = OperationsServer(
                *setup.operations, health.check, conversations.metrics
            )
            running.operations.start()

    async def stop(application: Application) -> None:
        _on_hangup(None)
        if running.operations is not None:
            await running.operations.stop()
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
        .defaults(
            Defaults(
                disable_notification=deployment.safety.silent or None,
                protect_content=deployment.safety.protect_content or None,
            )
        )
        .post_init(start)
        .post_shutdown(stop)
        .build()
    )
    application.bot_data["wegweiser"] = running
    private = filters.ChatType.PRIVATE

    async def staff_message(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """In a staff group: /stats and /reload, else the case desk (replies, /close, /alias)."""
        if not await staff.on_command(update, context) and desk is not None:
            await desk.on_staff_message(update, context)

    staff_handlers = []
    if staff_chats:
        in_staff = filters.Chat(list(staff_chats))
        staff_handlers.append(MessageHandler(in_staff & filters.UpdateType.MESSAGE, staff_message))
    case_handlers = []
    if desk is not None:
        case_handlers = [
            CallbackQueryHandler(desk.on_staff_button, pattern=rf"^{CASE_PREFIX}\|"),
            MessageHandler(filters.UpdateType.EDITED_MESSAGE, desk.on_edit),
        ]
    application.add_handlers(
        [
            MessageHandler(private & filters.UpdateType.MESSAGE, conversations.on_message),
            *case_handlers,
            CallbackQueryHandler(conversations.on_button),
            ChatMemberHandler(conversations.on_member_change, ChatMemberHandler.MY_CHAT_MEMBER),
            *staff_handlers,
            MessageHandler(
                ~private & (filters.UpdateType.MESSAGE | filters.UpdateType.CHANNEL_POST),
                conversations.on_other_chat,
            ),
            TypeHandler(Update, ignore),
        ]
    )
    application.add_error_handler(conversations.on_error)
    return application


def _on_hangup(callback: Callable[[], object] | None) -> None:
    """Reload on SIGHUP (as daemons do), or stop doing so; nothing where there is no SIGHUP."""
    hangup = getattr(signal, "SIGHUP", None)
    if hangup is None:
        return
    loop = asyncio.get_running_loop()
    if callback is None:
        loop.remove_signal_handler(hangup)
    else:
        loop.add_signal_handler(hangup, callback)


class HealthChecks:
    """/healthz: the database takes writes, a flow is loaded, and the Bot API answers (asked at
    most every BOT_API_EVERY seconds, so that probes do not use up the bot's rate limit)."""

    BOT_API_EVERY = 30.0

    def __init__(self, conversations: Conversations) -> None:
        self.conversations = conversations
        self.bot: Bot | None = None
        self._api_checked = (float("-inf"), False)

    async def check(self) -> dict[str, bool]:
        store = self.conversations.store
        return {
            "database": store is not None and await store.writable(),
            "flows": bool(self.conversations.engine.flow.nodes),
            "bot_api": await self._bot_api(),
        }

    async def _bot_api(self) -> bool:
        checked_at, answered = self._api_checked
        now = time.monotonic()
        if now - checked_at < self.BOT_API_EVERY:
            return answered
        try:
            answered = self.bot is not None and bool(await self.bot.get_me())
        except TelegramError:
            answered = False
        self._api_checked = (now, answered)
        return answered


async def ignore(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Any other update (an edit, a reaction, ...) gets a deliberate silence."""


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
